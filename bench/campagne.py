"""Benchmark: one monthly campaign for a generated commune, beside a plain SQL GROUP BY of the same
totals from a flat table, both measured in the same run on the same PostgreSQL.

    .venv/bin/python bench/campagne.py --enfants 10000 [--json rapport.json]

The commune is written through the application (aggregates saved in batches by the event store,
no SQL), then the campaign is prepared (log folded up to the position, lines computed and priced).
The baseline sums precomputed prices with one GROUP BY: it is the floor a campaign cannot beat.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from datetime import time as heure
from decimal import Decimal
from pathlib import Path

import psycopg

from portail.application.contexte import Contexte
from portail.application.facturation import ServiceFacturation
from portail.application.portail import Portail
from portail.domain.accueil import Accueil, ConfigurationAccueil, Unite
from portail.domain.accueil import Periode as PeriodeAccueil
from portail.domain.enfant import Enfant
from portail.domain.famille import Famille
from portail.domain.personnes import IdentiteEnfant, Responsable, Scolarite
from portail.domain.planning import Ligne, Planning
from portail.domain.quotient import QuotientFamilial
from portail.domain.regles.delais import RegleDelai
from portail.domain.tarifs import Grille, ModeTarif, ReductionFratrie, Residence, Tarification, Tranche
from portail.domain.valeurs import Adresse, Civilite, SourceQuotient
from portail.settings import Settings
from portail.store.database import BaseDeDonnees

CTX = Contexte.systeme("bench")
JOURS_OUVRES = [date(2025, 11, d) for d in range(1, 31) if date(2025, 11, d).isoweekday() in (1, 2, 4, 5)]


def generer(portail: Portail, enfants: int, graine: int) -> Accueil:
    hasard = random.Random(graine)
    regle = RegleDelai.creer("jour", heure(18), decalage_jours=1)
    accueil = Accueil(
        configuration=ConfigurationAccueil(
            etablissement="PERISCOLAIRE",
            mode_accueil="Garderie et Restauration",
            periode=PeriodeAccueil("2025-2026", date(2025, 9, 1), date(2026, 7, 4)),
            jours=(1, 2, 4, 5),
            unites=(
                Unite("MIDI", "Restauration", heure(11, 45), heure(13, 30)),
                Unite("SOIR", "Soir", heure(16, 30), heure(18, 30)),
            ),
            regle_reservation=regle,
            regle_annulation=regle,
        )
    )
    accueil.definir_tarifs(
        Tarification(
            date(2025, 9, 1),
            (
                Grille.creer(
                    unite="MIDI",
                    residence=Residence.TOUS,
                    mode=ModeTarif.TRANCHES_QF,
                    tranches=(
                        Tranche(0, 400, 50),
                        Tranche(400, 640, 175),
                        Tranche(640, 860, 235),
                        Tranche(860, 1150, 305),
                        Tranche(1150, 1500, 355),
                        Tranche(1500, 1700, 405),
                        Tranche(1700, 1900, 460),
                        Tranche(1900, None, 490),
                    ),
                    fratrie=(ReductionFratrie(3, Decimal(50)),),
                    min_cents=50,
                ),
                Grille.creer(
                    unite="SOIR",
                    residence=Residence.TOUS,
                    mode=ModeTarif.TAUX_EFFORT,
                    taux_pourcent=Decimal("0.36"),
                    min_cents=260,
                    max_cents=450,
                ),
            ),
        )
    )
    portail.enregistrer(CTX, accueil)
    lot: list[object] = []
    cree = 0
    while cree < enfants:
        famille = Famille(
            responsable=Responsable(Civilite.MME, "Famille", f"Parent {cree}", "0612345678"),
            adresse=Adresse("1 rue de la Mairie", "44000", "Nantes"),
        )
        # QF drawn around the French median with a long upper tail; 8 % unknown.
        if hasard.random() > 0.08:
            famille.enregistrer_quotient(
                QuotientFamilial(
                    min(5000, int(hasard.lognormvariate(6.7, 0.45))), date(2025, 1, 1), SourceQuotient.CAF
                )
            )
        lot.append(famille)
        for rang in range(min(hasard.choice((1, 1, 2, 2, 2, 3, 3, 4)), enfants - cree)):
            enfant = Enfant(
                famille_id=famille.id,
                identite=IdentiteEnfant(
                    "Famille", f"Enfant {cree}", date(2014 + rang, 1 + hasard.randrange(12), 1)
                ),
                scolarite=Scolarite("École", None, None),
            )
            famille.ajouter_enfant(enfant.id)
            planning = Planning(
                id=Planning.id_pour(enfant.id, accueil.id),
                enfant_id=enfant.id,
                accueil_id=accueil.id,
                famille_id=famille.id,
            )
            midi = [Ligne(j, "MIDI") for j in JOURS_OUVRES if hasard.random() < 0.85]
            soir = [Ligne(j, "SOIR") for j in JOURS_OUVRES if hasard.random() < 0.35]
            planning.reserver(midi + soir)
            lot.extend([enfant, planning])
            cree += 1
        if len(lot) >= 300:
            portail.enregistrer(CTX, *lot)  # type: ignore[arg-type]
            lot = []
            print(f"\r  généré : {cree}/{enfants} enfants", end="", file=sys.stderr)
    if lot:
        portail.enregistrer(CTX, *lot)  # type: ignore[arg-type]
    print(file=sys.stderr)
    return accueil


def ligne_sql(url: str, schema: str, lignes: list[tuple[str, str, date, str, int]]) -> tuple[float, int, int]:
    """The same priced lines in a flat table; one GROUP BY per family, timed."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.execute("DROP TABLE IF EXISTS bench_lignes")
        conn.execute(
            "CREATE TABLE bench_lignes (famille_id uuid, enfant_id uuid, jour date, unite text, montant_cents integer)"
        )
        with conn.cursor() as curs, curs.copy("COPY bench_lignes FROM STDIN") as copie:
            for ligne in lignes:
                copie.write_row(ligne)
        conn.execute("ANALYZE bench_lignes")
        debut = time.perf_counter()
        totaux = conn.execute(
            "SELECT famille_id, sum(montant_cents), count(*) FROM bench_lignes GROUP BY famille_id"
        ).fetchall()
        duree = time.perf_counter() - debut
    return duree, len(totaux), sum(int(t[1]) for t in totaux)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enfants", type=int, default=10_000)
    parser.add_argument("--graine", type=int, default=42)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()

    url = os.environ.get("PORTAIL_DATABASE_URL")
    dossier = tempfile.mkdtemp(prefix="portail-bench-")
    base = BaseDeDonnees.ouvrir(
        Settings(data_dir=Path(dossier), database_url=url, database_schema=f"bench_{uuid.uuid4().hex[:8]}")
    )
    horloge = lambda: datetime(2025, 12, 2, 9, 0, tzinfo=UTC)  # noqa: E731
    portail = Portail(env=base.env_eventsourcing(4, 4), cle_maitre=os.urandom(32), horloge=horloge)
    try:
        debut = time.perf_counter()
        generer(portail, arguments.enfants, arguments.graine)
        generation = time.perf_counter() - debut
        evenements = portail.recorder.max_notification_id()
        facturation = ServiceFacturation(portail)
        debut = time.perf_counter()
        campagne, calcul = facturation.preparer(CTX, "2025-11", None)
        duree_campagne = time.perf_counter() - debut
        lignes = [
            (str(x.famille_id), str(x.enfant_id), x.jour, x.unite, x.montant_cents) for x in calcul.lignes
        ]
        duree_sql, familles_sql, total_sql = ligne_sql(base.url, base.schema or "public", lignes)
        assert total_sql == calcul.montant_cents and familles_sql == campagne.totaux.familles
        rapport = {
            "enfants": arguments.enfants,
            "familles": campagne.totaux.familles,
            "lignes": campagne.totaux.lignes,
            "evenements_dans_le_journal": evenements,
            "generation_s": round(generation, 2),
            "campagne_s": round(duree_campagne, 3),
            "sql_group_by_s": round(duree_sql, 4),
            "ratio": round(duree_campagne / duree_sql, 1) if duree_sql else None,
            "montant_cents": calcul.montant_cents,
            "machine": {
                "cpu": os.cpu_count(),
                "python": platform.python_version(),
                "systeme": platform.platform(),
            },
        }
        print(f"{'mesure':<28}{'valeur':>14}")
        for cle in (
            "enfants",
            "familles",
            "lignes",
            "evenements_dans_le_journal",
            "generation_s",
            "campagne_s",
            "sql_group_by_s",
            "ratio",
        ):
            print(f"{cle:<28}{rapport[cle]!s:>14}")
        if arguments.json:
            arguments.json.write_text(json.dumps(rapport, indent=2, ensure_ascii=False))
    finally:
        portail.close()
        base.fermer()


if __name__ == "__main__":
    main()
