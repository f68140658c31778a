"""A process that starts (and creates the read models' tables if missing) while a runner applies a
page waits for that page instead of deadlocking with it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from portail.bootstrap import construire_services
from portail.generation import HorlogeSimulee
from portail.projections.executeur import NOM, creer_vues

pytestmark = pytest.mark.postgres


def test_un_processus_qui_demarre_pendant_une_page_du_runner_l_attend(settings, base) -> None:
    services = construire_services(settings, base, HorlogeSimulee(datetime(2026, 9, 1, 8, tzinfo=UTC)))
    try:
        datastore = services.portail.factory.datastore  # type: ignore[attr-defined]
        erreurs: list[BaseException] = []

        def demarrer() -> None:
            try:
                creer_vues(datastore)
            except BaseException as erreur:  # reported below, in the test's thread
                erreurs.append(erreur)

        with psycopg.connect(base.url) as page:
            # A page as the runner writes it: the tracking row, then a table the start's
            # statements also touch.
            page.execute(
                sql.SQL("UPDATE {} SET position = position WHERE nom = %s").format(
                    sql.Identifier(base.schema, "proj_tracking")
                ),
                (NOM,),
            )
            demarrage = threading.Thread(target=demarrer)
            demarrage.start()
            time.sleep(0.5)
            page.execute(
                sql.SQL("LOCK TABLE {} IN ROW EXCLUSIVE MODE").format(
                    sql.Identifier(base.schema, "proj_calendrier")
                )
            )
            page.commit()
        demarrage.join(timeout=10)
        assert not demarrage.is_alive()
        assert erreurs == []
    finally:
        services.portail.close()
