"""A rebuild writes the calendar in PostgreSQL's binary COPY format, encoded by us: every field
(units, states, surcharges, billable flag, arrival and departure times, versions, NULLs) must
land as the incremental runner's upsert writes it."""

from __future__ import annotations

import uuid
from datetime import date, time

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from portail.domain.planning import Etat, Pointage
from portail.projections import brouillons, vues
from portail.projections.lot import GARDER, PLANNINGS, Lot, Reperes

ENFANT, ACCUEIL, FAMILLE, PLANNING = (uuid.uuid4() for _ in range(4))
AUTRE_ENFANT, AUTRE_PLANNING = uuid.uuid4(), uuid.uuid4()
AUCUN = (None, None)


def _replier(lot: Lot) -> None:
    lot.ajouter(PLANNINGS, (PLANNING, ENFANT, ACCUEIL, FAMILLE))
    lot.ajouter(PLANNINGS, (AUTRE_PLANNING, AUTRE_ENFANT, ACCUEIL, FAMILLE))
    juin = [date(2026, 6, j) for j in range(1, 6)]
    # Booked with a surcharge, then pointed with its times, then one day cancelled (billable).
    lot.cases(PLANNING, 2, [(j, "SOIR", "reserve", (150, 10), False, AUCUN) for j in juin])
    lot.pointer(PLANNING, 3, [Pointage(juin[0], "SOIR", Etat.PRESENT, time(16, 45), time(18, 5, 30))])
    lot.cases(PLANNING, 4, [(juin[1], "SOIR", "annule", AUCUN, True, AUCUN)])
    # An absence keeps the other fields; a unit with an accent-free long name; a 2030 day.
    lot.cases(PLANNING, 5, [(juin[2], "SOIR", "absent_justifie", GARDER, GARDER, GARDER)])
    lot.cases(AUTRE_PLANNING, 7, [(date(2030, 12, 31), "MIDI", "liste_attente", (None, 25), False, AUCUN)])
    lot.cases(AUTRE_PLANNING, 9, [(date(2030, 12, 31), "MIDI", "reserve", GARDER, GARDER, GARDER)])
    lot.cases(
        AUTRE_PLANNING, 9, [(date(2026, 1, 2), "MATIN", "reserve", GARDER, GARDER, (time(7, 15), None))]
    )


def _calendrier(conn: psycopg.Connection, schema: str) -> list[dict]:
    return conn.execute(
        sql.SQL("SELECT * FROM {} ORDER BY enfant_id, jour, unite").format(
            sql.Identifier(schema, "proj_calendrier")
        )
    ).fetchall()


def _index(conn: psycopg.Connection, schema: str) -> dict[str, str]:
    return {
        r["indexname"]: r["indexdef"].replace(schema, "s") + (" PRIMARY KEY" if r["primaire"] else "")
        for r in conn.execute(
            "SELECT i.indexname, i.indexdef, x.indisprimary AS primaire FROM pg_indexes i"
            " JOIN pg_class c ON c.relname = i.indexname JOIN pg_namespace n ON n.oid = c.relnamespace"
            " AND n.nspname = i.schemaname JOIN pg_index x ON x.indexrelid = c.oid"
            " WHERE i.schemaname = %s AND i.tablename = 'proj_calendrier'",
            (schema,),
        )
    }


@pytest.mark.postgres
def test_la_copie_binaire_du_calendrier_egale_l_ecriture_incrementale(base) -> None:
    schema = base.schema
    with psycopg.connect(base.url, row_factory=dict_row) as conn:
        for instruction in [*vues.ddl(schema), *brouillons.ddl(schema)]:
            conn.execute(instruction)
        incremental = Lot(schema, Reperes())
        _replier(incremental)
        with conn.cursor() as curs:
            incremental.ecrire(curs)
        attendu = _calendrier(conn, schema)
        conn.execute(
            sql.SQL("TRUNCATE {}, {}").format(
                sql.Identifier(schema, "proj_calendrier"), sql.Identifier(schema, "proj_plannings")
            )
        )

        index_avant = _index(conn, schema)
        reconstruction = Lot(schema, Reperes(), vide=True)
        _replier(reconstruction)
        with conn.cursor() as curs:
            assert reconstruction.copier(curs) == len(attendu) + 2  # and the two plannings
        copie = _calendrier(conn, schema)
        # Dropped for the COPY, built again after it: the same key and indexes, the key enforced.
        assert _index(conn, schema) == index_avant
        assert any("PRIMARY KEY" in d or "UNIQUE" in d for d in index_avant.values())
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            conn.execute(
                sql.SQL("INSERT INTO {} SELECT * FROM {} LIMIT 1").format(
                    sql.Identifier(schema, "proj_calendrier"), sql.Identifier(schema, "proj_calendrier")
                )
            )

    assert len(attendu) == 7
    assert copie == attendu
    premier = next(r for r in copie if r["jour"] == date(2026, 6, 1))
    assert (premier["etat"], premier["arrivee"], premier["depart"]) == (
        "present",
        time(16, 45),
        time(18, 5, 30),
    )
    assert (premier["majoration_cents"], premier["majoration_pourcent"], premier["version"]) == (150, 10, 3)
    assert next(r for r in copie if r["jour"] == date(2026, 6, 2))["facturable"] is True
    autre = next(r for r in copie if r["jour"] == date(2030, 12, 31))
    assert (autre["etat"], autre["majoration_cents"], autre["majoration_pourcent"], autre["version"]) == (
        "reserve",
        None,
        25,
        9,
    )
