"""The booking rules: what happens to a batch of bookings, cancellations, offer answers, absences
and pointages, decided on the aggregates they touch (`docs/reservations.md` §4–8).

Pure: no I/O, the instant and the calendar are given. The application loads the accueil, the
child's planning and the facts (is the family resident, what time it is); the day capacities and
the other children's plannings are asked for through a `Chargeur` only when the decision turns out
to need them, because a unit without a capacity must never read its day's stream (a whole canteen
books the same day without contention) and only a freed place reads the plannings of the children
waiting. A `Lot` collects every aggregate it changed, for one save.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from portail.domain.accueil import Accueil, ModeListeAttente, Unite
from portail.domain.capacite import Attribution, Capacite, OffreIndisponible
from portail.domain.enfant import Enfant
from portail.domain.erreurs import ErreurValidation, Validateur
from portail.domain.planning import RESERVES, Etat, Ligne, Planning, Pointage
from portail.domain.regles.calendrier import PARIS, Calendrier
from portail.domain.regles.delais import Decision, a_paris, evaluer


class Statut(Enum):
    """What became of one requested day-unit."""

    RESERVE = "reserve"
    LISTE_ATTENTE = "liste_attente"
    REFUSE = "refuse"
    ANNULE = "annule"


class StatutPointage(Enum):
    """What the agent saw; the state recorded also depends on the booking (`etat_pointe`)."""

    PRESENT = "present"
    ABSENT = "absent"
    PRESENT_NON_RESERVE = "present_non_reserve"


@dataclass(frozen=True)
class DemandeReservation:
    """One day-unit asked for, to book or to cancel."""

    jour: date
    unite: str


@dataclass(frozen=True)
class DemandePointage:
    enfant_id: UUID
    unite: str
    statut: StatutPointage
    arrivee: time | None = None
    depart: time | None = None


@dataclass(frozen=True)
class LieuOffre:
    """Where an offered place is held: which child, accueil, day and unit."""

    enfant_id: UUID
    accueil_id: UUID
    jour: date
    unite: str


@dataclass(frozen=True)
class Resultat:
    jour: date
    unite: str
    statut: Statut
    motif: str | None = None
    majoration_cents: int | None = None
    majoration_pourcent: int | None = None
    facturable: bool | None = None


class Chargeur(Protocol):
    """The aggregates a decision may need beyond those it was given, loaded by the application."""

    def capacite(self, jour: date) -> Capacite:
        """The day's places of the accueil (a new, empty one when none was recorded)."""
        ...

    def planning(self, enfant_id: UUID) -> Planning:
        """Another child's planning at the accueil: a child waiting has one."""
        ...


def unites_demandees(accueil: Accueil, codes: Sequence[str], champ: str) -> list[Unite]:
    """The units a request names, every unknown code reported at once under `champ[i].unite`."""
    v = Validateur()
    unites: list[Unite] = []
    for i, code in enumerate(codes):
        unite = accueil.unite(code)
        if unite is None:
            connues = ", ".join(u.code for u in accueil.config.unites)
            v.ajouter(f"{champ}[{i}].unite", f"unité inconnue ; unités de cet accueil : {connues}")
        else:
            unites.append(unite)
    v.lever_si_erreurs()
    return unites


def _date_heure(instant: datetime) -> str:
    return instant.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def _majoration(decision: Decision) -> tuple[int | None, int | None]:
    if decision.majoration is None:
        return None, None
    return decision.majoration.majoration_cents, decision.majoration.majoration_pourcent


class Lot:
    """One command's decision at one accueil and instant; `agregats()` is what it changed.

    Every command that touches a day's places ends by giving the places freed to the waiting list
    (§6), in the same lot, so that the save that frees a place also fills it."""

    def __init__(
        self, accueil: Accueil, calendrier: Calendrier, maintenant: datetime, chargeur: Chargeur
    ) -> None:
        self.accueil = accueil
        self.calendrier = calendrier
        self.maintenant = maintenant
        self._chargeur = chargeur
        self._planning: Planning | None = None
        self._capacites: dict[date, Capacite] = {}
        self._autres: dict[UUID, Planning] = {}
        self.offres_expirees = 0

    def agregats(self) -> list[Aggregate]:
        """The command's planning, the day capacities it read, the other plannings it changed."""
        principal: list[Aggregate] = [self._planning] if self._planning is not None else []
        return [*principal, *self._capacites.values(), *self._autres.values()]

    def _capacite(self, jour: date) -> Capacite:
        if jour not in self._capacites:
            self._capacites[jour] = self._chargeur.capacite(jour)
        return self._capacites[jour]

    def _planning_de(self, enfant_id: UUID) -> Planning:
        if self._planning is not None and self._planning.enfant_id == enfant_id:
            return self._planning
        if enfant_id not in self._autres:
            self._autres[enfant_id] = self._chargeur.planning(enfant_id)
        return self._autres[enfant_id]

    def _unite(self, code: str) -> Unite:
        unite = self.accueil.unite(code)
        if unite is None:
            raise ErreurValidation.sur("unite", f"unité inconnue : {code}")
        return unite

    def _uniques(self, demandes: Sequence[DemandeReservation]) -> list[tuple[date, Unite]]:
        """One item per distinct day-unit, in first-seen order."""
        return list(dict.fromkeys((d.jour, self._unite(d.unite)) for d in demandes))

    # Booking

    def reserver(
        self, enfant: Enfant, planning: Planning, demandes: Sequence[DemandeReservation], resident: bool
    ) -> list[Resultat]:
        self._planning = planning
        uniques = self._uniques(demandes)
        acceptes: dict[date, set[str]] = {}
        decisions: dict[tuple[date, str], Resultat] = {}
        reserves: list[Ligne] = []
        attentes: list[Ligne] = []
        # A unit that needs another is decided once the others of the batch are known.
        for jour, unite in sorted(uniques, key=lambda ju: bool(ju[1].requiert)):
            avant = planning.etat(jour, unite.code)
            resultat = self._decider(enfant, planning, jour, unite, resident, acceptes)
            decisions[(jour, unite.code)] = resultat
            ligne = Ligne(jour, unite.code, resultat.majoration_cents, resultat.majoration_pourcent)
            if resultat.statut is Statut.RESERVE and avant not in RESERVES:
                reserves.append(ligne)
            elif resultat.statut is Statut.LISTE_ATTENTE and avant is not Etat.LISTE_ATTENTE:
                attentes.append(ligne)
        planning.reserver(reserves)
        planning.mettre_en_attente(attentes)
        self._liberer_places()
        return [decisions[(jour, unite.code)] for jour, unite in uniques]

    def _decider(
        self,
        enfant: Enfant,
        planning: Planning,
        jour: date,
        unite: Unite,
        resident: bool,
        acceptes: dict[date, set[str]],
    ) -> Resultat:
        """The first rule of §4's table that applies."""
        code = unite.code
        accueil = self.accueil
        etat = planning.etat(jour, code)
        if etat in RESERVES:
            acceptes.setdefault(jour, set()).add(code)
            return Resultat(jour, code, Statut.RESERVE)
        if etat is Etat.LISTE_ATTENTE:
            return Resultat(jour, code, Statut.LISTE_ATTENTE)
        if motif := accueil.motif_fermeture(jour, self.calendrier):
            return Resultat(jour, code, Statut.REFUSE, f"fermé : {motif}")
        naissance = enfant.identite.date_naissance if enfant.identite else None
        if motif := accueil.motif_non_eligible(enfant.scolarite.niveau, naissance, resident, jour):
            return Resultat(jour, code, Statut.REFUSE, f"non éligible : {motif}")
        ouverture = accueil.ouverture_pour(resident)
        if ouverture is not None and self.maintenant < ouverture:
            return Resultat(
                jour, code, Statut.REFUSE, f"inscriptions ouvertes à partir du {_date_heure(ouverture)}"
            )
        decision = evaluer(
            accueil.config.regle_reservation, jour, unite.heure_debut, self.maintenant, self.calendrier
        )
        if decision.refusee:
            return Resultat(
                jour, code, Statut.REFUSE, f"délai dépassé : limite le {_date_heure(decision.limite)}"
            )
        # Only the units this decision asks about: walking through a school year of day-units
        # cost each decision about 50 µs.
        tenues = planning.unites_reservees(
            jour, parmi=(*(u.code for u in accueil.config.unites), *unite.requiert)
        ) | acceptes.get(jour, set())
        incompatibles = [
            autre.code
            for autre in accueil.config.unites
            if autre.code in tenues and (autre.code in unite.incompatibles or code in autre.incompatibles)
        ]
        if incompatibles:
            return Resultat(jour, code, Statut.REFUSE, f"incompatible avec {', '.join(incompatibles)}")
        manquantes = [r for r in unite.requiert if r not in tenues]
        if manquantes:
            return Resultat(jour, code, Statut.REFUSE, f"nécessite aussi {', '.join(manquantes)}")
        majoration = _majoration(decision)
        if unite.capacite is None:
            # Nothing to share: the day's Capacite is neither read nor written.
            acceptes.setdefault(jour, set()).add(code)
            return Resultat(jour, code, Statut.RESERVE, None, *majoration)
        attribution = self._capacite(jour).demander(
            planning.enfant_id,
            code,
            unite.capacite,
            accueil.config.liste_attente is not ModeListeAttente.AUCUNE,
        )
        if attribution is Attribution.PLACE:
            acceptes.setdefault(jour, set()).add(code)
            return Resultat(jour, code, Statut.RESERVE, None, *majoration)
        if attribution is Attribution.ATTENTE:
            return Resultat(
                jour, code, Statut.LISTE_ATTENTE, "complet : inscrit sur la liste d'attente", *majoration
            )
        return Resultat(jour, code, Statut.REFUSE, "complet sans liste d'attente")

    # Cancelling

    def annuler(
        self,
        planning: Planning,
        demandes: Sequence[DemandeReservation],
        motif: str | None,
        *,
        sans_delai: bool = False,
    ) -> list[Resultat]:
        """`sans_delai`: the commune cancels (erasure): no deadline, nothing billed."""
        self._planning = planning
        annulees: list[Ligne] = []
        resultats: list[Resultat] = []
        for jour, unite in self._uniques(demandes):
            avant = planning.etat(jour, unite.code)
            resultat = self._annuler_un(planning, jour, unite, sans_delai)
            resultats.append(resultat)
            if resultat.statut is Statut.ANNULE and avant is not Etat.ANNULE:
                if unite.capacite is not None:
                    self._capacite(jour).liberer(planning.enfant_id, unite.code)
                annulees.append(Ligne(jour, unite.code, facturable=bool(resultat.facturable)))
        planning.annuler(annulees, motif)
        self._liberer_places()
        return resultats

    def _annuler_un(self, planning: Planning, jour: date, unite: Unite, sans_delai: bool) -> Resultat:
        """§5's table."""
        code = unite.code
        etat = planning.etat(jour, code)
        if etat is Etat.ANNULE:
            presence = planning.presence(jour, code)
            return Resultat(jour, code, Statut.ANNULE, facturable=bool(presence and presence.facturable))
        if etat not in (Etat.RESERVE, Etat.LISTE_ATTENTE):
            return Resultat(jour, code, Statut.REFUSE, "aucune réservation à annuler", facturable=False)
        if etat is Etat.LISTE_ATTENTE or sans_delai:
            return Resultat(jour, code, Statut.ANNULE, facturable=False)
        decision = evaluer(
            self.accueil.config.regle_annulation, jour, unite.heure_debut, self.maintenant, self.calendrier
        )
        if decision.refusee:
            limite = _date_heure(decision.limite)
            return Resultat(
                jour,
                code,
                Statut.REFUSE,
                f"délai d'annulation dépassé : limite le {limite}",
                facturable=False,
            )
        # A late cancellation the rule tolerates frees the place but stays billed.
        return Resultat(jour, code, Statut.ANNULE, facturable=not decision.a_temps)

    # Waiting lists and offers

    def repondre_offre(
        self, planning: Planning, offre_id: UUID, jour: date, unite: str, accepter: bool
    ) -> Resultat | OffreIndisponible:
        """Accept (the place becomes reserved) or refuse (it goes to the next child) an offer.

        A refusal is returned, not raised: an offer found expired has just passed to the next
        child, and that must be saved before the parent is told."""
        self._planning = planning
        capacite = self._capacite(jour)
        try:
            if accepter:
                capacite.accepter(offre_id, unite, self.maintenant)
                planning.accepter_offre(offre_id, jour, unite)
            else:
                capacite.refuser(offre_id, unite, self.maintenant)
                planning.perdre_offre(offre_id, jour, unite, expiree=False)
        except OffreIndisponible as refus:
            self._liberer_places()
            return refus
        self._liberer_places()
        return Resultat(jour, unite, Statut.RESERVE if accepter else Statut.ANNULE)

    def expirer_offres(self, capacite: Capacite) -> int:
        """Pass the day's expired offers to the next children; how many expired."""
        self._capacites[capacite.jour] = capacite
        avant = self.offres_expirees
        self._liberer_places()
        return self.offres_expirees - avant

    def _liberer_places(self) -> None:
        """Freed places go to the waiting list in arrival order, unit by unit in configuration
        order: given at once, or offered for a while where the accueil asks for it (an expired
        offer passes to the next child first)."""
        config = self.accueil.config
        for jour, capacite in self._capacites.items():
            if config.liste_attente is ModeListeAttente.AUTOMATIQUE:
                for unite in config.unites:
                    for enfant_id in capacite.promouvoir(unite.code, unite.capacite):
                        self._planning_de(enfant_id).promouvoir(jour, unite.code)
            elif config.liste_attente is ModeListeAttente.OFFRE:
                for code, offre in capacite.expirer(self.maintenant):
                    self._planning_de(offre.enfant_id).perdre_offre(offre.offre_id, jour, code, expiree=True)
                    self.offres_expirees += 1
                expire_le = self.maintenant + timedelta(hours=config.duree_offre_heures)
                for unite in config.unites:
                    for offre in capacite.proposer(unite.code, unite.capacite, expire_le):
                        self._planning_de(offre.enfant_id).recevoir_offre(
                            offre.offre_id, jour, unite.code, expire_le
                        )


# Absences


def declarer_absence(
    planning: Planning,
    jour: date,
    unites: Sequence[Unite],
    motif: str,
    document_id: UUID | None,
    maintenant: datetime,
) -> None:
    """Declared ahead of time, on booked units only (the planning refuses any other)."""
    if not unites:
        raise ErreurValidation.sur("unites", "indiquer au moins une unité")
    if maintenant >= a_paris(jour, min(u.heure_debut for u in unites)):
        # Once the unit has started, what happened is the agents' pointage, not a declaration.
        raise ErreurValidation.sur("date", "une absence se signale avant le début de l'accueil")
    planning.declarer_absence(jour, tuple(u.code for u in unites), motif, document_id)


# Pointage


def verifier_pointage(
    accueil: Accueil,
    jour: date,
    aujourd_hui: date,
    pointages: Sequence[DemandePointage],
    calendrier: Calendrier,
) -> None:
    """Never a day to come nor a day the accueil was closed; every line well formed."""
    if jour > aujourd_hui:
        raise ErreurValidation.sur("date", "on ne pointe pas un jour à venir")
    if motif := accueil.motif_fermeture(jour, calendrier):
        raise ErreurValidation.sur("date", f"l'accueil était fermé ce jour-là ({motif})")
    v = Validateur()
    for i, p in enumerate(pointages):
        if accueil.unite(p.unite) is None:
            v.ajouter(f"pointages[{i}].unite", "unité inconnue")
        if p.arrivee and p.depart and p.depart < p.arrivee:
            v.ajouter(f"pointages[{i}].depart", "le départ précède l'arrivée")
    v.lever_si_erreurs()


def etat_pointe(statut: StatutPointage, actuel: Etat | None, unite: str) -> Etat:
    """The state recorded for what the agent saw, given the booking (§8's table)."""
    if statut is StatutPointage.ABSENT:
        if actuel not in RESERVES:
            raise ErreurValidation.sur(
                "pointages", f"absence pointée sans réservation ({unite}) : rien à pointer"
            )
        return Etat.ABSENT_JUSTIFIE if actuel is Etat.ABSENT_JUSTIFIE else Etat.ABSENT_NON_JUSTIFIE
    if statut is StatutPointage.PRESENT and actuel in RESERVES:
        return Etat.PRESENT
    return Etat.PRESENT_NON_RESERVE


def pointer(
    jour: date, pointages: Sequence[DemandePointage], planning_de: Callable[[UUID], Planning]
) -> list[Planning]:
    """One `Pointe` per child, on lines `verifier_pointage` accepted; the plannings to save.
    A line refused refuses the whole request."""
    plannings: dict[UUID, Planning] = {}
    par_enfant: dict[UUID, list[Pointage]] = {}
    for p in pointages:
        if p.enfant_id not in plannings:
            plannings[p.enfant_id] = planning_de(p.enfant_id)
        etat = etat_pointe(p.statut, plannings[p.enfant_id].etat(jour, p.unite), p.unite)
        par_enfant.setdefault(p.enfant_id, []).append(Pointage(jour, p.unite, etat, p.arrivee, p.depart))
    for enfant_id, lignes in par_enfant.items():
        plannings[enfant_id].pointer(lignes)
    return list(plannings.values())


# Requests built from a planning


def a_liberer(planning: Planning, aujourd_hui: date) -> list[DemandeReservation]:
    """What an erasure cancels: every booking and waiting-list entry from today on."""
    return [
        DemandeReservation(jour, code)
        for jour, code, presence in planning.jours_presences()
        if jour >= aujourd_hui and presence.etat in (Etat.RESERVE, Etat.LISTE_ATTENTE)
    ]


def recopie(planning: Planning | None, semaine_du: date, jusqu_au: date) -> list[DemandeReservation]:
    """The units held in the seven days from `semaine_du`, asked again on the same weekday of
    every later week up to `jusqu_au`."""
    if planning is None:
        return []
    modele = [
        (decalage, code)
        for decalage in range(7)
        for code in sorted(planning.unites_reservees(semaine_du + timedelta(days=decalage)))
    ]
    demandes: list[DemandeReservation] = []
    debut = semaine_du + timedelta(weeks=1)
    while debut <= jusqu_au:
        demandes.extend(
            DemandeReservation(debut + timedelta(days=d), code)
            for d, code in modele
            if debut + timedelta(days=d) <= jusqu_au
        )
        debut += timedelta(weeks=1)
    return demandes
