"""The generated commune (`portail demo --enfants N --seed S`): written through the application,
realistic in shape, the same for the same seed."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from portail.bootstrap import construire_services
from portail.generation import ANNEE, HorlogeSimulee, generer
from portail.settings import Settings
from portail.store.database import BaseDeDonnees

ENFANTS = 14


def _generer(url: str, settings: Settings, graine: int) -> tuple[list[tuple[str, int]], dict, str]:
    schema = f"t_gen_{uuid.uuid4().hex[:12]}"
    base = BaseDeDonnees(url, schema)
    base.creer_schema()
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    services = construire_services(settings, base, horloge)
    try:
        commune = generer(services, horloge, ENFANTS, graine)
        with psycopg.connect(url) as conn:
            journal = conn.execute(
                sql.SQL(
                    "SELECT originator_id::text, originator_version, topic FROM {} ORDER BY notification_id"
                ).format(sql.Identifier(schema, "portail_events"))
            ).fetchall()
        resume = {
            "familles": len(commune.familles),
            "enfants": len(commune.enfants),
            "residents": sum(f.resident for f in commune.familles),
            "tailles": Counter(len(f.enfants) for f in commune.familles),
            "topics": Counter(t for _, _, t in journal),
            "evenements": commune.evenements,
        }
        return [(i, v) for i, v, _ in journal], resume, schema
    finally:
        services.portail.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.postgres
def test_meme_graine_meme_commune_autre_graine_autre_commune(url_postgres, settings) -> None:
    premier, resume, _ = _generer(url_postgres, settings, 7)
    second, resume_bis, _ = _generer(url_postgres, settings, 7)
    autre, _, _ = _generer(url_postgres, settings, 8)
    # Same ids, versions and order of events: the seed decides everything, ids included.
    assert premier == second
    assert resume == resume_bis
    assert premier != autre


@pytest.mark.postgres
def test_une_annee_scolaire_ecrite_par_l_application(url_postgres, settings) -> None:
    _, resume, _ = _generer(url_postgres, settings, 3)
    topics = resume["topics"]
    assert resume["enfants"] == ENFANTS
    assert set(resume["tailles"]) <= {1, 2, 3, 4}
    assert sum(n * k for k, n in resume["tailles"].items()) == ENFANTS
    # Every family has its account, e-mail index and family file.
    assert topics["portail:Famille.Creee"] == topics["portail:Compte.Cree"] == resume["familles"]
    assert topics["portail:IndexEmail.Reserve"] == resume["familles"]
    # A school year: bookings, cancellations, pointage month after month; nine months invoiced
    # (September to May), June left to a campaign still to prepare.
    assert topics["portail:Planning.Reserve"] >= 10
    assert topics["portail:Planning.Pointe"] >= 10
    assert topics["portail:Accueil.Cree"] == 3
    assert topics["portail:Accueil.TarifsDefinis"] == 3
    assert topics["portail:Campagne.Preparee"] == topics["portail:Campagne.Emise"] == 9
    assert topics["portail:Facture.Emise"] >= 9
    assert resume["evenements"] == sum(topics.values())
