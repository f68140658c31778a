"""Billing periods: campaigns computed from the log up to a recorded position, issued with
gap-free numbers, replayed as of any position, corrected by differences only."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from portail.application.contexte import Contexte
from portail.application.familles import PARIS
from portail.application.portail import Portail
from portail.domain.accueil import Accueil
from portail.domain.campagne import (
    Campagne,
    EmissionsPeriode,
    Facture,
    FactureEmise,
    Numerotation,
    Report,
    Totaux,
)
from portail.domain.commune import ID_PARAMETRES, Parametres
from portail.domain.encours import Encours, ModeReglement
from portail.domain.enfant import Enfant
from portail.domain.erreurs import ErreurValidation, Introuvable, RegleMetier
from portail.domain.facturation import (
    Calcul,
    EnfantFacture,
    FamilleFacturee,
    LigneFacture,
    Periode,
    PresencesDuMois,
    calculer,
)
from portail.domain.faits_comptables import FaitsComptables, facturables, lisible
from portail.domain.famille import Famille
from portail.domain.planning import Planning

PREFIXES_FAITS = (
    "portail:Famille.",
    "portail:Enfant.",
    "portail:Accueil.",
    "portail:Planning.",
    "portail:Parametres.",
)
ECHEANCE_JOURS = 30


class ServiceFacturation:
    def __init__(self, portail: Portail) -> None:
        self.portail = portail
        self._faits: OrderedDict[int, dict[UUID, Aggregate]] = OrderedDict()
        self._verrou = threading.Lock()

    # Positions

    def position(self, jusqu_a: int | datetime | None) -> int:
        """A log position given as itself, as a date-time (the last event recorded by then), or now."""
        fin = self.portail.recorder.max_notification_id() or 0
        if jusqu_a is None:
            return fin
        if isinstance(jusqu_a, int):
            if not 0 <= jusqu_a <= fin:
                raise ErreurValidation.sur("jusqu_a", f"position entre 0 et {fin}")
            return jusqu_a
        instant = jusqu_a if jusqu_a.tzinfo else jusqu_a.replace(tzinfo=PARIS)
        # Positions follow commit order, so event times grow with them: a binary search for the
        # last event recorded at or before `instant` (ids may have gaps).
        bas, haut = 0, fin
        while bas < haut:
            milieu = (bas + haut + 1) // 2
            page = self.portail.recorder.select_notifications(start=milieu, limit=1)
            if page and page[0].id <= haut and self._horodatage(page[0]) <= instant:
                bas = page[0].id
            else:
                haut = milieu - 1
        return bas

    def _horodatage(self, notification: Any) -> datetime:
        """When the application recorded the event (its audit time, on the application clock)."""
        evenement = self.portail.mapper.to_domain_event(notification)
        audit = getattr(evenement, "audit", None)
        if isinstance(audit, dict) and audit.get("horodatage"):
            return datetime.fromisoformat(audit["horodatage"])
        horodatage: datetime = evenement.timestamp  # type: ignore[attr-defined]
        return horodatage

    # Facts as of a position

    def faits(self, position: int) -> dict[UUID, Aggregate]:
        """The aggregates billing reads, as they stood at `position` (folded from the log)."""
        with self._verrou:
            if position in self._faits:
                self._faits.move_to_end(position)
                return self._faits[position]
        etat: dict[UUID, Aggregate] = {}
        debut = 0
        while debut < position:
            page = self.portail.recorder.select_notifications(
                start=debut, limit=1000, stop=position, inclusive_of_start=False
            )
            if not page:
                break
            for notification in page:
                if notification.topic.startswith(PREFIXES_FAITS):
                    evenement = self.portail.mapper.to_domain_event(notification)
                    etat[evenement.originator_id] = evenement.mutate(etat.get(evenement.originator_id))  # type: ignore[attr-defined]
            debut = page[-1].id
        with self._verrou:
            self._faits[position] = etat
            while len(self._faits) > 2:
                self._faits.popitem(last=False)
        return etat

    def calculer(self, periode: Periode, position: int) -> Calcul:
        etat = self.faits(position)
        parametres = etat.get(ID_PARAMETRES)
        familles: dict[UUID, FamilleFacturee] = {}
        enfants: dict[UUID, EnfantFacture] = {}
        accueils: dict[UUID, Accueil] = {}
        plannings: list[PresencesDuMois] = []
        enfants_de: dict[UUID, list[Enfant]] = {}
        for aggregat in etat.values():
            if isinstance(aggregat, Enfant):
                enfants_de.setdefault(aggregat.famille_id, []).append(aggregat)
        for aggregat in etat.values():
            if isinstance(aggregat, Famille):
                facturee, siens = facturables(
                    aggregat,
                    enfants_de.get(aggregat.id, ()),
                    parametres if isinstance(parametres, Parametres) else None,
                    position,
                    self._faits_conserves(aggregat),
                )
                familles.update(facturee)
                enfants.update(siens)
            elif isinstance(aggregat, Accueil):
                accueils[aggregat.id] = aggregat
            elif isinstance(aggregat, Planning):
                presences = tuple(aggregat.presences_du_mois(periode.annee, periode.mois))
                if presences:
                    plannings.append(PresencesDuMois(aggregat.enfant_id, aggregat.accueil_id, presences))
        return calculer(periode.annee, periode.mois, familles, enfants, accueils, plannings)

    def _faits_conserves(self, famille: Famille) -> FaitsComptables | None:
        """An erased family's facts. Recorded at its erasure, they hold every position until then:
        a computation at an earlier position, which does not fold them, reads them from the
        family's latest state."""
        if lisible(famille):
            return None
        return famille.faits_comptables or self.portail.lire(Famille, famille.id).faits_comptables

    # Campaigns

    def campagne(self, campagne_id: UUID) -> Campagne:
        try:
            return self.portail.charger(Campagne, campagne_id)
        except Introuvable:
            raise Introuvable("Campagne introuvable.") from None

    def preparer(
        self, contexte: Contexte, periode_texte: str, jusqu_a: int | datetime | None
    ) -> tuple[Campagne, Calcul]:
        periode = Periode.lire(periode_texte)
        for existante in self.faits_campagnes().values():
            if (
                existante.periode == str(periode)
                and existante.campagne_origine is None
                and existante.emise_le
            ):
                raise RegleMetier(
                    f"La période {periode} est déjà facturée ; une campagne corrective porte les changements."
                )
        position = self.position(jusqu_a)
        calcul = self.calculer(periode, position)
        totaux = Totaux(len(calcul.par_famille()), len(calcul.lignes), calcul.montant_cents)
        campagne = Campagne(
            periode=str(periode),
            position=position,
            campagne_origine=None,
            totaux=totaux,
            anomalies=len(calcul.anomalies),
            empreinte=calcul.empreinte,
        )
        self.portail.enregistrer(contexte, campagne)
        return campagne, calcul

    def lignes(self, campagne: Campagne) -> Calcul:
        """A campaign's lines, recomputed from its position (a corrective one: its differences)."""
        periode = Periode.lire(campagne.periode)
        if campagne.campagne_origine is None:
            calcul = self.calculer(periode, campagne.position)
        else:
            calcul = self._differences(campagne.campagne_origine, periode, campagne.position)
        if calcul.empreinte != campagne.empreinte:
            raise RegleMetier("Les lignes recalculées ne correspondent plus à l'empreinte de la campagne.")
        return calcul

    def corriger(
        self, contexte: Contexte, campagne_id: UUID, jusqu_a: int | datetime | None
    ) -> tuple[Campagne, Calcul]:
        origine = self.campagne(campagne_id)
        while origine.campagne_origine is not None:
            origine = self.campagne(origine.campagne_origine)
        if origine.emise_le is None:
            raise RegleMetier(
                "Seule une campagne émise se corrige ; ce brouillon peut simplement être refait."
            )
        periode = Periode.lire(origine.periode)
        position = self.position(jusqu_a)
        calcul = self._differences(origine.id, periode, position)
        totaux = Totaux(len(calcul.par_famille()), len(calcul.lignes), calcul.montant_cents)
        corrective = Campagne(
            periode=str(periode),
            position=position,
            campagne_origine=origine.id,
            totaux=totaux,
            anomalies=len(calcul.anomalies),
            empreinte=calcul.empreinte,
        )
        self.portail.enregistrer(contexte, corrective)
        return corrective, calcul

    def _factures_de_la_periode(self, periode: Periode, avant: int) -> list[Facture]:
        """Invoices issued before `avant` (a log position) that may bill days of `periode`: the
        period's own campaigns, and later ones that carried it."""
        factures: list[Facture] = []
        for campagne in self.faits_campagnes().values():
            if campagne.emise_le is None or campagne.position >= avant or campagne.periode < str(periode):
                continue
            factures.extend(self.portail.charger(Facture, f.facture_id) for f in campagne.factures)
        return factures

    def faits_campagnes(self) -> dict[UUID, Campagne]:
        fin = self.portail.recorder.max_notification_id() or 0
        campagnes: dict[UUID, Campagne] = {}
        debut = 0
        while debut < fin:
            page = self.portail.recorder.select_notifications(
                start=debut, limit=1000, stop=fin, inclusive_of_start=False, topics=(Campagne.Preparee.TOPIC,)
            )
            if not page:
                break
            for notification in page:
                campagne_id = UUID(str(notification.originator_id))
                campagnes[campagne_id] = self.campagne(campagne_id)
            debut = page[-1].id
        return campagnes

    def _differences(self, origine_id: UUID, periode: Periode, position: int) -> Calcul:
        """Only what changed since issue: a line cancelling what was billed, then the new line."""
        facturees: dict[tuple[str, str, str, str, str], list[LigneFacture]] = {}
        for facture in self._factures_de_la_periode(periode, position):
            for ligne in facture.lignes:
                if (ligne.jour.year, ligne.jour.month) == (periode.annee, periode.mois):
                    facturees.setdefault(ligne.cle, []).append(ligne)
        # A month still waiting to be carried is billed, fresh, when it is: nothing to correct.
        en_report = {f for f, periodes in self._reports_ouverts().items() if str(periode) in periodes}
        # An erased family's facts can no longer be read in full (residence, birth order): what
        # was issued to it stands, and nothing is recomputed against it.
        en_report |= {a.id for a in self.faits(position).values() if isinstance(a, Famille) and a.effacee}
        nouveau = self.calculer(periode, position)
        actuelles = {ligne.cle: ligne for ligne in nouveau.lignes if ligne.famille_id not in en_report}
        facturees = {k: v for k, v in facturees.items() if v[0].famille_id not in en_report}
        differences: list[LigneFacture] = []
        for cle in sorted(set(facturees) | set(actuelles)):
            lignes = facturees.get(cle, [])
            net_quantite = sum(ligne.quantite for ligne in lignes)
            net_montant = sum(ligne.montant_cents for ligne in lignes)
            actuelle = actuelles.get(cle)
            if actuelle is not None and (actuelle.quantite, actuelle.montant_cents) == (
                net_quantite,
                net_montant,
            ):
                continue
            if actuelle is None and net_montant == 0 and net_quantite == 0:
                continue
            if lignes and (net_quantite or net_montant):
                derniere = lignes[-1]
                differences.append(
                    LigneFacture(
                        famille_id=derniere.famille_id,
                        enfant_id=derniere.enfant_id,
                        accueil_id=derniere.accueil_id,
                        accueil=derniere.accueil,
                        jour=derniere.jour,
                        unite=derniere.unite,
                        nature=derniere.nature,
                        quantite=-net_quantite,
                        prix_unitaire_cents=derniere.prix_unitaire_cents,
                        montant_cents=-net_montant,
                        explication=f"annulation de la ligne facturée : {derniere.explication}",
                    )
                )
            if actuelle is not None:
                differences.append(actuelle)
        return Calcul(tuple(differences), nouveau.anomalies)

    def emettre(self, contexte: Contexte, campagne_id: UUID, seuil_cents: int | None = None) -> Campagne:
        """Issue one invoice per family (a credit note when the difference is negative), numbered
        without gap in the same transaction; a family under the threshold is carried over."""
        campagne = self.campagne(campagne_id)
        if campagne.emise_le is not None:
            raise RegleMetier("Cette campagne a déjà été émise.")
        self._verifier_a_jour(campagne)
        calcul = self.lignes(campagne)
        parametres = self._parametres()
        seuil = (
            seuil_cents
            if seuil_cents is not None
            else (parametres.seuil_facturation_cents if parametres else 0)
        )
        prefixe = parametres.regie.prefixe_factures if parametres and parametres.regie else "F"

        def commande() -> Campagne:
            actuelle = self.campagne(campagne_id)
            if actuelle.emise_le is not None:
                raise RegleMetier("Cette campagne a déjà été émise.")
            # Checked again inside the retried command, after `emissions` is read: an issue of the
            # same period committed before that read is seen by the check, one committed after it
            # makes this save conflict on `emissions`, and the retry's check sees it.
            emissions = self._emissions(actuelle.periode)
            self._verifier_a_jour(actuelle)
            emissions.noter(actuelle.id)
            aujourd_hui = self.portail.horloge().astimezone(PARIS).date()
            numerotation = self._numerotation(prefixe, aujourd_hui.year)
            corrective = actuelle.campagne_origine is not None
            par_famille = calcul.par_famille()
            # Months left under the threshold come along on the family's next invoice, priced
            # on the facts known now.
            reports: dict[UUID, list[str]] = (
                {} if corrective else self._reports_ouverts(exclure=actuelle.periode)
            )
            for famille_id, periodes in reports.items():
                for periode in periodes:
                    lignes_report = self.calculer(Periode.lire(periode), actuelle.position).lignes
                    par_famille.setdefault(famille_id, []).extend(
                        ligne for ligne in lignes_report if ligne.famille_id == famille_id
                    )
            a_facturer: list[tuple[UUID, list[LigneFacture]]] = []
            reportees: list[UUID] = []
            reports_inclus: list[Report] = []
            for famille_id, lignes in sorted(par_famille.items(), key=lambda fl: str(fl[0])):
                total = sum(ligne.montant_cents for ligne in lignes)
                if (not corrective and total < seuil) or not any(ligne.montant_cents for ligne in lignes):
                    if any(ligne.jour.strftime("%Y-%m") == actuelle.periode for ligne in lignes):
                        reportees.append(famille_id)
                else:
                    a_facturer.append((famille_id, lignes))
                    reports_inclus.extend(Report(p, famille_id) for p in reports.get(famille_id, []))
            numeros = numerotation.attribuer(len(a_facturer))
            factures: list[Facture] = []
            emises: list[FactureEmise] = []
            for numero, (famille_id, lignes) in zip(numeros, a_facturer, strict=True):
                montant = sum(ligne.montant_cents for ligne in lignes)
                facture = Facture(
                    numero=numero,
                    famille_id=famille_id,
                    campagne_id=actuelle.id,
                    periode=actuelle.periode,
                    lignes=tuple(lignes),
                    montant_cents=montant,
                    emise_le=aujourd_hui,
                    echeance=aujourd_hui + timedelta(days=ECHEANCE_JOURS),
                )
                factures.append(facture)
                emises.append(FactureEmise(famille_id, facture.id, numero, montant))
            actuelle.emettre(aujourd_hui, emises, reportees, reports_inclus)
            encours = [self._encours(f.famille_id) for f in factures]
            for facture, compte in zip(factures, encours, strict=True):
                compte.facture_emise(facture.id, facture.numero, facture.montant_cents, facture.echeance)
            # Invoices first: the read models see an invoice before what pays it.
            self.portail.enregistrer(contexte, actuelle, emissions, numerotation, *factures, *encours)
            return actuelle

        return self.portail.avec_reessais(commande)

    def _verifier_a_jour(self, campagne: Campagne) -> None:
        """A draft that would bill a period twice is refused: another campaign of the period was
        issued, or (for a correction) one was issued from facts this draft did not see."""
        for autre in self.faits_campagnes().values():
            if autre.id == campagne.id or autre.emise_le is None:
                continue
            if (
                campagne.campagne_origine is None
                and autre.periode == campagne.periode
                and autre.campagne_origine is None
            ):
                raise RegleMetier(f"La période {campagne.periode} est déjà facturée par une autre campagne.")
            if (
                campagne.campagne_origine is not None
                and autre.periode >= campagne.periode
                and autre.position >= campagne.position
            ):
                raise RegleMetier(
                    "Une facturation plus récente a été émise : préparez une nouvelle campagne corrective."
                )

    def _reports_ouverts(self, exclure: str | None = None) -> dict[UUID, list[str]]:
        """Families' months left uninvoiced under the threshold and not yet carried."""
        ouverts: set[tuple[str, UUID]] = set()
        inclus: set[tuple[str, UUID]] = set()
        for campagne in self.faits_campagnes().values():
            if campagne.emise_le is None or campagne.campagne_origine is not None:
                continue
            ouverts.update((campagne.periode, f) for f in campagne.reportees)
            inclus.update((r.periode, r.famille_id) for r in campagne.reports_inclus)
        resultat: dict[UUID, list[str]] = {}
        for periode, famille_id in sorted(ouverts - inclus, key=lambda pf: (pf[0], str(pf[1]))):
            if periode != exclure:
                resultat.setdefault(famille_id, []).append(periode)
        return resultat

    def _parametres(self) -> Parametres | None:
        try:
            parametres: Parametres = self.portail.repository.get(ID_PARAMETRES)
        except AggregateNotFoundError:
            return None
        return parametres

    def _emissions(self, periode: str) -> EmissionsPeriode:
        emissions_id = EmissionsPeriode.id_pour(periode)
        try:
            emissions: EmissionsPeriode = self.portail.repository.get(emissions_id)
        except AggregateNotFoundError:
            return EmissionsPeriode(id=emissions_id, periode=periode)
        return emissions

    def _numerotation(self, prefixe: str, annee: int) -> Numerotation:
        numerotation_id = Numerotation.id_pour(prefixe, annee)
        try:
            numerotation: Numerotation = self.portail.repository.get(numerotation_id)
        except AggregateNotFoundError:
            return Numerotation(id=numerotation_id, prefixe=prefixe, annee=annee)
        return numerotation

    def _encours(self, famille_id: UUID) -> Encours:
        encours_id = Encours.id_pour(famille_id)
        try:
            encours: Encours = self.portail.repository.get(encours_id)
        except AggregateNotFoundError:
            return Encours(id=encours_id, famille_id=famille_id)
        return encours

    def encours(self, famille_id: UUID) -> Encours:
        return self._encours(famille_id)

    def regler(
        self,
        contexte: Contexte,
        famille_id: UUID,
        montant_cents: int,
        mode: str,
        reference: str | None,
        reglement_id: UUID | None = None,
    ) -> tuple[UUID, Encours]:
        """Record a payment; it pays the oldest open invoices first, the rest stays as credit."""
        try:
            mode_v = ModeReglement(mode)
        except ValueError:
            raise ErreurValidation.sur("mode", "carte, prelevement, cheque, especes ou cesu") from None
        self.portail.charger(Famille, famille_id)
        identifiant = reglement_id or uuid4()

        def commande() -> Encours:
            encours = self._encours(famille_id)
            encours.recevoir(
                identifiant, montant_cents, mode_v, reference, self.portail.horloge().astimezone(PARIS).date()
            )
            self.portail.enregistrer(contexte, encours)
            return encours

        return identifiant, self.portail.avec_reessais(commande)

    def rejeter_prelevement(
        self, contexte: Contexte, famille_id: UUID, reglement_id: UUID, motif: str
    ) -> Encours:
        def commande() -> Encours:
            encours = self._encours(famille_id)
            encours.rejeter_prelevement(reglement_id, motif)
            self.portail.enregistrer(contexte, encours)
            return encours

        return self.portail.avec_reessais(commande)

    def facture(self, facture_id: UUID) -> Facture:
        try:
            return self.portail.charger(Facture, facture_id)
        except Introuvable:
            raise Introuvable("Facture introuvable.") from None
