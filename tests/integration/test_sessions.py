"""Sessions are checked in memory, kept exact by PostgreSQL notifications: a request with a valid
token asks nothing of the database, and a logout or a password change in one process is seen by
another process within a second."""

from __future__ import annotations

import base64
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from eventsourcing.persistence import MapperDeserialisationError
from litestar.testing import TestClient
from psycopg import sql

from outils_sql import instructions
from portail.api import auth
from portail.api.app import create_app
from portail.bootstrap import Services
from portail.domain.compte import Compte

from outils_http import MOT_DE_PASSE, Session, connecter, inscription

pytestmark = pytest.mark.postgres

DELAI_PROPAGATION = 1.0
"""The issue's promise: a revoked token is refused by every process within one second."""


def _attendre(condition: Any, delai: float = 15.0) -> bool:
    fin = time.monotonic() + delai
    while time.monotonic() < fin:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def _services(client: TestClient) -> Services:  # type: ignore[type-arg]
    return client.app.state.services  # type: ignore[no-any-return]


def _jti(jeton: str) -> str:
    charge = jeton.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(charge + "=" * (-len(charge) % 4)))["jti"])


def _compter_sauts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The functions the authentication hands to a worker thread, from now on."""
    sauts: list[object] = []
    vrai_saut = auth.anyio.to_thread.run_sync

    async def compter_saut(fonction: Any, *args: Any, **kw: Any) -> Any:
        sauts.append(fonction)
        return await vrai_saut(fonction, *args, **kw)

    monkeypatch.setattr(auth.anyio.to_thread, "run_sync", compter_saut)
    return sauts


@pytest.fixture
def client_pret(client: TestClient) -> TestClient:  # type: ignore[type-arg]
    sessions = _services(client).comptes.sessions
    assert sessions is not None
    assert _attendre(sessions.fiable), "l'écoute des invalidations ne démarre pas"
    return client


def test_une_requete_avec_un_jeton_valide_ne_demande_rien_a_la_base(client_pret, monkeypatch) -> None:
    client_pret.post("/api/inscription", json=inscription("memoire@example.fr"))
    parent = connecter(client_pret, "memoire@example.fr")
    sv = _services(client_pret)
    sauts = _compter_sauts(monkeypatch)
    # A staff route refused by its guard: after authentication, the request itself reads nothing.
    assert parent.get("/api/agent/occupation").status_code == 403
    # The first request of the account reads its state on the event loop, no thread (the account
    # itself is among the aggregates the process kept at login, so even that reads nothing).
    assert sauts == []
    with instructions(sv) as suivante:
        assert parent.get("/api/agent/occupation").status_code == 403
    assert suivante == []
    assert sauts == []


def test_le_premier_appel_d_un_compte_se_lit_sur_la_boucle_en_une_instruction(
    client_pret, monkeypatch
) -> None:
    """An account this process does not keep (another process logged it in): its state is read by
    one awaited statement, without a worker thread; an account that no longer exists is refused."""
    client_pret.post("/api/inscription", json=inscription("boucle@example.fr"))
    parent = connecter(client_pret, "boucle@example.fr")
    sv = _services(client_pret)
    assert sv.lecteur_async is not None
    compte_id = uuid.UUID(parent.compte_id)
    sv.comptes.oublier_sessions(compte_id)
    sv.portail.cache.retirer([compte_id])
    sauts = _compter_sauts(monkeypatch)
    with instructions(sv) as envoyees:
        assert parent.get("/api/agent/occupation").status_code == 403
    assert (len(envoyees), sauts) == (1, []), envoyees
    assert sv.comptes.etat_en_memoire(compte_id) is not None

    # Unknown to the log: refused as an invalid session, still without a thread.
    sv.comptes.oublier_sessions(compte_id)
    sv.portail.cache.retirer([compte_id])
    inconnu = uuid.uuid4()
    monkeypatch.setattr(
        sv.jetons,
        "lire",
        lambda jeton, maintenant: {"sub": str(inconnu), "jti": "x", "iat": 0, "exp": 2**31, "csrf": ""},
    )
    assert parent.get("/api/foyer").status_code == 401
    assert sauts == []


def test_une_deconnexion_et_un_mot_de_passe_change_sont_vus_tout_de_suite_ici(client_pret) -> None:
    client_pret.post("/api/inscription", json=inscription("ici@example.fr"))
    premiere = connecter(client_pret, "ici@example.fr")
    seconde = connecter(client_pret, "ici@example.fr")
    assert premiere.get("/api/foyer").status_code == seconde.get("/api/foyer").status_code == 200
    assert premiere.post("/api/auth/deconnexion").status_code == 204
    assert premiere.get("/api/foyer").status_code == 401
    assert seconde.get("/api/foyer").status_code == 200
    changement = seconde.put(
        "/api/moi/mot-de-passe", json={"ancien": MOT_DE_PASSE, "nouveau": "Nouveau-Secret-9"}
    )
    assert changement.status_code == 204
    assert seconde.get("/api/foyer").status_code == 401


def test_une_ecoute_interrompue_oublie_ce_qu_elle_gardait(client_pret, base) -> None:
    client_pret.post("/api/inscription", json=inscription("coupure@example.fr"))
    parent = connecter(client_pret, "coupure@example.fr")
    assert parent.get("/api/foyer").status_code == 200
    sessions = _services(client_pret).comptes.sessions
    assert sessions is not None
    compte_id = uuid.UUID(parent.compte_id)
    assert sessions.compte(compte_id) is not None
    connexions = sessions.ecoute.connexions
    with psycopg.connect(base.url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (sessions.ecoute.pid,))
    lectures = sessions.prechauffages
    # Nothing is trusted from the moment the loss is seen, and the listener comes back.
    assert _attendre(lambda: sessions.ecoute.connexions > connexions and sessions.fiable())
    # What was kept may have missed a notification: it is forgotten and read again from the
    # database, with every account, before any request asks.
    assert _attendre(lambda: sessions.prechauffages > lectures)
    assert sessions.compte(compte_id) is not None
    assert parent.get("/api/foyer").status_code == 200


def test_les_comptes_sont_lus_d_avance_par_un_processus_qui_demarre(
    client, settings, base, horloge, monkeypatch
) -> None:
    """A registration morning: parents who logged in on another process (or before this one
    started) find their session state in memory, so their first request reads nothing; a change
    of their account after that is still seen at once."""
    client.post("/api/inscription", json=inscription("avance@example.fr"))
    parent = connecter(client, "avance@example.fr")
    compte_id = uuid.UUID(parent.compte_id)
    with TestClient(app=create_app(settings, horloge=horloge, base=base)) as autre:
        sv = _services(autre)
        sessions = sv.comptes.sessions
        assert sessions is not None
        assert _attendre(lambda: sessions.fiable() and sessions.prechauffages > 0)
        assert sv.comptes.etat_en_memoire(compte_id) is not None
        ailleurs = Session(autre, parent.jeton, parent.compte_id, parent.famille_id)
        sauts = _compter_sauts(monkeypatch)
        with instructions(sv) as envoyees:
            assert ailleurs.get("/api/agent/occupation").status_code == 403
        assert (envoyees, sauts) == ([], [])
        # The password changed through the first process: the second refuses the old token.
        changement = parent.put(
            "/api/moi/mot-de-passe", json={"ancien": MOT_DE_PASSE, "nouveau": "Nouveau-Secret-9"}
        )
        assert changement.status_code == 204
        assert _attendre(lambda: ailleurs.get("/api/foyer").status_code == 401, DELAI_PROPAGATION)


# Two processes


def _port_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def second_processus(settings, base, tmp_path) -> Iterator[str]:
    """`portail api` in an OS process of its own, on the same database and schema; its URL once it
    checks sessions in memory."""
    port = _port_libre()
    env = {
        **os.environ,
        "PORTAIL_DATABASE_URL": base.url,
        "PORTAIL_DATABASE_SCHEMA": base.schema,
        "PORTAIL_SECRET_KEY": settings.secret_key,
        "PORTAIL_MASTER_KEY": settings.master_key,
        "PORTAIL_DATA_DIR": str(tmp_path / "second"),
        "PORTAIL_LOG_FORMAT": "json",
    }
    processus = subprocess.Popen(
        [sys.executable, "-m", "portail.cli", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lignes: queue.Queue[str] = queue.Queue()
    assert processus.stderr is not None
    flux = processus.stderr
    lecteur = threading.Thread(target=lambda: [lignes.put(ligne) for ligne in flux], daemon=True)
    lecteur.start()
    try:
        fin = time.monotonic() + 60
        while time.monotonic() < fin:
            try:
                ligne = lignes.get(timeout=0.5)
            except queue.Empty:
                assert processus.poll() is None, "le second processus s'est arrêté"
                continue
            if '"invalidation_prete"' in ligne:
                break
        else:
            raise AssertionError("le second processus n'écoute pas les invalidations")
        yield f"http://127.0.0.1:{port}"
    finally:
        processus.terminate()
        try:
            processus.wait(timeout=10)
        except subprocess.TimeoutExpired:
            processus.kill()
            processus.wait()
        lecteur.join(timeout=5)
        flux.close()


def _statut(url: str, jeton: str) -> int:
    return httpx.get(f"{url}/api/foyer", headers={"Authorization": f"Bearer {jeton}"}).status_code


def _refuse_dans_la_seconde(url: str, jeton: str) -> float:
    debut = time.monotonic()
    while time.monotonic() - debut < DELAI_PROPAGATION:
        if _statut(url, jeton) == 401:
            return time.monotonic() - debut
        time.sleep(0.01)
    raise AssertionError(f"jeton encore accepté par l'autre processus après {DELAI_PROPAGATION} s")


def test_deux_processus_une_deconnexion_et_un_mot_de_passe_change_valent_pour_les_deux(
    client_pret, second_processus, base, horloge
) -> None:
    autre = second_processus
    client_pret.post("/api/inscription", json=inscription("deux@example.fr"))
    deconnectee = connecter(client_pret, "deux@example.fr")
    temoin = connecter(client_pret, "deux@example.fr")
    changee = connecter(client_pret, "deux@example.fr")
    for session in (deconnectee, temoin, changee):
        assert _statut(autre, session.jeton) == 200

    # The other process answers from memory: a revocation written behind the application's back
    # (no notification) is not seen there.
    with psycopg.connect(base.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} (jti, expire_le) VALUES (%s, now() + interval '1 hour')").format(
                sql.Identifier(base.schema, "portail_jetons_revoques")
            ),
            (_jti(temoin.jeton),),
        )
    assert _statut(autre, temoin.jeton) == 200

    # A logout through this process: refused by the other within a second.
    assert deconnectee.post("/api/auth/deconnexion").status_code == 204
    _refuse_dans_la_seconde(autre, deconnectee.jeton)
    assert _statut(autre, changee.jeton) == 200

    # A password change through this process voids the older tokens there too.
    reponse = changee.put(
        "/api/moi/mot-de-passe", json={"ancien": MOT_DE_PASSE, "nouveau": "Nouveau-Secret-9"}
    )
    assert reponse.status_code == 204
    _refuse_dans_la_seconde(autre, changee.jeton)
    horloge.avancer(seconds=1)
    nouvelle = connecter(client_pret, "deux@example.fr", "Nouveau-Secret-9")
    assert _statut(autre, nouvelle.jeton) == 200


def test_un_lot_illisible_ne_prive_pas_les_suivants_de_leur_lecture_d_avance(
    client_pret, monkeypatch
) -> None:
    """An altered record among the accounts: its batch is left to the first requests, the others
    are still read ahead."""
    for email in ("premier@example.fr", "second@example.fr"):
        assert client_pret.post("/api/inscription", json=inscription(email)).status_code == 201
    sv = _services(client_pret)
    ids = sv.portail.ids_de(Compte)
    assert len(ids) == 2
    vraie_lecture = sv.portail.lire_lot
    appels: list[int] = []

    def lire_lot(cls: Any, lot: Any) -> Any:
        appels.append(len(lot))
        if len(appels) == 1:
            raise MapperDeserialisationError("enregistrement altéré")
        return vraie_lecture(cls, lot)

    monkeypatch.setattr(sv.portail, "lire_lot", lire_lot)
    sessions = sv.comptes.sessions
    assert sessions is not None
    # The registrations' notifications read first: an invalidation during the reading ahead
    # would drop its batch, as it should.
    dernier = sv.portail.recorder.max_notification_id()
    assert _attendre(lambda: sessions._position == dernier)
    sv.comptes.oublier_sessions(*ids)
    assert sv.comptes.prechauffer_sessions(par_lot=1) == 1
    assert appels == [1, 1]
    assert sv.comptes.etat_en_memoire(ids[0]) is None
    assert sv.comptes.etat_en_memoire(ids[1]) is not None
