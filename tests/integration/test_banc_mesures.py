"""The benchmark's in-process measures (`bench/principal.py`) report a ratio to a baseline measured
in turns with the figure, never before or after it alone: the rebuild between two raw passes over
the log, the bookings in slices alternating with raw INSERTs. What is checked here is the report's
arithmetic and what the measures leave behind, on a small generated commune; timings themselves
are the benchmark's business."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from portail.bootstrap import construire_services
from portail.generation import ANNEE, HorlogeSimulee, generer
from portail.settings import Settings
from portail.store.database import BaseDeDonnees

# `bench/` lives beside src/, outside the installed package (as `portail bench` finds it).
RACINE = Path(__file__).resolve().parents[2]
if str(RACINE) not in sys.path:
    sys.path.insert(0, str(RACINE))

from bench.principal import TRANCHES, mesurer_reconstruction, mesurer_reservations  # noqa: E402

ENFANTS = 20


def _tables_brutes(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'bench\\_brut\\_%%'"
            ).fetchall()
        ]


@pytest.mark.postgres
def test_les_mesures_en_processus_alternent_avec_leur_reference(
    url_postgres: str, settings: Settings, base: BaseDeDonnees
) -> None:
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    services = construire_services(settings, base, horloge)
    try:
        commune = generer(services, horloge, ENFANTS, 3)
    finally:
        services.portail.close()
    tables_avant = _tables_brutes(url_postgres)

    reconstruction = mesurer_reconstruction(settings, base)
    # Two raw passes around the rebuild, each over the whole log; the baseline is their sum.
    assert len(reconstruction["raw_passes_events_per_s"]) == 2
    assert all(v > 0 for v in reconstruction["raw_passes_events_per_s"])
    assert reconstruction["events"] == reconstruction["log_events"] == commune.evenements
    assert reconstruction["ratio"] == pytest.approx(
        reconstruction["events_per_s"] / reconstruction["raw_read_decode_events_per_s"], rel=0.01
    )

    reservations = mesurer_reservations(settings, base, commune, 0.6)
    tranches = reservations["slices"]
    assert len(tranches) == TRANCHES
    assert all(t["raw_insert_tx_per_s"] > 0 for t in tranches)
    assert reservations["commands"] > 0
    assert reservations["ratio"] == pytest.approx(
        reservations["commands_per_s"] / reservations["raw_insert_tx_per_s"], rel=0.01
    )
    # The baseline's table goes with the measure.
    assert _tables_brutes(url_postgres) == tables_avant
