"""The read models and how each event changes them.

Every handler changes the page's rows in memory (`lot.Lot`); the runner writes them and moves the
tracking position in one transaction, so each event is applied exactly once.
Personal data lives only in the payer names and payment references of `comptabilite.py`, emptied
when the family is erased. A child's name, birth date, allergies, PAI and diet stay out of the read
models (`proj_enfants` holds ids and a date): an erased row's bytes would stay in the table's data
files and in the WAL, where no key deletion reaches them; who needs them reads the aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from psycopg import Cursor

from portail.domain.accueil import Accueil
from portail.domain.actualite import Actualite
from portail.domain.capacite import Capacite
from portail.domain.document import Document
from portail.domain.encours import Encours
from portail.domain.enfant import Enfant
from portail.domain.planning import Planning
from portail.projections import comptabilite
from portail.projections.evenements_lus import FactureEmiseLue, PlanningPointeLu, PlanningReserveLu
from portail.projections.lot import (
    ACCUEILS,
    ACTUALITES,
    CAPACITES,
    DOCUMENTS,
    ENFANTS,
    FACTURES,
    GARDER,
    OFFRES,
    PLANNINGS,
    Lot,
)

TABLES = (
    "proj_calendrier",
    "proj_plannings",
    "proj_occupation",
    "proj_capacites",
    "proj_enfants",
    "proj_accueils",
    "proj_offres",
    "proj_factures",
    "proj_documents",
    "proj_actualites",
    *comptabilite.TABLES,
)


def ddl(schema: str) -> list[str]:
    s = schema
    return [
        f"CREATE TABLE IF NOT EXISTS {s}.proj_tracking (nom text PRIMARY KEY, position bigint NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_plannings ("
        " planning_id uuid PRIMARY KEY, enfant_id uuid NOT NULL, accueil_id uuid NOT NULL, famille_id uuid NOT NULL)",
        # A child's month reads its plannings by child: without this index every read scanned the
        # table (one row per child and accueil, 15,000 at 10,000 children), a cost growing with
        # the commune. By family and by accueil: the family's pages, reminders and repricing.
        f"CREATE INDEX IF NOT EXISTS proj_plannings_enfant ON {s}.proj_plannings (enfant_id, accueil_id)",
        f"CREATE INDEX IF NOT EXISTS proj_plannings_famille ON {s}.proj_plannings (famille_id)",
        f"CREATE INDEX IF NOT EXISTS proj_plannings_accueil ON {s}.proj_plannings (accueil_id)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_calendrier ("
        " enfant_id uuid NOT NULL, accueil_id uuid NOT NULL, jour date NOT NULL, unite text NOT NULL,"
        " famille_id uuid NOT NULL, etat text NOT NULL, majoration_cents integer, majoration_pourcent integer,"
        " facturable boolean NOT NULL DEFAULT false, arrivee time, depart time,"
        " PRIMARY KEY (enfant_id, accueil_id, jour, unite))",
        # The stream version a row reflects (`projections.en_ligne`); 0 on rows written before.
        f"ALTER TABLE {s}.proj_calendrier ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0",
        f"CREATE INDEX IF NOT EXISTS proj_calendrier_jour ON {s}.proj_calendrier (accueil_id, jour)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_capacites ("
        " capacite_id uuid PRIMARY KEY, accueil_id uuid NOT NULL, jour date NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_occupation ("
        " accueil_id uuid NOT NULL, jour date NOT NULL, unite text NOT NULL,"
        " reserves integer NOT NULL DEFAULT 0, attente integer NOT NULL DEFAULT 0,"
        " PRIMARY KEY (accueil_id, jour, unite))",
        f"ALTER TABLE {s}.proj_occupation ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0",
        # A table of an earlier version held children's names and health data in clear: it is
        # replaced by a new one (new files) holding only what is not personal.
        f"""DO $$ DECLARE sch text := '{s}'; BEGIN
          IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = sch
                     AND table_name = 'proj_enfants' AND column_name = 'nom') THEN
            EXECUTE format('ALTER TABLE %I.proj_enfants ADD COLUMN IF NOT EXISTS fiche_valable_jusqu_au date', sch);
            EXECUTE format('CREATE TABLE %I.proj_enfants_sans_donnees AS'
              ' SELECT enfant_id, famille_id, fiche_valable_jusqu_au FROM %I.proj_enfants', sch, sch);
            EXECUTE format('DROP TABLE %I.proj_enfants', sch);
            EXECUTE format('ALTER TABLE %I.proj_enfants_sans_donnees RENAME TO proj_enfants', sch);
            EXECUTE format('ALTER TABLE %I.proj_enfants ALTER COLUMN famille_id SET NOT NULL,'
              ' ADD PRIMARY KEY (enfant_id)', sch);
          END IF;
        END $$""",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_enfants ("
        " enfant_id uuid PRIMARY KEY, famille_id uuid NOT NULL, fiche_valable_jusqu_au date)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_offres ("
        " offre_id uuid PRIMARY KEY, enfant_id uuid NOT NULL, famille_id uuid NOT NULL, accueil_id uuid NOT NULL,"
        " jour date NOT NULL, unite text NOT NULL, expire_le timestamptz NOT NULL, statut text NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS proj_offres_famille ON {s}.proj_offres (famille_id, statut)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_factures ("
        " facture_id uuid PRIMARY KEY, famille_id uuid NOT NULL, numero text NOT NULL, periode text NOT NULL,"
        " emise_le date NOT NULL, echeance date NOT NULL, montant_cents bigint NOT NULL,"
        " reste_a_payer_cents bigint NOT NULL, statut text NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS proj_factures_famille ON {s}.proj_factures (famille_id, emise_le)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_documents ("
        " document_id uuid PRIMARY KEY, famille_id uuid NOT NULL, enfant_id uuid, type text NOT NULL,"
        " media_type text NOT NULL, taille integer NOT NULL, statut text NOT NULL, depose_le timestamptz)",
        f"CREATE INDEX IF NOT EXISTS proj_documents_famille ON {s}.proj_documents (famille_id)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_actualites ("
        " actualite_id uuid PRIMARY KEY, titre text NOT NULL, contenu text NOT NULL, accueils uuid[] NOT NULL,"
        " publiee_le timestamptz NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_accueils ("
        " accueil_id uuid PRIMARY KEY, etablissement text NOT NULL, mode_accueil text NOT NULL,"
        " periode_libelle text NOT NULL, debut date NOT NULL, fin date NOT NULL)",
        *comptabilite.ddl(s),
    ]


Gestionnaire = Callable[[Lot, Any], None]


def preparer(curs: Cursor[Any], lot: Lot, evenements: list[Any]) -> None:
    """Read, before the page is folded, what its events need and do not carry: the planning or
    capacity an event belongs to (unless already known), and the rows it changes after they were
    added. A page that opens what it uses reads nothing."""
    plannings: set[Any] = set()
    capacites: set[Any] = set()
    reperes = lot.reperes
    for e in evenements:
        # Opened in the page: known before the events that use it are folded.
        if isinstance(e, Planning.Ouvert):
            reperes.plannings[e.originator_id] = (e.enfant_id, e.accueil_id, e.famille_id)
        elif isinstance(e, Capacite.Ouverte):
            reperes.capacites[e.originator_id] = (e.accueil_id, e.jour)
        elif isinstance(e, Planning.Event) and e.originator_id not in reperes.plannings:
            plannings.add(e.originator_id)
        elif isinstance(e, Capacite.Event) and e.originator_id not in reperes.capacites:
            capacites.add(e.originator_id)
    lot.reperes.charger(curs, lot.schema, plannings, capacites)

    enfants = [e.originator_id for e in evenements if isinstance(e, Enfant.Event)]
    documents = [e.originator_id for e in evenements if isinstance(e, Document.Event)]
    factures = [e.originator_id for e in evenements if isinstance(e, FactureEmiseLue)] + [
        a.facture_id
        for e in evenements
        if isinstance(e, Encours.Affecte | Encours.PrelevementRejete)
        for a in e.affectations
    ]
    factures += comptabilite.preparer(curs, lot, evenements)
    offres = [
        e.offre_id
        for e in evenements
        if isinstance(e, Planning.OffreRecue | Planning.OffreAcceptee | Planning.OffrePerdue)
    ]
    # A cancellation withdraws the offers of its day-units, whatever their id: those are read too.
    annulees = [
        (*lot.planning(e.originator_id)[:2], ligne.jour, ligne.unite)
        for e in evenements
        if isinstance(e, Planning.Annule)
        for ligne in e.lignes
    ]
    for table, cles in ((ENFANTS, enfants), (DOCUMENTS, documents), (FACTURES, factures)):
        if cles:
            lot.charger(curs, table, cles)
    if annulees:
        lot.charger(
            curs,
            OFFRES,
            offres,
            "(enfant_id, accueil_id, jour, unite) IN"
            " (SELECT * FROM unnest(%b::uuid[], %b::uuid[], %b::date[], %b::text[]))",
            [[a[i] for a in annulees] for i in range(4)],
        )
    elif offres:
        lot.charger(curs, OFFRES, offres)


def _cases(lot: Lot, e: Any, cases: Iterable[tuple[Any, str, str]]) -> None:
    """Day-units (day, unit, state) whose state alone the event changes; the other fields keep
    their value, as in the Planning aggregate."""
    lot.cases(
        e.originator_id,
        e.originator_version,
        ((jour, unite, etat, GARDER, GARDER, GARDER) for jour, unite, etat in cases),
    )


def planning_ouvert(lot: Lot, e: Planning.Ouvert) -> None:
    lot.ajouter(PLANNINGS, (e.originator_id, e.enfant_id, e.accueil_id, e.famille_id))


def planning_reserve(lot: Lot, e: Planning.Reserve | Planning.MisEnListeAttente | PlanningReserveLu) -> None:
    etat = "liste_attente" if isinstance(e, Planning.MisEnListeAttente) else "reserve"
    version = e.originator_version
    aucun = (None, None)
    lot.poser_cases(
        e.originator_id,
        (
            (
                (ligne.jour, ligne.unite),
                [etat, version, (ligne.majoration_cents, ligne.majoration_pourcent), False, aucun],
            )
            for ligne in e.lignes
        ),
    )


def planning_annule(lot: Lot, e: Planning.Annule) -> None:
    version = e.originator_version
    aucun = (None, None)
    lot.poser_cases(
        e.originator_id,
        (
            ((ligne.jour, ligne.unite), ["annule", version, aucun, ligne.facturable, aucun])
            for ligne in e.lignes
        ),
    )
    # Cancelling while a place was on offer withdraws the offer.
    ids = lot.planning(e.originator_id)
    cases = {(ids[0], ids[1], ligne.jour, ligne.unite) for ligne in e.lignes}
    for offre in list(lot.offres(cases)):
        if offre["statut"] == "proposee":
            lot.poser(OFFRES, offre["offre_id"], {**offre, "statut": "retiree"})


def planning_promu(lot: Lot, e: Planning.PromuDeListeAttente) -> None:
    _cases(lot, e, [(e.jour, e.unite, "reserve")])


def planning_absence(lot: Lot, e: Planning.AbsenceDeclaree) -> None:
    etat = "absent_justifie" if e.document_id is not None else "absent_non_justifie"
    _cases(lot, e, [(e.jour, unite, etat) for unite in e.unites])


def planning_pointe(lot: Lot, e: Planning.Pointe | PlanningPointeLu) -> None:
    lot.pointer(e.originator_id, e.originator_version, e.pointages)


def offre_recue(lot: Lot, e: Planning.OffreRecue) -> None:
    enfant_id, accueil_id, famille_id = lot.planning(e.originator_id)
    _cases(lot, e, [(e.jour, e.unite, "liste_attente")])
    if lot.ligne(OFFRES, e.offre_id) is None:
        lot.poser(
            OFFRES,
            e.offre_id,
            {
                "offre_id": e.offre_id,
                "enfant_id": enfant_id,
                "famille_id": famille_id,
                "accueil_id": accueil_id,
                "jour": e.jour,
                "unite": e.unite,
                "expire_le": e.expire_le,
                "statut": "proposee",
            },
        )


def _statut_offre(lot: Lot, offre_id: Any, statut: str) -> None:
    offre = lot.ligne(OFFRES, offre_id)
    if offre is not None:
        lot.poser(OFFRES, offre_id, {**offre, "statut": statut})


def offre_acceptee(lot: Lot, e: Planning.OffreAcceptee) -> None:
    _statut_offre(lot, e.offre_id, "acceptee")
    _cases(lot, e, [(e.jour, e.unite, "reserve")])


def offre_perdue(lot: Lot, e: Planning.OffrePerdue) -> None:
    _statut_offre(lot, e.offre_id, "expiree" if e.expiree else "refusee")
    aucun = (None, None)
    lot.poser_cases(
        e.originator_id, [((e.jour, e.unite), ["annule", e.originator_version, aucun, False, aucun])]
    )


def facture_emise(lot: Lot, e: FactureEmiseLue) -> None:
    if lot.ligne(FACTURES, e.originator_id) is not None:
        return
    facture = {
        "facture_id": e.originator_id,
        "famille_id": e.famille_id,
        "numero": e.numero,
        "periode": e.periode,
        "emise_le": e.emise_le,
        "echeance": e.echeance,
        "montant_cents": e.montant_cents,
        "reste_a_payer_cents": max(e.montant_cents, 0),
        "nature": "facture",
        "campagne_id": e.campagne_id,
        "facture_origine": None,
        "non_valeur_cents": 0,
    }
    lot.poser(FACTURES, e.originator_id, {**facture, "statut": comptabilite.statut(facture)})
    comptabilite.ventiler(lot, e)


def encours_affecte(lot: Lot, e: Encours.Affecte | Encours.PrelevementRejete) -> None:
    signe = -1 if isinstance(e, Encours.Affecte) else 1
    for a in e.affectations:
        facture = lot.ligne(FACTURES, a.facture_id)
        if facture is None:
            continue
        facture = {**facture, "reste_a_payer_cents": facture["reste_a_payer_cents"] + signe * a.montant_cents}
        lot.poser(FACTURES, a.facture_id, {**facture, "statut": comptabilite.statut(facture)})


def prelevement_rejete(lot: Lot, e: Encours.PrelevementRejete) -> None:
    encours_affecte(lot, e)
    comptabilite.prelevement_rejete(lot, e)


def document_ecrit(lot: Lot, e: Any) -> None:
    document = lot.ligne(DOCUMENTS, e.originator_id)
    if isinstance(e, Document.Depose):
        if document is not None:
            return
        # The application's clock (the audit time), which the expiry reminders count from.
        horodatage = (getattr(e, "audit", None) or {}).get("horodatage")
        lot.poser(
            DOCUMENTS,
            e.originator_id,
            {
                "document_id": e.originator_id,
                "famille_id": e.famille_id,
                "enfant_id": e.enfant_id,
                "type": e.type.value,
                "media_type": e.media_type,
                "taille": e.taille,
                "statut": "depose",
                "depose_le": datetime.fromisoformat(horodatage) if horodatage else e.timestamp,
            },
        )
    elif document is not None:
        statut = "valide" if isinstance(e, Document.Valide) else "refuse"
        lot.poser(DOCUMENTS, e.originator_id, {**document, "statut": statut})


def actualite_publiee(lot: Lot, e: Actualite.Publiee) -> None:
    lot.ajouter(ACTUALITES, (e.originator_id, e.titre, e.contenu, list(e.accueils), e.publiee_le))


def capacite_ouverte(lot: Lot, e: Capacite.Ouverte) -> None:
    lot.ajouter(CAPACITES, (e.originator_id, e.accueil_id, e.jour))


def _compter(lot: Lot, e: Any, reserves: int, attente: int) -> None:
    accueil_id, jour = lot.capacite(e.originator_id)
    lot.compter(accueil_id, jour, e.unite, reserves, attente, e.originator_version)


def enfant_ecrit(lot: Lot, e: Any) -> None:
    enfant = lot.ligne(ENFANTS, e.originator_id)
    if isinstance(e, Enfant.Inscrit):
        if enfant is None:
            lot.poser(
                ENFANTS,
                e.originator_id,
                {"enfant_id": e.originator_id, "famille_id": e.famille_id, "fiche_valable_jusqu_au": None},
            )
    elif enfant is None:
        return
    elif isinstance(e, Enfant.SanteModifiee):
        lot.poser(ENFANTS, e.originator_id, {**enfant, "fiche_valable_jusqu_au": e.valable_jusqu_au})
    elif isinstance(e, Enfant.Efface):
        lot.poser(ENFANTS, e.originator_id, None)


def accueil_cree(lot: Lot, e: Accueil.Cree) -> None:
    c = e.configuration
    lot.ajouter(
        ACCUEILS,
        (
            e.originator_id,
            c.etablissement,
            c.mode_accueil,
            c.periode.libelle,
            c.periode.debut,
            c.periode.fin,
            c.imputation_budgetaire,
        ),
    )


GESTIONNAIRES: dict[type, Gestionnaire] = {
    Planning.Ouvert: planning_ouvert,
    Planning.Reserve: planning_reserve,
    PlanningReserveLu: planning_reserve,
    Planning.MisEnListeAttente: planning_reserve,
    Planning.Annule: planning_annule,
    Planning.PromuDeListeAttente: planning_promu,
    Planning.AbsenceDeclaree: planning_absence,
    Planning.Pointe: planning_pointe,
    PlanningPointeLu: planning_pointe,
    Capacite.Ouverte: capacite_ouverte,
    Capacite.PlaceAttribuee: lambda lot, e: _compter(lot, e, 1, 0),
    Capacite.MisEnAttente: lambda lot, e: _compter(lot, e, 0, 1),
    Capacite.PlaceLiberee: lambda lot, e: _compter(lot, e, -1, 0),
    Capacite.SortiDeLAttente: lambda lot, e: _compter(lot, e, 0, -1),
    Capacite.Promu: lambda lot, e: _compter(lot, e, 1, -1),
    Capacite.OffreFaite: lambda lot, e: _compter(lot, e, 1, -1),
    Capacite.OffreRetiree: lambda lot, e: _compter(lot, e, -1, 0),
    Planning.OffreRecue: offre_recue,
    Planning.OffreAcceptee: offre_acceptee,
    Planning.OffrePerdue: offre_perdue,
    Enfant.Inscrit: enfant_ecrit,
    Enfant.IdentiteModifiee: enfant_ecrit,
    Enfant.ScolariteModifiee: enfant_ecrit,
    Enfant.SanteModifiee: enfant_ecrit,
    Enfant.Efface: enfant_ecrit,
    Accueil.Cree: accueil_cree,
    FactureEmiseLue: facture_emise,
    Document.Depose: document_ecrit,
    Document.Valide: document_ecrit,
    Document.Refuse: document_ecrit,
    Actualite.Publiee: actualite_publiee,
    Encours.Affecte: encours_affecte,
    Encours.PrelevementRejete: prelevement_rejete,
    **comptabilite.GESTIONNAIRES,
}

TOPICS = tuple(getattr(cls, "TOPIC") for cls in GESTIONNAIRES)  # noqa: B009
