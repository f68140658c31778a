"""Parents' bookings, cancellations and absences, and the agents' pointage.

Each command loads the child's planning and the capacity of every day it touches, decides item by
item, and saves them all in one transaction: either every accepted item is recorded or none is.
A concurrent writer makes the save fail on a version; the command then runs again on fresh state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from portail.application.contexte import Contexte
from portail.application.familles import PARIS, ServiceFamilles
from portail.application.offre import ServiceOffre
from portail.application.portail import Portail
from portail.application.verrous import VerrousParCle
from portail.domain.accueil import Accueil, ModeListeAttente, Unite
from portail.domain.capacite import Attribution, Capacite, OffreIndisponible
from portail.domain.enfant import Enfant
from portail.domain.erreurs import ErreurChamp, ErreurValidation, Introuvable, Validateur
from portail.domain.famille import Famille
from portail.domain.planning import RESERVES, Etat, Ligne, Planning, Pointage
from portail.domain.regles.calendrier import Calendrier
from portail.domain.regles.delais import Decision, a_paris, evaluer

RESERVE = "reserve"
LISTE_ATTENTE = "liste_attente"
REFUSE = "refuse"
ANNULE = "annule"

CAPACITES_GARDEES_MAX = 2_000
"""Day capacities a process keeps after saving them."""


@dataclass(frozen=True)
class Resultat:
    date: date
    unite: str
    statut: str
    motif: str | None = None
    majoration_cents: int | None = None
    majoration_pourcent: int | None = None
    facturable: bool | None = None


def _date_heure(instant: datetime) -> str:
    return instant.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


class ServiceReservations:
    def __init__(
        self, portail: Portail, familles: ServiceFamilles, offre: ServiceOffre, calendrier: Calendrier
    ) -> None:
        self.portail = portail
        self.familles = familles
        self.offre = offre
        self.calendrier = calendrier
        self.verrous = VerrousParCle()
        self._capacites_gardees: OrderedDict[UUID, Capacite] = OrderedDict()
        self._verrou_gardees = threading.Lock()

    # Loading

    def _planning(self, enfant: Enfant, accueil_id: UUID) -> Planning:
        planning_id = Planning.id_pour(enfant.id, accueil_id)
        try:
            planning: Planning = self.portail.repository.get(planning_id)
        except AggregateNotFoundError:
            return Planning(
                id=planning_id, enfant_id=enfant.id, accueil_id=accueil_id, famille_id=enfant.famille_id
            )
        return planning

    def liberer_avenir(self, contexte: Contexte, famille_id: UUID, enfant_id: UUID, accueil_id: UUID) -> int:
        """Cancel, without charge, every booking and waiting-list entry from today on: the places
        go to the children waiting. Returns how many day-units were freed."""
        planning = self.planning_existant(enfant_id, accueil_id)
        if planning is None:
            return 0
        aujourd_hui = self.familles.aujourd_hui()
        demandes = [
            (jour, code)
            for jour, code, presence in planning.jours_presences()
            if jour >= aujourd_hui and presence.etat in (Etat.RESERVE, Etat.LISTE_ATTENTE)
        ]
        if demandes:
            self.annuler(contexte, famille_id, enfant_id, accueil_id, demandes, None, sans_delai=True)
        return len(demandes)

    def _tenir_capacites(
        self, accueil_id: UUID, demandes: list[tuple[date, Unite]]
    ) -> AbstractContextManager[None]:
        """The days whose Capacite the command may change (units with a capacity)."""
        jours = {jour for jour, unite in demandes if unite.capacite is not None}
        return self.verrous.tenir(Capacite.id_pour(accueil_id, jour) for jour in jours)

    def planning_existant(self, enfant_id: UUID, accueil_id: UUID) -> Planning | None:
        try:
            planning: Planning = self.portail.repository.get(Planning.id_pour(enfant_id, accueil_id))
        except AggregateNotFoundError:
            return None
        return planning

    def _capacite(self, capacites: dict[date, Capacite], accueil_id: UUID, jour: date) -> Capacite:
        """The day's Capacite: the one this process saved last if nothing was recorded since (one
        query instead of a load), else loaded. It leaves the kept ones while a command uses it, so
        a command that fails leaves nothing half-changed behind; `_garder` puts it back."""
        if jour not in capacites:
            capacite_id = Capacite.id_pour(accueil_id, jour)
            with self._verrou_gardees:
                gardee = self._capacites_gardees.pop(capacite_id, None)
            if gardee is not None and not self.portail.recorder.select_events(
                capacite_id, gt=gardee.version, limit=1
            ):
                capacites[jour] = gardee
                return gardee
            try:
                capacites[jour] = self.portail.repository.get(capacite_id)
            except AggregateNotFoundError:
                capacites[jour] = Capacite(id=capacite_id, accueil_id=accueil_id, jour=jour)
        return capacites[jour]

    def _garder(self, *capacites: Capacite) -> None:
        """After a save: on an opening morning the same days are asked for again at once."""
        with self._verrou_gardees:
            for capacite in capacites:
                self._capacites_gardees[capacite.id] = capacite
                self._capacites_gardees.move_to_end(capacite.id)
            while len(self._capacites_gardees) > CAPACITES_GARDEES_MAX:
                self._capacites_gardees.popitem(last=False)

    def _unites(self, accueil: Accueil, demandes: list[tuple[date, str]], champ: str) -> list[Unite]:
        v = Validateur()
        unites: list[Unite] = []
        for i, (_, code) in enumerate(demandes):
            unite = accueil.unite(code)
            if unite is None:
                codes = ", ".join(u.code for u in accueil.config.unites)
                v.ajouter(f"{champ}[{i}].unite", f"unité inconnue ; unités de cet accueil : {codes}")
            else:
                unites.append(unite)
        v.lever_si_erreurs()
        return unites

    def resident(self, famille_id: UUID) -> bool:
        parametres = self.offre.parametres_lus()
        if parametres is None:
            return True
        return parametres.commune.est_residente(self.portail.lire(Famille, famille_id).adresse)

    # Booking

    def reserver(
        self,
        contexte: Contexte,
        famille_id: UUID,
        enfant_id: UUID,
        accueil_id: UUID,
        demandes: list[tuple[date, str]],
    ) -> list[Resultat]:
        accueil = self.offre.accueil_demande(accueil_id)
        unites = self._unites(accueil, demandes, "presences")
        enfant = self.familles.enfant(famille_id, enfant_id, lecture=True)
        uniques = list(dict.fromkeys(zip((j for j, _ in demandes), unites, strict=True)))

        def commande() -> list[Resultat]:
            maintenant = self.portail.horloge()
            resident = self.resident(famille_id)
            planning = self._planning(enfant, accueil.id)
            capacites: dict[date, Capacite] = {}
            decisions: dict[tuple[date, str], Resultat] = {}
            acceptes: dict[date, set[str]] = {}
            reserves: list[Ligne] = []
            attentes: list[Ligne] = []
            # Units that need another are decided last, once the others of the batch are known.
            ordre = sorted(uniques, key=lambda du: bool(du[1].requiert))
            for jour, unite in ordre:
                resultat = self._decider(
                    accueil, enfant, planning, jour, unite, maintenant, resident, acceptes, capacites
                )
                decisions[(jour, unite.code)] = resultat
                ligne = Ligne(jour, unite.code, resultat.majoration_cents, resultat.majoration_pourcent)
                if resultat.statut == RESERVE and planning.etat(jour, unite.code) not in RESERVES:
                    reserves.append(ligne)
                elif (
                    resultat.statut == LISTE_ATTENTE
                    and planning.etat(jour, unite.code) is not Etat.LISTE_ATTENTE
                ):
                    attentes.append(ligne)
            planning.reserver(reserves)
            planning.mettre_en_attente(attentes)
            autres = self._liberer_places(accueil, capacites, maintenant, {enfant.id: planning})
            self.portail.enregistrer(contexte, planning, *capacites.values(), *autres)
            self._garder(*capacites.values())
            return [decisions[(jour, unite.code)] for jour, unite in uniques]

        with self._tenir_capacites(accueil.id, uniques):
            return self.portail.avec_reessais(commande)

    def _decider(
        self,
        accueil: Accueil,
        enfant: Enfant,
        planning: Planning,
        jour: date,
        unite: Unite,
        maintenant: datetime,
        resident: bool,
        acceptes: dict[date, set[str]],
        capacites: dict[date, Capacite],
    ) -> Resultat:
        code = unite.code
        etat = planning.etat(jour, code)
        if etat in RESERVES:
            acceptes.setdefault(jour, set()).add(code)
            return Resultat(jour, code, RESERVE)
        if etat is Etat.LISTE_ATTENTE:
            return Resultat(jour, code, LISTE_ATTENTE)
        if motif := accueil.motif_fermeture(jour, self.calendrier):
            return Resultat(jour, code, REFUSE, f"fermé : {motif}")
        identite = enfant.identite
        niveau = enfant.scolarite.niveau
        if motif := accueil.motif_non_eligible(
            niveau, identite.date_naissance if identite else None, resident, jour
        ):
            return Resultat(jour, code, REFUSE, f"non éligible : {motif}")
        ouverture = accueil.ouverture_pour(resident)
        if ouverture is not None and maintenant < ouverture:
            return Resultat(jour, code, REFUSE, f"inscriptions ouvertes à partir du {_date_heure(ouverture)}")
        decision = evaluer(
            accueil.config.regle_reservation, jour, unite.heure_debut, maintenant, self.calendrier
        )
        if decision.refusee:
            return Resultat(jour, code, REFUSE, f"délai dépassé : limite le {_date_heure(decision.limite)}")
        deja = planning.unites_reservees(jour) | acceptes.get(jour, set())
        incompatibles = [
            autre.code
            for autre in accueil.config.unites
            if autre.code in deja and (autre.code in unite.incompatibles or code in autre.incompatibles)
        ]
        if incompatibles:
            return Resultat(jour, code, REFUSE, f"incompatible avec {', '.join(incompatibles)}")
        manquantes = [r for r in unite.requiert if r not in deja]
        if manquantes:
            return Resultat(jour, code, REFUSE, f"nécessite aussi {', '.join(manquantes)}")
        majoration = _majoration(decision)
        if unite.capacite is None:
            # Nothing to share: a unit without a capacity never contends on the day's Capacite
            # stream, so a commune's whole canteen can book the same day without conflicts.
            acceptes.setdefault(jour, set()).add(code)
            return Resultat(jour, code, RESERVE, None, *majoration)
        capacite = self._capacite(capacites, accueil.id, jour)
        attribution = capacite.demander(
            enfant.id, code, unite.capacite, accueil.config.liste_attente is not ModeListeAttente.AUCUNE
        )
        if attribution is Attribution.PLACE:
            acceptes.setdefault(jour, set()).add(code)
            return Resultat(jour, code, RESERVE, None, *majoration)
        if attribution is Attribution.ATTENTE:
            return Resultat(
                jour, code, LISTE_ATTENTE, "complet : inscrit sur la liste d'attente", *majoration
            )
        return Resultat(jour, code, REFUSE, "complet sans liste d'attente")

    def recopier(
        self,
        contexte: Contexte,
        famille_id: UUID,
        enfant_id: UUID,
        accueil_id: UUID,
        semaine_du: date,
        jusqu_au: date,
    ) -> list[Resultat]:
        """Book, on every later week up to `jusqu_au`, the units reserved in the week from `semaine_du`."""
        if not date(2000, 1, 1) <= semaine_du <= jusqu_au <= date(2100, 12, 31):
            raise ErreurValidation.sur("jusqu_au", "doit suivre semaine_du, entre 2000 et 2100")
        if (jusqu_au - semaine_du).days > 400:
            raise ErreurValidation.sur("jusqu_au", "au plus un an de recopie")
        accueil = self.offre.accueil_demande(accueil_id)
        enfant = self.familles.enfant(famille_id, enfant_id, lecture=True)
        planning = self.planning_existant(enfant.id, accueil.id)
        modele: list[tuple[int, str]] = []
        if planning is not None:
            for decalage in range(7):
                jour = semaine_du + timedelta(days=decalage)
                modele.extend((decalage, code) for code in sorted(planning.unites_reservees(jour)))
        demandes: list[tuple[date, str]] = []
        debut = semaine_du + timedelta(weeks=1)
        while debut <= jusqu_au:
            demandes.extend(
                (debut + timedelta(days=d), code)
                for d, code in modele
                if debut + timedelta(days=d) <= jusqu_au
            )
            debut += timedelta(weeks=1)
        if not demandes:
            return []
        return self.reserver(contexte, famille_id, enfant_id, accueil_id, demandes)

    # Cancelling

    def annuler(
        self,
        contexte: Contexte,
        famille_id: UUID,
        enfant_id: UUID,
        accueil_id: UUID,
        demandes: list[tuple[date, str]],
        motif: str | None,
        *,
        sans_delai: bool = False,
    ) -> list[Resultat]:
        """`sans_delai`: the commune cancels (erasure): no deadline, nothing billed."""
        accueil = self.offre.accueil_demande(accueil_id)
        unites = self._unites(accueil, demandes, "presences")
        enfant = self.familles.enfant(famille_id, enfant_id, lecture=True)
        uniques = list(dict.fromkeys(zip((j for j, _ in demandes), unites, strict=True)))

        def commande() -> list[Resultat]:
            maintenant = self.portail.horloge()
            planning = self._planning(enfant, accueil.id)
            capacites: dict[date, Capacite] = {}
            annulees: list[Ligne] = []
            resultats: list[Resultat] = []
            for jour, unite in uniques:
                etat = planning.etat(jour, unite.code)
                if etat is Etat.ANNULE:
                    presence = planning.presence(jour, unite.code)
                    resultats.append(
                        Resultat(jour, unite.code, ANNULE, facturable=bool(presence and presence.facturable))
                    )
                    continue
                if etat not in (Etat.RESERVE, Etat.LISTE_ATTENTE):
                    resultats.append(
                        Resultat(jour, unite.code, REFUSE, "aucune réservation à annuler", facturable=False)
                    )
                    continue
                facturable = False
                if etat is Etat.RESERVE and not sans_delai:
                    decision = evaluer(
                        accueil.config.regle_annulation, jour, unite.heure_debut, maintenant, self.calendrier
                    )
                    if decision.refusee:
                        limite = _date_heure(decision.limite)
                        resultats.append(
                            Resultat(
                                jour,
                                unite.code,
                                REFUSE,
                                f"délai d'annulation dépassé : limite le {limite}",
                                facturable=False,
                            )
                        )
                        continue
                    # A late cancellation the rule tolerates frees the place but stays billed.
                    facturable = not decision.a_temps
                if unite.capacite is not None:
                    self._capacite(capacites, accueil.id, jour).liberer(enfant.id, unite.code)
                annulees.append(Ligne(jour, unite.code, facturable=facturable))
                resultats.append(Resultat(jour, unite.code, ANNULE, facturable=facturable))
            planning.annuler(annulees, motif)
            autres = self._liberer_places(accueil, capacites, maintenant, {enfant.id: planning})
            self.portail.enregistrer(contexte, planning, *capacites.values(), *autres)
            self._garder(*capacites.values())
            return resultats

        with self._tenir_capacites(accueil.id, uniques):
            return self.portail.avec_reessais(commande)

    def _liberer_places(
        self,
        accueil: Accueil,
        capacites: dict[date, Capacite],
        maintenant: datetime,
        deja: dict[UUID, Planning],
    ) -> list[Planning]:
        """Freed places go to the waiting list in arrival order: given at once, or offered for a
        while where the accueil asks for it (expired offers pass to the next child)."""
        plannings: dict[UUID, Planning] = {}

        def planning_de(enfant_id: UUID) -> Planning:
            if enfant_id in deja:
                return deja[enfant_id]
            if enfant_id not in plannings:
                plannings[enfant_id] = self.portail.charger(Planning, Planning.id_pour(enfant_id, accueil.id))
            return plannings[enfant_id]

        mode = accueil.config.liste_attente
        for jour, capacite in capacites.items():
            if mode is ModeListeAttente.AUTOMATIQUE:
                for unite in accueil.config.unites:
                    for enfant_id in capacite.promouvoir(unite.code, unite.capacite):
                        planning_de(enfant_id).promouvoir(jour, unite.code)
            elif mode is ModeListeAttente.OFFRE:
                for code, offre in capacite.expirer(maintenant):
                    planning_de(offre.enfant_id).perdre_offre(offre.offre_id, jour, code, expiree=True)
                expire_le = maintenant + timedelta(hours=accueil.config.duree_offre_heures)
                for unite in accueil.config.unites:
                    for offre in capacite.proposer(unite.code, unite.capacite, expire_le):
                        planning_de(offre.enfant_id).recevoir_offre(
                            offre.offre_id, jour, unite.code, expire_le
                        )
        return list(plannings.values())

    # Offers

    def repondre_offre(
        self,
        contexte: Contexte,
        famille_id: UUID,
        offre_id: UUID,
        accepter: bool,
        lieu: tuple[UUID, UUID, date, str],
    ) -> Resultat:
        """Accept (the place becomes reserved) or refuse (it goes to the next child) an offer."""
        enfant_id, accueil_id, jour, code = lieu
        enfant = self.familles.enfant(famille_id, enfant_id, lecture=True)
        accueil = self.offre.accueil(accueil_id)

        def commande() -> Resultat | OffreIndisponible:
            maintenant = self.portail.horloge()
            planning = self._planning(enfant, accueil.id)
            capacites: dict[date, Capacite] = {}
            capacite = self._capacite(capacites, accueil.id, jour)
            offre = next((o for o in capacite.offres.get(code, []) if o.offre_id == offre_id), None)
            refus: OffreIndisponible | None = None
            if offre is None:
                refus = OffreIndisponible("Cette offre n'est plus disponible.")
            elif maintenant >= offre.expire_le:
                refus = OffreIndisponible(
                    "Cette offre a expiré ; la place a été proposée à l'enfant suivant."
                )
            elif accepter:
                capacite.accepter(offre_id, code, maintenant)
                planning.accepter_offre(offre_id, jour, code)
            else:
                capacite.refuser(offre_id, code)
                planning.perdre_offre(offre_id, jour, code, expiree=False)
            autres = self._liberer_places(accueil, capacites, maintenant, {enfant.id: planning})
            self.portail.enregistrer(contexte, planning, capacite, *autres)
            self._garder(capacite)
            if refus is not None:
                return refus
            return Resultat(jour, code, RESERVE if accepter else ANNULE)

        with self.verrous.tenir([Capacite.id_pour(accueil.id, jour)]):
            resultat = self.portail.avec_reessais(commande)
        if isinstance(resultat, OffreIndisponible):
            raise resultat
        return resultat

    def expirer_offres(self, contexte: Contexte, accueil_id: UUID, jour: date) -> int:
        """Expire that day's offers whose time is up and offer the places to the next children in
        line, without waiting for a command to touch the day. Returns how many offers expired;
        records nothing when none has (run twice, or late, it does no harm)."""
        accueil = self.offre.accueil(accueil_id)

        def commande() -> int:
            maintenant = self.portail.horloge()
            try:
                capacite: Capacite = self.portail.repository.get(Capacite.id_pour(accueil.id, jour))
            except AggregateNotFoundError:
                return 0
            capacites = {jour: capacite}
            autres = self._liberer_places(accueil, capacites, maintenant, {})
            expirees = sum(isinstance(e, Capacite.OffreRetiree) for e in capacite.pending_events)
            self.portail.enregistrer(contexte, capacite, *autres)
            return expirees

        with self.verrous.tenir([Capacite.id_pour(accueil.id, jour)]):
            return self.portail.avec_reessais(commande)

    # Absences and pointage

    def declarer_absence(
        self,
        contexte: Contexte,
        famille_id: UUID,
        enfant_id: UUID,
        accueil_id: UUID,
        jour: date,
        codes: list[str],
        motif: str,
        document_id: UUID | None,
    ) -> None:
        accueil = self.offre.accueil_demande(accueil_id)
        unites = self._unites(accueil, [(jour, c) for c in codes], "unites")
        enfant = self.familles.enfant(famille_id, enfant_id, lecture=True)
        if not motif.strip():
            raise ErreurValidation.sur("motif", "indiquer le motif de l'absence")

        debut = min(u.heure_debut for u in unites)
        if self.portail.horloge() >= a_paris(jour, debut):
            # Once the unit has started, what happened is the agents' pointage, not a declaration.
            raise ErreurValidation.sur("date", "une absence se signale avant le début de l'accueil")

        def commande() -> None:
            planning = self._planning(enfant, accueil.id)
            non_reservees = [u.code for u in unites if planning.etat(jour, u.code) is not Etat.RESERVE]
            if non_reservees:
                raise ErreurValidation(
                    [
                        ErreurChamp(
                            "unites", f"aucune réservation le {jour:%d/%m/%Y} pour {', '.join(non_reservees)}"
                        )
                    ]
                )
            planning.declarer_absence(jour, tuple(u.code for u in unites), motif.strip()[:500], document_id)
            self.portail.enregistrer(contexte, planning)

        self.portail.avec_reessais(commande)

    def pointer(
        self,
        contexte: Contexte,
        accueil_id: UUID,
        jour: date,
        pointages: list[tuple[UUID, str, str, time | None, time | None]],
    ) -> None:
        """Record who came: present, absent, or present without a booking; never a future day."""
        if jour > self.familles.aujourd_hui():
            raise ErreurValidation.sur("date", "on ne pointe pas un jour à venir")
        accueil = self.offre.accueil_demande(accueil_id)
        if motif := accueil.motif_fermeture(jour, self.calendrier):
            raise ErreurValidation.sur("date", f"l'accueil était fermé ce jour-là ({motif})")
        v = Validateur()
        for i, (_, code, statut, arrivee, depart) in enumerate(pointages):
            if accueil.unite(code) is None:
                v.ajouter(f"pointages[{i}].unite", "unité inconnue")
            if statut not in {"present", "absent", "present_non_reserve"}:
                v.ajouter(f"pointages[{i}].statut", "present, absent ou present_non_reserve")
            if arrivee and depart and depart < arrivee:
                v.ajouter(f"pointages[{i}].depart", "le départ précède l'arrivée")
        v.lever_si_erreurs()
        enfants: dict[UUID, Enfant] = {}
        for i, (enfant_id, *_rest) in enumerate(pointages):
            try:
                enfants[enfant_id] = self.portail.charger(Enfant, enfant_id)
            except Introuvable:
                raise ErreurValidation.sur(f"pointages[{i}].enfant_id", "enfant inconnu") from None

        def commande() -> None:
            plannings: dict[UUID, Planning] = {}
            par_enfant: dict[UUID, list[Pointage]] = {}
            for enfant_id, code, statut, arrivee, depart in pointages:
                planning = plannings.get(enfant_id) or self._planning(enfants[enfant_id], accueil.id)
                plannings[enfant_id] = planning
                etat_actuel = planning.etat(jour, code)
                if statut == "absent":
                    if etat_actuel not in RESERVES:
                        raise ErreurValidation.sur(
                            "pointages", f"absence pointée sans réservation ({code}) : rien à pointer"
                        )
                    etat = (
                        Etat.ABSENT_JUSTIFIE
                        if etat_actuel is Etat.ABSENT_JUSTIFIE
                        else Etat.ABSENT_NON_JUSTIFIE
                    )
                elif statut == "present" and etat_actuel in RESERVES:
                    etat = Etat.PRESENT
                else:
                    etat = Etat.PRESENT_NON_RESERVE
                par_enfant.setdefault(enfant_id, []).append(Pointage(jour, code, etat, arrivee, depart))
            for enfant_id, lignes in par_enfant.items():
                plannings[enfant_id].pointer(lignes)
            self.portail.enregistrer(contexte, *plannings.values())

        self.portail.avec_reessais(commande)


def _majoration(decision: Decision) -> tuple[int | None, int | None]:
    if decision.majoration is None:
        return None, None
    return decision.majoration.majoration_cents, decision.majoration.majoration_pourcent
