"""The read models and how each event changes them.

Every handler is a plain SQL change: the runner applies a page of events and
moves the tracking position in one transaction, so each event is applied exactly once.
Personal data lives only in `proj_enfants`, whose row goes when the child is erased.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Cursor

from portail.domain.accueil import Accueil
from portail.domain.actualite import Actualite
from portail.domain.campagne import Facture
from portail.domain.capacite import Capacite
from portail.domain.document import Document
from portail.domain.encours import Encours
from portail.domain.enfant import Enfant
from portail.domain.planning import Planning

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
)


def ddl(schema: str) -> list[str]:
    s = schema
    return [
        f"CREATE TABLE IF NOT EXISTS {s}.proj_tracking (nom text PRIMARY KEY, position bigint NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_plannings ("
        " planning_id uuid PRIMARY KEY, enfant_id uuid NOT NULL, accueil_id uuid NOT NULL, famille_id uuid NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_calendrier ("
        " enfant_id uuid NOT NULL, accueil_id uuid NOT NULL, jour date NOT NULL, unite text NOT NULL,"
        " famille_id uuid NOT NULL, etat text NOT NULL, majoration_cents integer, majoration_pourcent integer,"
        " facturable boolean NOT NULL DEFAULT false, arrivee time, depart time,"
        " PRIMARY KEY (enfant_id, accueil_id, jour, unite))",
        f"CREATE INDEX IF NOT EXISTS proj_calendrier_jour ON {s}.proj_calendrier (accueil_id, jour)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_capacites ("
        " capacite_id uuid PRIMARY KEY, accueil_id uuid NOT NULL, jour date NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_occupation ("
        " accueil_id uuid NOT NULL, jour date NOT NULL, unite text NOT NULL,"
        " reserves integer NOT NULL DEFAULT 0, attente integer NOT NULL DEFAULT 0,"
        " PRIMARY KEY (accueil_id, jour, unite))",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_enfants ("
        " enfant_id uuid PRIMARY KEY, famille_id uuid NOT NULL, nom text, prenom text, date_naissance date,"
        " niveau text, allergies text[] NOT NULL DEFAULT '{}', pai boolean NOT NULL DEFAULT false, regime text)",
        # Added for the fiche sanitaire reminders; a database built before it needs a rebuild to fill it.
        f"ALTER TABLE {s}.proj_enfants ADD COLUMN IF NOT EXISTS fiche_valable_jusqu_au date",
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
    ]


Gestionnaire = Callable[[Cursor[Any], str, Any], None]


_PLANNINGS: dict[Any, tuple[Any, Any, Any]] = {}
"""planning id → (child, accueil, family): fixed for the planning's life, so kept once read."""


def _planning(curs: Cursor[Any], s: str, e: Any) -> tuple[Any, Any, Any]:
    ids = _PLANNINGS.get(e.originator_id)
    if ids is not None:
        return ids
    curs.execute(
        f"SELECT enfant_id, accueil_id, famille_id FROM {s}.proj_plannings WHERE planning_id = %s",
        (e.originator_id,),
    )
    ligne = curs.fetchone()
    assert ligne is not None, f"planning {e.originator_id} absent de proj_plannings"
    ids = (ligne["enfant_id"], ligne["accueil_id"], ligne["famille_id"])
    _PLANNINGS[e.originator_id] = ids
    return ids


@dataclass(frozen=True)
class Case:
    """One day-unit to write; `majorations=None` keeps the surcharges recorded at booking."""

    jour: Any
    unite: str
    etat: str
    majorations: tuple[int | None, int | None] | None = None
    facturable: bool = False
    arrivee: Any = None
    depart: Any = None


def _ecrire(curs: Cursor[Any], s: str, ids: tuple[Any, Any, Any], cases: list[Case]) -> None:
    """Upsert the day-units of one event in one statement (one array per column)."""
    if not cases:
        return
    enfant_id, accueil_id, famille_id = ids
    # The last word on a day-unit wins, as if the event's cases were written one after the other.
    dernieres = list({(c.jour, c.unite): c for c in cases}.values())
    garder = dernieres[0].majorations is None
    assert all((c.majorations is None) == garder for c in dernieres)
    curs.execute(
        f"INSERT INTO {s}.proj_calendrier AS c (enfant_id, accueil_id, jour, unite, famille_id, etat,"
        " majoration_cents, majoration_pourcent, facturable, arrivee, depart)"
        " SELECT %s, %s, u.jour, u.unite, %s, u.etat, u.cents, u.pourcent, u.facturable, u.arrivee, u.depart"
        " FROM unnest(%s::date[], %s::text[], %s::text[], %s::integer[], %s::integer[], %s::boolean[],"
        " %s::time[], %s::time[]) AS u(jour, unite, etat, cents, pourcent, facturable, arrivee, depart)"
        " ON CONFLICT (enfant_id, accueil_id, jour, unite) DO UPDATE SET etat = EXCLUDED.etat,"
        " majoration_cents = CASE WHEN %s THEN c.majoration_cents ELSE EXCLUDED.majoration_cents END,"
        " majoration_pourcent = CASE WHEN %s THEN c.majoration_pourcent ELSE EXCLUDED.majoration_pourcent END,"
        " facturable = EXCLUDED.facturable,"
        " arrivee = COALESCE(EXCLUDED.arrivee, c.arrivee), depart = COALESCE(EXCLUDED.depart, c.depart)",
        (
            enfant_id,
            accueil_id,
            famille_id,
            [c.jour for c in dernieres],
            [c.unite for c in dernieres],
            [c.etat for c in dernieres],
            [(c.majorations or (None, None))[0] for c in dernieres],
            [(c.majorations or (None, None))[1] for c in dernieres],
            [c.facturable for c in dernieres],
            [c.arrivee for c in dernieres],
            [c.depart for c in dernieres],
            garder,
            garder,
        ),
    )


def planning_ouvert(curs: Cursor[Any], s: str, e: Planning.Ouvert) -> None:
    _PLANNINGS[e.originator_id] = (e.enfant_id, e.accueil_id, e.famille_id)
    curs.execute(
        f"INSERT INTO {s}.proj_plannings (planning_id, enfant_id, accueil_id, famille_id) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (e.originator_id, e.enfant_id, e.accueil_id, e.famille_id),
    )


def planning_reserve(curs: Cursor[Any], s: str, e: Planning.Reserve | Planning.MisEnListeAttente) -> None:
    etat = "reserve" if isinstance(e, Planning.Reserve) else "liste_attente"
    cases = [
        Case(ligne.jour, ligne.unite, etat, (ligne.majoration_cents, ligne.majoration_pourcent))
        for ligne in e.lignes
    ]
    _ecrire(curs, s, _planning(curs, s, e), cases)


def planning_annule(curs: Cursor[Any], s: str, e: Planning.Annule) -> None:
    ids = _planning(curs, s, e)
    _ecrire(
        curs,
        s,
        ids,
        [Case(ligne.jour, ligne.unite, "annule", (None, None), ligne.facturable) for ligne in e.lignes],
    )
    # Cancelling while a place was on offer withdraws the offer.
    curs.executemany(
        f"UPDATE {s}.proj_offres SET statut = 'retiree' WHERE enfant_id = %s AND accueil_id = %s"
        " AND jour = %s AND unite = %s AND statut = 'proposee'",
        [(ids[0], ids[1], ligne.jour, ligne.unite) for ligne in e.lignes],
    )


def planning_promu(curs: Cursor[Any], s: str, e: Planning.PromuDeListeAttente) -> None:
    _ecrire(curs, s, _planning(curs, s, e), [Case(e.jour, e.unite, "reserve")])


def planning_absence(curs: Cursor[Any], s: str, e: Planning.AbsenceDeclaree) -> None:
    etat = "absent_justifie" if e.document_id is not None else "absent_non_justifie"
    _ecrire(curs, s, _planning(curs, s, e), [Case(e.jour, unite, etat) for unite in e.unites])


def planning_pointe(curs: Cursor[Any], s: str, e: Planning.Pointe) -> None:
    cases = [Case(p.jour, p.unite, p.etat.value, arrivee=p.arrivee, depart=p.depart) for p in e.pointages]
    _ecrire(curs, s, _planning(curs, s, e), cases)


def offre_recue(curs: Cursor[Any], s: str, e: Planning.OffreRecue) -> None:
    enfant_id, accueil_id, famille_id = _planning(curs, s, e)
    curs.execute(
        f"INSERT INTO {s}.proj_offres (offre_id, enfant_id, famille_id, accueil_id, jour, unite, expire_le, statut)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, 'proposee') ON CONFLICT DO NOTHING",
        (e.offre_id, enfant_id, famille_id, accueil_id, e.jour, e.unite, e.expire_le),
    )


def offre_acceptee(curs: Cursor[Any], s: str, e: Planning.OffreAcceptee) -> None:
    curs.execute(f"UPDATE {s}.proj_offres SET statut = 'acceptee' WHERE offre_id = %s", (e.offre_id,))
    _ecrire(curs, s, _planning(curs, s, e), [Case(e.jour, e.unite, "reserve")])


def offre_perdue(curs: Cursor[Any], s: str, e: Planning.OffrePerdue) -> None:
    statut = "expiree" if e.expiree else "refusee"
    curs.execute(f"UPDATE {s}.proj_offres SET statut = %s WHERE offre_id = %s", (statut, e.offre_id))
    _ecrire(curs, s, _planning(curs, s, e), [Case(e.jour, e.unite, "annule", (None, None))])


def facture_emise(curs: Cursor[Any], s: str, e: Facture.Emise) -> None:
    statut = "avoir" if e.montant_cents < 0 else ("payee" if e.montant_cents == 0 else "a_payer")
    curs.execute(
        f"INSERT INTO {s}.proj_factures (facture_id, famille_id, numero, periode, emise_le, echeance,"
        " montant_cents, reste_a_payer_cents, statut) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (
            e.originator_id,
            e.famille_id,
            e.numero,
            e.periode,
            e.emise_le,
            e.echeance,
            e.montant_cents,
            max(e.montant_cents, 0),
            statut,
        ),
    )


def encours_affecte(curs: Cursor[Any], s: str, e: Encours.Affecte | Encours.PrelevementRejete) -> None:
    signe = -1 if isinstance(e, Encours.Affecte) else 1
    for a in e.affectations:
        curs.execute(
            f"UPDATE {s}.proj_factures SET reste_a_payer_cents = reste_a_payer_cents + %s,"
            " statut = CASE WHEN reste_a_payer_cents + %s = 0 THEN 'payee'"
            " WHEN reste_a_payer_cents + %s < montant_cents THEN 'partiellement_payee' ELSE 'a_payer' END"
            " WHERE facture_id = %s",
            (signe * a.montant_cents, signe * a.montant_cents, signe * a.montant_cents, a.facture_id),
        )


def document_ecrit(curs: Cursor[Any], s: str, e: Any) -> None:
    if isinstance(e, Document.Depose):
        # The application's clock (the audit time), which the expiry reminders count from.
        horodatage = (getattr(e, "audit", None) or {}).get("horodatage")
        depose_le = datetime.fromisoformat(horodatage) if horodatage else e.timestamp
        curs.execute(
            f"INSERT INTO {s}.proj_documents (document_id, famille_id, enfant_id, type, media_type, taille, statut,"
            " depose_le) VALUES (%s, %s, %s, %s, %s, %s, 'depose', %s) ON CONFLICT DO NOTHING",
            (e.originator_id, e.famille_id, e.enfant_id, e.type.value, e.media_type, e.taille, depose_le),
        )
    else:
        statut = "valide" if isinstance(e, Document.Valide) else "refuse"
        curs.execute(
            f"UPDATE {s}.proj_documents SET statut = %s WHERE document_id = %s", (statut, e.originator_id)
        )


def actualite_publiee(curs: Cursor[Any], s: str, e: Actualite.Publiee) -> None:
    curs.execute(
        f"INSERT INTO {s}.proj_actualites (actualite_id, titre, contenu, accueils, publiee_le)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (e.originator_id, e.titre, e.contenu, list(e.accueils), e.publiee_le),
    )


def capacite_ouverte(curs: Cursor[Any], s: str, e: Capacite.Ouverte) -> None:
    curs.execute(
        f"INSERT INTO {s}.proj_capacites (capacite_id, accueil_id, jour) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (e.originator_id, e.accueil_id, e.jour),
    )


def _compter(curs: Cursor[Any], s: str, e: Any, reserves: int, attente: int) -> None:
    curs.execute(
        f"SELECT accueil_id, jour FROM {s}.proj_capacites WHERE capacite_id = %s", (e.originator_id,)
    )
    ligne = curs.fetchone()
    assert ligne is not None
    curs.execute(
        f"INSERT INTO {s}.proj_occupation (accueil_id, jour, unite, reserves, attente) VALUES (%s, %s, %s, %s, %s)"
        f" ON CONFLICT (accueil_id, jour, unite) DO UPDATE SET reserves = {s}.proj_occupation.reserves + EXCLUDED.reserves,"
        f" attente = {s}.proj_occupation.attente + EXCLUDED.attente",
        (ligne["accueil_id"], ligne["jour"], e.unite, reserves, attente),
    )


def enfant_ecrit(curs: Cursor[Any], s: str, e: Any) -> None:
    if isinstance(e, Enfant.Inscrit):
        ident = e.identite
        scol = e.scolarite
        curs.execute(
            f"INSERT INTO {s}.proj_enfants (enfant_id, famille_id, nom, prenom, date_naissance, niveau)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (enfant_id) DO NOTHING",
            (
                e.originator_id,
                e.famille_id,
                ident.nom if ident else None,
                ident.prenom if ident else None,
                ident.date_naissance if ident else None,
                scol.niveau.value if scol and scol.niveau else None,
            ),
        )
    elif isinstance(e, Enfant.IdentiteModifiee):
        ident = e.identite
        curs.execute(
            f"UPDATE {s}.proj_enfants SET nom = %s, prenom = %s, date_naissance = %s WHERE enfant_id = %s",
            (
                ident.nom if ident else None,
                ident.prenom if ident else None,
                ident.date_naissance if ident else None,
                e.originator_id,
            ),
        )
    elif isinstance(e, Enfant.ScolariteModifiee):
        niveau = e.scolarite.niveau.value if e.scolarite.niveau else None
        curs.execute(
            f"UPDATE {s}.proj_enfants SET niveau = %s WHERE enfant_id = %s", (niveau, e.originator_id)
        )
    elif isinstance(e, Enfant.SanteModifiee):
        sante = e.sante
        curs.execute(
            f"UPDATE {s}.proj_enfants SET allergies = %s, pai = %s, regime = %s, fiche_valable_jusqu_au = %s"
            " WHERE enfant_id = %s",
            (
                list(sante.allergies) if sante else [],
                bool(sante and sante.pai),
                sante.regime_alimentaire.value if sante else None,
                e.valable_jusqu_au,
                e.originator_id,
            ),
        )
    elif isinstance(e, Enfant.Efface):
        curs.execute(f"DELETE FROM {s}.proj_enfants WHERE enfant_id = %s", (e.originator_id,))


def accueil_cree(curs: Cursor[Any], s: str, e: Accueil.Cree) -> None:
    c = e.configuration
    curs.execute(
        f"INSERT INTO {s}.proj_accueils (accueil_id, etablissement, mode_accueil, periode_libelle, debut, fin)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (e.originator_id, c.etablissement, c.mode_accueil, c.periode.libelle, c.periode.debut, c.periode.fin),
    )


GESTIONNAIRES: dict[type, Gestionnaire] = {
    Planning.Ouvert: planning_ouvert,
    Planning.Reserve: planning_reserve,
    Planning.MisEnListeAttente: planning_reserve,
    Planning.Annule: planning_annule,
    Planning.PromuDeListeAttente: planning_promu,
    Planning.AbsenceDeclaree: planning_absence,
    Planning.Pointe: planning_pointe,
    Capacite.Ouverte: capacite_ouverte,
    Capacite.PlaceAttribuee: lambda c, s, e: _compter(c, s, e, 1, 0),
    Capacite.MisEnAttente: lambda c, s, e: _compter(c, s, e, 0, 1),
    Capacite.PlaceLiberee: lambda c, s, e: _compter(c, s, e, -1, 0),
    Capacite.SortiDeLAttente: lambda c, s, e: _compter(c, s, e, 0, -1),
    Capacite.Promu: lambda c, s, e: _compter(c, s, e, 1, -1),
    Capacite.OffreFaite: lambda c, s, e: _compter(c, s, e, 1, -1),
    Capacite.OffreRetiree: lambda c, s, e: _compter(c, s, e, -1, 0),
    Planning.OffreRecue: offre_recue,
    Planning.OffreAcceptee: offre_acceptee,
    Planning.OffrePerdue: offre_perdue,
    Enfant.Inscrit: enfant_ecrit,
    Enfant.IdentiteModifiee: enfant_ecrit,
    Enfant.ScolariteModifiee: enfant_ecrit,
    Enfant.SanteModifiee: enfant_ecrit,
    Enfant.Efface: enfant_ecrit,
    Accueil.Cree: accueil_cree,
    Facture.Emise: facture_emise,
    Document.Depose: document_ecrit,
    Document.Valide: document_ecrit,
    Document.Refuse: document_ecrit,
    Actualite.Publiee: actualite_publiee,
    Encours.Affecte: encours_affecte,
    Encours.PrelevementRejete: encours_affecte,
}

TOPICS = tuple(getattr(cls, "TOPIC") for cls in GESTIONNAIRES)  # noqa: B009
