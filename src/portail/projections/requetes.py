"""Reads served from the read models (never by replaying aggregates, accueils aside: a handful of
small configuration streams)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from portail.domain.accueil import Accueil
from portail.domain.planning import Etat
from portail.domain.regles.calendrier import Calendrier
from portail.domain.regles.delais import evaluer
from portail.store import lecture

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

    from portail.application.offre import ServiceOffre

MODIFIABLES = {"reserve", "liste_attente"}
PLACES_TENUES = ("reserve", "present", "absent_justifie", "absent_non_justifie")
"""States in which a child holds a place (pointed absent or not, until cancelled)."""


@dataclass(frozen=True)
class CaseCalendrier:
    accueil_id: UUID
    code: str
    etat: str
    modifiable_jusqu_au: datetime | None
    motif: str | None = None


@dataclass(frozen=True)
class LigneOccupation:
    jour: date
    unite: str
    capacite: int | None
    reserves: int
    attente: int


class Lectures:
    def __init__(self, datastore: PostgresDatastore, offre: ServiceOffre, calendrier: Calendrier) -> None:
        self._ds = datastore
        self._s = datastore.schema
        self.offre = offre
        self.calendrier = calendrier

    def _lignes(self, requete: str, parametres: tuple[Any, ...]) -> list[Any]:
        return lecture.lignes(self._ds, requete, parametres)

    def accueils_ouverts(self, du: date, au: date) -> list[Accueil]:
        lignes = self._lignes(
            f"SELECT accueil_id FROM {self._s}.proj_accueils WHERE debut <= %s AND fin >= %s ORDER BY etablissement, debut",
            (au, du),
        )
        return [self.offre.accueil_lu(ligne["accueil_id"]) for ligne in lignes]

    def accueils_pour(
        self, niveau: Any, naissance: date | None, resident: bool, aujourd_hui: date
    ) -> list[Accueil]:
        """Offers this child may book: période not over, eligible on its first bookable day."""
        candidats = self.accueils_ouverts(aujourd_hui, date.max)
        return [
            a
            for a in candidats
            if a.motif_non_eligible(niveau, naissance, resident, max(aujourd_hui, a.config.periode.debut))
            is None
        ]

    def planning_mois(
        self,
        enfant_id: UUID,
        mois: date,
        accueils: list[Accueil],
        maintenant: datetime,
    ) -> dict[date, list[CaseCalendrier]]:
        debut = mois.replace(day=1)
        fin = mois.replace(day=calendar.monthrange(mois.year, mois.month)[1])
        etats = {
            (ligne["accueil_id"], ligne["jour"], ligne["unite"]): ligne["etat"]
            for ligne in self._lignes(
                f"SELECT accueil_id, jour, unite, etat FROM {self._s}.proj_calendrier"
                " WHERE enfant_id = %s AND jour BETWEEN %s AND %s",
                (enfant_id, debut, fin),
            )
        }
        ids = [a.id for a in accueils]
        occupation = {
            (ligne["accueil_id"], ligne["jour"], ligne["unite"]): ligne["reserves"]
            for ligne in self._lignes(
                f"SELECT accueil_id, jour, unite, reserves FROM {self._s}.proj_occupation"
                " WHERE accueil_id = ANY(%s) AND jour BETWEEN %s AND %s",
                (ids, debut, fin),
            )
        }
        jours: dict[date, list[CaseCalendrier]] = {}
        jour = debut
        while jour <= fin:
            cases: list[CaseCalendrier] = []
            for accueil in accueils:
                fermeture = accueil.motif_fermeture(jour, self.calendrier)
                for unite in accueil.config.unites:
                    cle = (accueil.id, jour, unite.code)
                    etat = etats.get(cle)
                    if etat is None and fermeture is not None:
                        if not accueil.config.periode.contient(jour):
                            continue
                        cases.append(CaseCalendrier(accueil.id, unite.code, "ferme", None, fermeture))
                        continue
                    regle = (
                        accueil.config.regle_annulation
                        if etat in MODIFIABLES
                        else accueil.config.regle_reservation
                    )
                    decision = evaluer(regle, jour, unite.debut or time(0), maintenant, self.calendrier)
                    limite = decision.limite if etat in (None, *MODIFIABLES) else None
                    if etat is None:
                        plein = unite.capacite is not None and occupation.get(cle, 0) >= unite.capacite
                        if decision.refusee:
                            etat = "verrouille"
                        elif plein:
                            etat = "complet"
                        else:
                            etat = "libre"
                    cases.append(CaseCalendrier(accueil.id, unite.code, etat, limite))
            jours[jour] = cases
            jour += timedelta(days=1)
        return jours

    def pointage(self, accueil: Accueil, jour: date) -> list[dict[str, Any]]:
        """Children expected (or already pointed) that day, with what the agents must know."""
        lignes = self._lignes(
            f"SELECT c.enfant_id, c.unite, c.etat, c.arrivee, c.depart, e.nom, e.prenom, e.allergies, e.pai"
            f" FROM {self._s}.proj_calendrier c LEFT JOIN {self._s}.proj_enfants e ON e.enfant_id = c.enfant_id"
            " WHERE c.accueil_id = %s AND c.jour = %s AND c.etat <> %s AND c.etat <> %s"
            " ORDER BY e.nom NULLS LAST, e.prenom NULLS LAST, c.enfant_id, c.unite",
            (accueil.id, jour, Etat.ANNULE.value, Etat.LISTE_ATTENTE.value),
        )
        enfants: dict[UUID, dict[str, Any]] = {}
        for ligne in lignes:
            fiche = enfants.setdefault(
                ligne["enfant_id"],
                {
                    "enfant_id": ligne["enfant_id"],
                    "nom": ligne["nom"],
                    "prenom": ligne["prenom"],
                    "allergies": list(ligne["allergies"] or []),
                    "pai": bool(ligne["pai"]),
                    "unites": [],
                },
            )
            fiche["unites"].append(
                {
                    "code": ligne["unite"],
                    "etat": ligne["etat"],
                    "arrivee": ligne["arrivee"],
                    "depart": ligne["depart"],
                }
            )
        return list(enfants.values())

    def occupation(self, accueil: Accueil, du: date, au: date) -> list[LigneOccupation]:
        """Units with a capacity are counted by their Capacite streams; units without one book
        without such a stream, so their children are counted from the calendar."""
        capacites = {u.code: u.capacite for u in accueil.config.unites}
        illimitees = [code for code, capacite in capacites.items() if capacite is None]
        lignes = self._lignes(
            f"SELECT jour, unite, reserves, attente FROM {self._s}.proj_occupation"
            " WHERE accueil_id = %s AND jour BETWEEN %s AND %s AND NOT unite = ANY(%s)"
            " UNION ALL"
            f" SELECT jour, unite, count(*)::integer AS reserves, 0 AS attente FROM {self._s}.proj_calendrier"
            " WHERE accueil_id = %s AND jour BETWEEN %s AND %s AND unite = ANY(%s) AND etat = ANY(%s)"
            " GROUP BY jour, unite"
            " ORDER BY jour, unite",
            (accueil.id, du, au, illimitees, accueil.id, du, au, illimitees, list(PLACES_TENUES)),
        )
        return [
            LigneOccupation(
                ligne["jour"],
                ligne["unite"],
                capacites.get(ligne["unite"]),
                ligne["reserves"],
                ligne["attente"],
            )
            for ligne in lignes
        ]

    def offres_ouvertes(self, famille_id: UUID, maintenant: datetime) -> list[Any]:
        return self._lignes(
            f"SELECT offre_id, enfant_id, accueil_id, jour, unite, expire_le FROM {self._s}.proj_offres"
            " WHERE famille_id = %s AND statut = 'proposee' AND expire_le > %s ORDER BY expire_le",
            (famille_id, maintenant),
        )

    def offre_par_id(self, offre_id: UUID) -> Any | None:
        lignes = self._lignes(
            f"SELECT offre_id, enfant_id, famille_id, accueil_id, jour, unite FROM {self._s}.proj_offres"
            " WHERE offre_id = %s",
            (offre_id,),
        )
        return lignes[0] if lignes else None

    def factures(self, famille_id: UUID) -> list[Any]:
        return self._lignes(
            f"SELECT facture_id, numero, periode, emise_le, echeance, montant_cents, reste_a_payer_cents, statut"
            f" FROM {self._s}.proj_factures WHERE famille_id = %s ORDER BY emise_le DESC, numero DESC",
            (famille_id,),
        )

    def facture_resume(self, facture_id: UUID) -> Any | None:
        lignes = self._lignes(
            f"SELECT facture_id, famille_id, numero, periode, emise_le, echeance, montant_cents,"
            f" reste_a_payer_cents, statut FROM {self._s}.proj_factures WHERE facture_id = %s",
            (facture_id,),
        )
        return lignes[0] if lignes else None

    def brouillons(self, mois: str, famille_id: UUID | None = None) -> list[Any]:
        if famille_id is None:
            return self._lignes(
                f"SELECT famille_id, lignes, montant_cents, anomalies FROM {self._s}.proj_brouillons"
                " WHERE mois = %s ORDER BY famille_id",
                (mois,),
            )
        return self._lignes(
            f"SELECT famille_id, lignes, montant_cents, anomalies FROM {self._s}.proj_brouillons"
            " WHERE mois = %s AND famille_id = %s",
            (mois, famille_id),
        )

    def accueils_de_l_enfant(self, enfant_id: UUID) -> list[UUID]:
        return [
            ligne["accueil_id"]
            for ligne in self._lignes(
                f"SELECT accueil_id FROM {self._s}.proj_plannings WHERE enfant_id = %s ORDER BY accueil_id",
                (enfant_id,),
            )
        ]

    def documents(self, famille_id: UUID | None = None, statut: str | None = None) -> list[Any]:
        conditions: list[str] = []
        parametres: list[Any] = []
        if famille_id is not None:
            conditions.append("famille_id = %s")
            parametres.append(famille_id)
        if statut is not None:
            conditions.append("statut = %s")
            parametres.append(statut)
        where = " AND ".join(conditions) or "TRUE"
        return self._lignes(
            f"SELECT document_id, famille_id, enfant_id, type, media_type, taille, statut, depose_le"
            f" FROM {self._s}.proj_documents WHERE {where} ORDER BY depose_le DESC LIMIT 500",
            tuple(parametres),
        )

    def actualites(self, famille_id: UUID) -> list[Any]:
        """News for everyone, and for the accueils where the family has a child."""
        return self._lignes(
            f"SELECT actualite_id, titre, contenu, accueils, publiee_le FROM {self._s}.proj_actualites a"
            " WHERE cardinality(a.accueils) = 0 OR a.accueils && ARRAY("
            f"SELECT accueil_id FROM {self._s}.proj_plannings WHERE famille_id = %s)"
            " ORDER BY publiee_le DESC LIMIT 100",
            (famille_id,),
        )
