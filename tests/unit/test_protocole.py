"""The HTTP protocol's transport: a response's writes of one turn of the loop leave as one."""

from __future__ import annotations

import asyncio
import http.client
import threading
from typing import Any

import uvicorn

from portail.api.protocole import ProtocoleHttp, TransportGroupe


class _Transport:
    def __init__(self) -> None:
        self.ecrits: list[bytes] = []
        self.ferme = False
        self.avorte = False

    def write(self, donnees: bytes) -> None:
        self.ecrits.append(donnees)

    def is_closing(self) -> bool:
        return self.ferme or self.avorte

    def close(self) -> None:
        self.ferme = True

    def abort(self) -> None:
        self.avorte = True

    def get_extra_info(self, nom: str) -> Any:
        return ("127.0.0.1", 8000) if nom == "peername" else None


def test_les_ecritures_d_un_tour_de_boucle_partent_ensemble() -> None:
    async def scenario() -> list[list[bytes]]:
        transport = _Transport()
        groupe = TransportGroupe(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        groupe.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        groupe.write(b"ok")
        vus = [list(transport.ecrits)]
        await asyncio.sleep(0)
        vus.append(list(transport.ecrits))
        groupe.write(b"suite")
        await asyncio.sleep(0)
        vus.append(list(transport.ecrits))
        return vus

    avant, apres, ensuite = asyncio.run(scenario())
    assert avant == []
    assert apres == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    assert ensuite == [*apres, b"suite"]


def test_fermer_envoie_d_abord_ce_qui_attend_et_avorter_l_abandonne() -> None:
    async def scenario() -> tuple[_Transport, _Transport, str]:
        boucle = asyncio.get_running_loop()
        ferme, avorte = _Transport(), _Transport()
        un = TransportGroupe(ferme, boucle)  # type: ignore[arg-type]
        un.write(b"fin")
        un.close()
        deux = TransportGroupe(avorte, boucle)  # type: ignore[arg-type]
        deux.write(b"perdu")
        deux.abort()
        await asyncio.sleep(0)
        return ferme, avorte, un.get_extra_info("peername")[0]

    ferme, avorte, adresse = asyncio.run(scenario())
    assert ferme.ecrits == [b"fin"] and ferme.ferme
    assert avorte.ecrits == [] and avorte.avorte
    assert adresse == "127.0.0.1"


def test_un_serveur_uvicorn_sur_ce_protocole_repond_sur_une_connexion_gardee() -> None:
    """Two requests on one kept-alive connection, through uvicorn and uvloop as `portail api`
    runs them: each answer complete, headers and body."""

    async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        corps = f"chemin {scope['path']}".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(corps)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": corps})

    config = uvicorn.Config(
        application, host="127.0.0.1", port=0, http=ProtocoleHttp, log_config=None, lifespan="off"
    )
    serveur = uvicorn.Server(config)
    fil = threading.Thread(target=serveur.run, daemon=True)
    fil.start()
    try:
        while not serveur.started:
            threading.Event().wait(0.01)
        port = serveur.servers[0].sockets[0].getsockname()[1]
        connexion = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for chemin in ("/un", "/deux"):
            connexion.request("GET", chemin)
            reponse = connexion.getresponse()
            assert reponse.status == 200
            assert reponse.read() == f"chemin {chemin}".encode()
        connexion.close()
    finally:
        serveur.should_exit = True
        fil.join(timeout=5)
