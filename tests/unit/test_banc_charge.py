"""The load generator: statistics (percentiles, error counting), request encoding, a connection
per request, the client timeout, the open-files limit."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import resource
import sys
from pathlib import Path
from typing import Any

import pytest

# `bench/` is not a package on the tests' path; the generator is loaded from its file (it needs
# only the standard library and httptools).
_spec = importlib.util.spec_from_file_location(
    "bench_charge", Path(__file__).resolve().parents[2] / "bench" / "charge.py"
)
assert _spec is not None and _spec.loader is not None
charge = importlib.util.module_from_spec(_spec)
sys.modules["bench_charge"] = charge
_spec.loader.exec_module(charge)
Mesure, centile, encoder, resumer = charge.Mesure, charge.centile, charge.encoder, charge.resumer
Generateur, Options, relever_limite_fichiers = (
    charge.Generateur,
    charge.Options,
    charge.relever_limite_fichiers,
)


def test_centile_au_rang_le_plus_proche() -> None:
    valeurs = [float(v) for v in range(1, 101)]
    assert centile(valeurs, 50) == 50.0
    assert centile(valeurs, 99) == 99.0
    assert centile(valeurs, 100) == 100.0
    assert centile([7.0], 99) == 7.0
    assert centile([], 50) == 0.0


def test_resume_compte_erreurs_exceptions_et_reessais() -> None:
    mesures = [
        Mesure(0, 200, du=0.0, fin=0.010),
        Mesure(1, 200, du=0.5, fin=0.520, tentatives=2, intermediaires=[409]),
        Mesure(2, 409, du=1.0, fin=1.030, probleme="Demande déjà en cours"),
        Mesure(3, 0, du=1.5, fin=2.0, exception="TimeoutError"),
    ]
    r = resumer(mesures, duree=2.0, abandonnees=1)
    assert r["requetes"] == 4
    assert r["statuts"] == {"200": 2, "409": 1}
    # Non-2xx answers, requests with no answer and abandoned ones are all errors.
    assert r["erreurs"] == 3
    assert r["exceptions"] == {"TimeoutError": 1}
    assert r["problemes"] == {"409 Demande déjà en cours": 1}
    assert r["statuts_intermediaires"] == {"409": 1}
    assert r["reessais"] == 1
    # Latency counts from when the request was due: 10, 20, 30 and 500 ms.
    assert r["latence_ms"]["p50"] == pytest.approx(20.0)
    assert r["latence_ms"]["max"] == pytest.approx(500.0)
    # Four requests between the first due time (0 s) and the last answer (2 s).
    assert r["debit_obtenu"] == 2.0


def test_encodage_requete_http11() -> None:
    requete = encoder(
        "127.0.0.1",
        8000,
        {
            "methode": "POST",
            "chemin": "/api/x",
            "entetes": {"Idempotency-Key": "k"},
            "corps": {"a": 1},
            "a": 1.5,
        },
    )
    entete, corps = requete.brut.split(b"\r\n\r\n", 1)
    lignes = entete.decode().split("\r\n")
    assert lignes[0] == "POST /api/x HTTP/1.1"
    assert "Host: 127.0.0.1:8000" in lignes
    assert "Idempotency-Key: k" in lignes
    assert "Content-Length: 7" in lignes
    assert corps == b'{"a":1}'
    assert requete.a == 1.5
    get = encoder("127.0.0.1", 8000, {"chemin": "/health"})
    assert get.brut == b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"


async def _servir(connexions: list[asyncio.Task[Any]], repondre: bool) -> asyncio.Server:
    """A loopback HTTP/1.1 server counting its connections; it answers every request, or none (it
    then waits for the client to give up and close)."""

    async def traiter(lecteur: asyncio.StreamReader, ecrivain: asyncio.StreamWriter) -> None:
        tache = asyncio.current_task()
        assert tache is not None
        connexions.append(tache)
        try:
            while True:
                await lecteur.readuntil(b"\r\n\r\n")
                if not repondre:
                    await lecteur.read()
                    return
                ecrivain.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await ecrivain.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            ecrivain.close()
            with contextlib.suppress(ConnectionError):
                await ecrivain.wait_closed()

    return await asyncio.start_server(traiter, "127.0.0.1", 0)


def _generer(options: Options, nombre: int, repondre: bool = True) -> tuple[dict[str, Any], int]:
    """Run the generator on `nombre` GET requests due 5 ms apart; its summary and how many
    connections the server accepted."""
    connexions: list[asyncio.Task[Any]] = []

    async def lancer() -> dict[str, Any]:
        serveur = await _servir(connexions, repondre)
        port = serveur.sockets[0].getsockname()[1]
        requetes = [encoder("127.0.0.1", port, {"chemin": "/health", "a": i * 0.005}) for i in range(nombre)]
        async with serveur:
            resultat: dict[str, Any] = await Generateur(
                f"http://127.0.0.1:{port}", requetes, options
            ).lancer()
            # The server's side of each connection closes once the client's has.
            await asyncio.wait_for(asyncio.gather(*connexions), 10)
            return resultat

    return asyncio.run(lancer()), len(connexions)


def test_une_connexion_par_requete_comme_autant_de_navigateurs() -> None:
    options = Options(horaires=True, connexions=100, nouvelle_connexion=True)
    resume, acceptees = _generer(options, 30)
    assert resume["statuts"] == {"200": 30}
    assert resume["erreurs"] == 0
    assert resume["connexions_ouvertes"] == 30
    assert acceptees == 30


def test_une_requete_sans_reponse_dans_le_delai_compte_comme_non_repondue() -> None:
    options = Options(horaires=True, connexions=10, nouvelle_connexion=True, delai_requete=0.2)
    resume, _ = _generer(options, 3, repondre=False)
    assert resume["statuts"] == {}
    assert resume["exceptions"] == {"TimeoutError": 3}
    assert resume["erreurs"] == 3


def test_la_limite_de_fichiers_ouverts_est_relevee_pour_les_connexions() -> None:
    souple, dure = resource.getrlimit(resource.RLIMIT_NOFILE)
    plafond = dure if dure != resource.RLIM_INFINITY else 1 << 20
    if plafond < 2_048:
        pytest.skip("limite dure trop basse pour l'essai")
    resource.setrlimit(resource.RLIMIT_NOFILE, (1_024, dure))
    try:
        assert relever_limite_fichiers(2_048) == 2_048
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 2_048
        # Never lowered, never past the hard limit.
        assert relever_limite_fichiers(100) == 2_048
        assert relever_limite_fichiers(plafond + 1) == plafond
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (souple, dure))
