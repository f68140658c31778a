"""The invoice drafts the projection runner keeps on PostgreSQL: which rows a new event rewrites."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg
from psycopg import sql

from outils_services import inscrire_famille
from portail.application.catalogue import SaisieAccueil, SaisieRegle, SaisieUnite, definir_tarifs
from portail.application.contexte import Contexte
from portail.domain.reservation import DemandeReservation
from portail.domain.tarifs import Grille, ModeTarif, Residence

CTX = Contexte("brouillons", role="parent")
SYSTEME = Contexte.systeme("test")
REGLE = SaisieRegle(ancrage="jour", heure_limite=time(18, 0), decalage_jours=1)
LUNDIS = {"2025-11": date(2025, 11, 3), "2025-12": date(2025, 12, 1), "2026-01": date(2026, 1, 5)}


def _accueil(services: Any, mode_accueil: str, prix_cents: int) -> Any:
    accueil_id = services.catalogue.creer_accueil(
        SYSTEME,
        SaisieAccueil(
            etablissement="PERISCOLAIRE",
            mode_accueil=mode_accueil,
            periode_libelle="2025-2026",
            periode_debut=date(2025, 9, 1),
            periode_fin=date(2026, 7, 4),
            jours=(1, 2, 4, 5),
            unites=(SaisieUnite("MIDI", "Repas", time(11, 45), time(13, 30), 50),),
            regle_reservation=REGLE,
            regle_annulation=REGLE,
        ),
    )
    grille = Grille(unite="MIDI", residence=Residence.TOUS, mode=ModeTarif.FORFAIT, prix_cents=prix_cents)
    definir_tarifs(services.portail, SYSTEME, accueil_id, date(2025, 9, 1), [grille])
    return accueil_id


def _versions(base: Any, famille_id: Any) -> dict[str, tuple[str, int]]:
    """Each draft's row version (`xmin` changes whenever the row is written again) and amount."""
    requete = sql.SQL("SELECT mois, xmin::text, montant_cents FROM {}.proj_brouillons WHERE famille_id = %s")
    with psycopg.connect(base.url) as conn:
        lignes = conn.execute(requete.format(sql.Identifier(base.schema)), (famille_id,)).fetchall()
    return {mois: (version, montant) for mois, version, montant in lignes}


def test_une_reservation_qui_ouvre_un_planning_n_ecrit_aucun_brouillon_des_autres_mois(
    services: Any, base: Any, horloge: Any
) -> None:
    horloge.maintenant = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    cantine = _accueil(services, "Restauration", 300)
    garderie = _accueil(services, "Garderie", 120)
    famille_id = inscrire_famille(services, CTX)
    enfant_id = services.familles.ajouter_enfant(CTX, famille_id, "Martin", "Lou", date(2016, 1, 1))
    for lundi in LUNDIS.values():
        services.reservations.reserver(
            CTX, famille_id, enfant_id, cantine, [DemandeReservation(lundi, "MIDI")]
        )
    services.projecteur.rattraper()
    avant = _versions(base, famille_id)
    assert {mois: montant for mois, (_, montant) in avant.items()} == dict.fromkeys(LUNDIS, 300)

    # The child's first booking at the garderie opens its Planning there, in November.
    services.reservations.reserver(
        CTX, famille_id, enfant_id, garderie, [DemandeReservation(LUNDIS["2025-11"], "MIDI")]
    )
    services.projecteur.rattraper()
    apres = _versions(base, famille_id)

    reecrits = {mois for mois in LUNDIS if apres[mois][0] != avant[mois][0]}
    assert reecrits == {"2025-11"}
    assert {mois: montant for mois, (_, montant) in apres.items()} == {
        "2025-11": 420,
        "2025-12": 300,
        "2026-01": 300,
    }


def test_les_copies_d_une_version_anterieure_passent_dans_la_table_d_une_ligne_par_campagne(base) -> None:
    """A database upgraded with campaigns' copies of the earlier layout (a row a family) keeps
    them: one row a campaign, families in id order; the old table goes."""
    from uuid import UUID

    from portail.projections import brouillons

    campagne = UUID(int=7)
    familles = [UUID(int=3), UUID(int=1), UUID(int=2)]
    with psycopg.connect(base.url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(base.schema)))
        conn.execute("DROP TABLE IF EXISTS proj_campagne_copies")
        conn.execute(
            "CREATE TABLE proj_campagne_familles (campagne_id uuid NOT NULL, famille_id uuid NOT NULL,"
            " lignes integer NOT NULL, montant_cents bigint NOT NULL, anomalies integer NOT NULL,"
            " empreinte text NOT NULL, PRIMARY KEY (campagne_id, famille_id))"
        )
        for rang, famille in enumerate(familles):
            conn.execute(
                "INSERT INTO proj_campagne_familles VALUES (%s, %s, 1, 100, %s, %s)",
                (campagne, famille, rang, f"e{famille.int}"),
            )
        for instruction in brouillons.ddl(base.schema):
            conn.execute(instruction)
        for instruction in brouillons.ddl(base.schema):  # a second process starting: nothing to do
            conn.execute(instruction)
        copies = conn.execute(
            "SELECT campagne_id, famille_ids, empreintes, anomalies FROM proj_campagne_copies"
        ).fetchall()
        restante = conn.execute("SELECT to_regclass('proj_campagne_familles')").fetchone()
    assert copies == [(campagne, sorted(familles), ["e1", "e2", "e3"], [1, 2, 0])]
    assert restante == (None,)


def test_les_familles_pliees_d_avance_ne_relisent_que_leurs_nouveaux_evenements(
    services: Any, base: Any, horloge: Any
) -> None:
    """A runner that has just started folds, while idle, the families the next bookings will price:
    the first booking of each then folds only its own events, and prices as a fold from zero."""
    horloge.maintenant = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    cantine = _accueil(services, "Restauration", 300)
    familles = []
    for _ in range(3):
        famille_id = inscrire_famille(services, CTX)
        enfant_id = services.familles.ajouter_enfant(CTX, famille_id, "Martin", "Lou", date(2016, 1, 1))
        services.reservations.reserver(
            CTX, famille_id, enfant_id, cantine, [DemandeReservation(LUNDIS["2025-11"], "MIDI")]
        )
        familles.append((famille_id, enfant_id))
    projecteur = services.projecteur
    projecteur.rattraper()
    brouillons = projecteur.brouillons
    # As at a start: nothing kept folded.
    brouillons.reprendre(projecteur.position)
    assert not any(brouillons.plis.contient(f) for f, _ in familles)

    tours = 1
    while projecteur.plier_d_avance():
        tours += 1
    assert tours == 1  # three families: one batch
    assert all(brouillons.plis.contient(f) for f, _ in familles)
    assert not projecteur.plier_d_avance()  # nothing left to fold

    plies: list[int] = []
    plier = brouillons.pliage._plier

    def compter(lignes: Any, etat: Any) -> None:
        lignes = list(lignes)
        plies.append(len(lignes))
        plier(lignes, etat)

    brouillons.pliage._plier = compter
    famille_id, enfant_id = familles[0]
    services.reservations.reserver(
        CTX,
        famille_id,
        enfant_id,
        cantine,
        [DemandeReservation(LUNDIS["2025-11"] + timedelta(days=1), "MIDI")],
    )
    projecteur.rattraper()
    assert plies == [1]  # the booking's own event, not the family's history
    assert {mois: montant for mois, (_, montant) in _versions(base, famille_id).items()} == {"2025-11": 600}
