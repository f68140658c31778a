"""The large-commune deployment: `api` processes without projections beside one `worker`, and
scheduler candidates of which exactly one leads."""

from __future__ import annotations

import threading

import psycopg
import pytest
from litestar.testing import TestClient

from portail.api.app import construire_services, create_app
from portail.jobs.planificateur import Planificateur

from outils_http import compte_personnel, nouvelle_famille
from outils_reservation import accueil_periscolaire

pytestmark = pytest.mark.postgres


def _attendre_fin_de_session(url: str, pid: int) -> None:
    """pg_terminate_backend only signals: the lock goes when the server process has exited."""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(10_000):
            if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() == (
                0,
            ):
                return
            threading.Event().wait(0.01)
    raise AssertionError("la session du leader ne se termine pas")


def test_un_seul_planificateur_mene_et_un_autre_prend_le_relais(services, base) -> None:
    premier = Planificateur(services, base, taches=())
    second = Planificateur(services, base, taches=())
    try:
        assert premier.veiller() is True
        assert second.veiller() is False
        # Standby and leader keep their roles, look after look.
        assert second.veiller() is False
        assert premier.veiller() is True
        # The leader's process dies: its session is cut, the server frees the lock.
        pid = premier.candidat.pid
        assert pid is not None
        with psycopg.connect(base.url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        _attendre_fin_de_session(base.url, pid)
        assert second.veiller() is True
        # The old leader notices and stops its jobs; it is now the standby.
        assert premier.veiller() is False
        assert premier.leader is False
    finally:
        premier.arreter()
        second.arreter()


def test_un_leader_qui_s_arrete_rend_la_main(services, base) -> None:
    premier = Planificateur(services, base, taches=())
    second = Planificateur(services, base, taches=())
    try:
        assert premier.veiller() is True
        assert second.veiller() is False
        premier.arreter()
        assert second.veiller() is True
    finally:
        second.arreter()


def test_un_autre_schema_a_son_propre_leader(services, base, url_postgres) -> None:
    from portail.store.database import BaseDeDonnees

    ici = Planificateur(services, base, taches=())
    ailleurs = Planificateur(services, BaseDeDonnees(url_postgres, f"{base.schema}_autre"), taches=())
    try:
        assert ici.veiller() is True
        assert ailleurs.veiller() is True
    finally:
        ici.arreter()
        ailleurs.arreter()


def test_api_sans_projections_repond_apres_le_worker(settings, base, horloge) -> None:
    """An `api` process applies no event itself; its answer waits for the worker's position."""
    from datetime import UTC, datetime

    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    worker = construire_services(settings, base, horloge)
    assert worker.projecteur is not None
    demande = threading.Event()
    arret = threading.Event()

    def suivre_le_journal() -> None:
        # The worker runs only while a request waits for it: an answer that did not wait would
        # read the views before it.
        while not arret.is_set():
            if demande.wait(0.05):
                demande.clear()
                worker.projecteur.rattraper()

    fil = threading.Thread(target=suivre_le_journal, daemon=True)
    try:
        with TestClient(app=create_app(settings, horloge=horloge, base=base, projections=False)) as client:
            api = client.app.state.services
            assert api.projecteur is None
            attendre = api.suivi.attendre

            def attendre_le_worker(position: int, delai: float = 2.0) -> bool:
                demande.set()
                return attendre(position, delai)

            api.suivi.attendre = attendre_le_worker
            admin = compte_personnel(client, "admin@mairie.fr", "admin")
            parent = nouvelle_famille(client, "rvw@example.fr")
            assert client.get("/ready").json()["retard_projections"] > 0
            fil.start()
            cree = admin.post("/api/admin/accueils", json=accueil_periscolaire())
            assert cree.status_code == 201, cree.text
            # Read at once, from the views the worker keeps: the new accueil is there.
            accueils = parent.get("/api/accueils").json()
            assert [a["id"] for a in accueils] == [cree.json()["id"]]
            assert client.get("/ready").json()["retard_projections"] == 0
    finally:
        arret.set()
        if fil.is_alive():
            fil.join()
        worker.portail.close()
