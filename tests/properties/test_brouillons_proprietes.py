"""The drafts the runner keeps are, at its position, exactly the replay folded from the log there:
for every month they hold, the same families, amounts and digest, whatever the page size and
wherever the runner stands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from portail.bootstrap import construire_services
from portail.domain.facturation import Periode, empreinte_campagne
from portail.generation import ANNEE, HorlogeSimulee, generer
from portail.projections.executeur import Projecteur
from portail.store.database import BaseDeDonnees


def _brouillons(base: BaseDeDonnees) -> dict[str, list[tuple[uuid.UUID, int, str]]]:
    with psycopg.connect(base.url) as conn:
        lignes = conn.execute(
            sql.SQL("SELECT mois, famille_id, montant_cents, empreinte FROM {}").format(
                sql.Identifier(base.schema, "proj_brouillons")
            )
        ).fetchall()
    mois: dict[str, list[tuple[uuid.UUID, int, str]]] = {}
    for m, famille_id, montant, empreinte in lignes:
        mois.setdefault(m, []).append((famille_id, montant, empreinte))
    return mois


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    graine=st.integers(0, 10_000),
    arrets=st.sets(st.integers(0, 24), min_size=2, max_size=5),
    taille_page=st.sampled_from([1, 13, 1000]),
)
def test_les_brouillons_egalent_le_rejeu_a_la_position_du_suiveur(
    url_postgres, settings, graine, arrets, taille_page
) -> None:
    base = BaseDeDonnees(url_postgres, f"t_{uuid.uuid4().hex[:16]}")
    base.creer_schema()
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    services = construire_services(settings, base, horloge)
    verifies: list[int] = []
    try:
        suiveur = Projecteur(services.portail, taille_page=taille_page)
        etapes = iter(range(10_000))

        def verifier(_etape: str, _fait: int, _total: int) -> None:
            if next(etapes) not in arrets:
                return
            suiveur.rattraper()
            for mois, familles in _brouillons(base).items():
                rejeu = services.facturation.rejouer(Periode.lire(mois), suiveur.position)
                assert rejeu.empreinte == empreinte_campagne((f, e) for f, _, e in familles), mois
                assert rejeu.calcul.montant_cents == sum(m for _, m, _ in familles), mois
                verifies.append(len(familles))

        generer(services, horloge, 6, graine, verifier)
        suiveur.rattraper()
        tous = _brouillons(base)
        assert tous
        for mois, familles in tous.items():
            rejeu = services.facturation.rejouer(Periode.lire(mois), suiveur.position)
            assert rejeu.empreinte == empreinte_campagne((f, e) for f, _, e in familles), mois
    finally:
        services.portail.close()
        with psycopg.connect(url_postgres, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(base.schema)))
