"""A listener gathers the notifications of a stream, and still delivers a lone one at once."""

from __future__ import annotations

import threading
import time

import psycopg
from eventsourcing.postgres import PostgresDatastore

from portail.store.ecoute import Ecoute

CANAL = "portail_test_regroupement"


def _datastore(url: str) -> PostgresDatastore:
    infos = psycopg.conninfo.conninfo_to_dict(url)
    return PostgresDatastore(
        dbname=str(infos.get("dbname", "postgres")),
        host=str(infos.get("host", "127.0.0.1")),
        port=str(infos.get("port", "5432")),
        user=str(infos.get("user", "postgres")),
        password=str(infos.get("password", "")),
        pool_size=1,
    )


def test_les_notifications_d_un_flot_arrivent_ensemble(url_postgres: str) -> None:
    pause = 0.5
    recues: list[tuple[float, str]] = []
    arrivee = threading.Event()

    def reveil(charge: str | None) -> None:
        if charge is not None:
            recues.append((time.monotonic(), charge))
            arrivee.set()

    datastore = _datastore(url_postgres)
    ecoute = Ecoute(datastore, [CANAL], reveil, "portail-test-regroupement", regroupement=pause)
    ecoute.demarrer()
    try:
        assert ecoute.active.wait(5)
        with psycopg.connect(url_postgres, autocommit=True) as conn:
            envoi = time.monotonic()
            conn.execute("SELECT pg_notify(%s, 'seule')", (CANAL,))
            # A notification after a quiet while is not held back.
            assert arrivee.wait(pause * 0.8), "la première notification a attendu la pause"
            premiere = recues[0][0]
            for n in range(5):
                conn.execute("SELECT pg_notify(%s, %s)", (CANAL, f"flot {n}"))
        fin = time.monotonic() + 5
        while len(recues) < 6 and time.monotonic() < fin:
            time.sleep(0.01)
        assert [c for _, c in recues] == ["seule", *(f"flot {n}" for n in range(5))]
        assert premiere - envoi < pause
        # The five sent during the pause waited for its end, and were read by one wake.
        instants = [t for t, _ in recues[1:]]
        assert min(instants) >= premiere + pause * 0.9
        assert max(instants) - min(instants) < pause / 2
    finally:
        debut = time.monotonic()
        ecoute.arreter()
        arret = time.monotonic() - debut
        datastore.close()
    # Stopping does not wait for a pause to end.
    assert arret < pause * 4


def test_l_arret_interrompt_la_pause(url_postgres: str) -> None:
    pause = 30.0
    recue = threading.Event()
    datastore = _datastore(url_postgres)
    ecoute = Ecoute(
        datastore, [CANAL], lambda c: recue.set() if c else None, "portail-test-arret", regroupement=pause
    )
    ecoute.demarrer()
    try:
        assert ecoute.active.wait(5)
        with psycopg.connect(url_postgres, autocommit=True) as conn:
            conn.execute("SELECT pg_notify(%s, 'x')", (CANAL,))
        assert recue.wait(5)
    finally:
        debut = time.monotonic()
        ecoute.arreter()
        datastore.close()
    assert time.monotonic() - debut < 5
