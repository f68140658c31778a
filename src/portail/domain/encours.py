"""Encours: what a family owes — invoices issued, payments received, credit notes — and how
payments and credits are set against the oldest open invoices first."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from portail.domain.erreurs import Conflit, ErreurValidation, RegleMetier
from portail.domain.evenements import PortailEvent
from portail.domain.sepa import Sequence
from portail.domain.tarifs import euros


class SoldeNonRegle(Conflit):
    """The family still owes money: its invoices and debits need a debtor, so it is not erased."""

    titre = "Solde non réglé"


class ModeReglement(Enum):
    CARTE = "carte"
    PRELEVEMENT = "prelevement"
    CHEQUE = "cheque"
    ESPECES = "especes"
    CESU = "cesu"


class TypeAjustement(Enum):
    """What the régie records by hand on a family's account, with a reason."""

    GESTE_COMMERCIAL = "geste_commercial"
    GREVE = "greve"
    ADMISSION_EN_NON_VALEUR = "admission_en_non_valeur"
    AJUSTEMENT_POSITIF = "ajustement_positif"

    @property
    def credit(self) -> bool:
        """Lowers what the family owes, and so cites the invoice it corrects."""
        return self is not TypeAjustement.AJUSTEMENT_POSITIF


class ModeRemboursement(Enum):
    VIREMENT = "virement"
    CHEQUE = "cheque"
    ESPECES = "especes"


@dataclass(frozen=True)
class FactureOuverte:
    facture_id: UUID
    numero: str
    montant_cents: int
    echeance: date
    reste_cents: int


@dataclass(frozen=True)
class Affectation:
    facture_id: UUID
    montant_cents: int


@dataclass(frozen=True)
class Representation:
    """A rejected direct debit presented again: the invoices it reopened, on a chosen date."""

    reglement_id: UUID
    preleve_le: date
    affectations: tuple[Affectation, ...]


class Encours(Aggregate):
    TOPIC = "portail:Encours"
    DONNEES_PERSONNELLES = True

    class Event(Aggregate.Event, PortailEvent):
        SUJET_PERSONNEL = True

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Encours.Created"

    class Ouvert(Event, Aggregate.Created):
        TOPIC = "portail:Encours.Ouvert"
        famille_id: UUID

    class FactureDue(Event):
        TOPIC = "portail:Encours.FactureDue"
        facture_id: UUID
        numero: str
        montant_cents: int
        echeance: date

    class AvoirAcquis(Event):
        """A credit note: money the family may use against its invoices."""

        TOPIC = "portail:Encours.AvoirAcquis"
        facture_id: UUID
        numero: str
        montant_cents: int

    class ReglementRecu(Event):
        TOPIC = "portail:Encours.ReglementRecu"
        PERSONNEL = ("reference",)
        reglement_id: UUID
        montant_cents: int
        mode: ModeReglement
        reference: str | None
        recu_le: date

    class Affecte(Event):
        TOPIC = "portail:Encours.Affecte"
        affectations: tuple[Affectation, ...]

    class PrelevementRejete(Event):
        TOPIC = "portail:Encours.PrelevementRejete"
        PERSONNEL = ("motif",)
        reglement_id: UUID
        motif: str
        affectations: tuple[Affectation, ...]

    class PrelevementSurMandat(Event):
        """The mandate a collected direct debit was made under: the mandate's history of
        collections decides FRST or RCUR."""

        TOPIC = "portail:Encours.PrelevementSurMandat"
        reglement_id: UUID
        rum: str

    class PrelevementRepresente(Event):
        TOPIC = "portail:Encours.PrelevementRepresente"
        reglement_id: UUID
        preleve_le: date
        affectations: tuple[Affectation, ...]

    class AjustementEnregistre(Event):
        """A credit note, a write-off or an amount owed, recorded by hand: `montant_cents` is
        positive, `nature` says which way it goes."""

        TOPIC = "portail:Encours.AjustementEnregistre"
        PERSONNEL = ("motif",)
        ajustement_id: UUID
        nature: TypeAjustement
        montant_cents: int
        facture_id: UUID | None
        numero: str
        motif: str
        le: date
        echeance: date

    class Rembourse(Event):
        """Credit paid back to the family."""

        TOPIC = "portail:Encours.Rembourse"
        PERSONNEL = ("reference",)
        remboursement_id: UUID
        montant_cents: int
        mode: ModeRemboursement
        reference: str | None
        rembourse_le: date

    @staticmethod
    def id_pour(famille_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"/portail/encours/{famille_id}")

    @event(Ouvert)
    def __init__(self, id: UUID, famille_id: UUID) -> None:
        self.famille_id = famille_id
        self.factures: dict[str, FactureOuverte] = {}
        self.credit_cents = 0
        self.reglements: dict[str, int] = {}
        self.modes: dict[str, ModeReglement] = {}
        self.avoirs: list[UUID] = []
        self.affectations: dict[str, list[Affectation]] = {}
        self.rejetes: list[str] = []
        self.reprises: dict[str, tuple[Affectation, ...]] = {}
        self.mandats: dict[str, str] = {}
        self.representations: dict[str, Representation] = {}
        self.ajustements: dict[str, TypeAjustement] = {}
        self.credites: dict[str, int] = {}
        """Per invoice, what credit notes and write-offs recorded by hand took off it."""
        self.non_valeurs: dict[str, int] = {}
        self.remboursements: dict[str, int] = {}

    # Queries

    @property
    def du_cents(self) -> int:
        return sum(f.reste_cents for f in self.factures.values())

    @property
    def solde_cents(self) -> int:
        """Positive: the family owes; negative: the commune owes it."""
        return self.du_cents - self.credit_cents

    def verifier_solde_regle(self) -> None:
        """Refused while the family owes anything (unpaid invoices, or a debit balance)."""
        du = max(self.solde_cents, self.du_cents)
        if du <= 0:
            return
        ouvertes = len(self.ouvertes())
        factures = f" ({ouvertes} facture{'s' if ouvertes > 1 else ''} à régler)" if ouvertes else ""
        raise SoldeNonRegle(
            f"Cette famille doit encore {euros(du)}{factures} : elle ne peut être effacée"
            " qu'une fois son solde réglé."
        )

    def ouvertes(self) -> list[FactureOuverte]:
        return sorted(
            (f for f in self.factures.values() if f.reste_cents > 0), key=lambda f: (f.echeance, f.numero)
        )

    def sequence(self, rum: str) -> Sequence:
        """FRST until a debit made under this mandate has been collected and not rejected (so the
        first debit after a rejected FRST is a FRST again), RCUR afterwards."""
        encaisse = any(m == rum and r not in self.rejetes for r, m in self.mandats.items())
        return Sequence.RCUR if encaisse else Sequence.FRST

    def representee(self, facture_id: UUID) -> bool:
        """A re-presented debit collects this invoice: its campaign's file leaves it out."""
        return any(a.facture_id == facture_id for r in self.representations.values() for a in r.affectations)

    def a_representer(self, representation: Representation) -> int:
        """What a re-presentation debits: what it reopened, as far as it is still owed."""
        return sum(a.montant_cents for a in self._encore_du(representation.affectations))

    def _encore_du(self, affectations: tuple[Affectation, ...]) -> tuple[Affectation, ...]:
        """Each amount cut to what its invoice still owes; those with nothing left dropped."""
        return tuple(
            Affectation(a.facture_id, du)
            for a in affectations
            if (du := min(a.montant_cents, self.factures[str(a.facture_id)].reste_cents)) > 0
        )

    # Commands

    def facture_emise(self, facture_id: UUID, numero: str, montant_cents: int, echeance: date) -> None:
        if montant_cents < 0:
            self._avoir(facture_id=facture_id, numero=numero, montant_cents=-montant_cents)
        elif montant_cents > 0:
            self._due(facture_id=facture_id, numero=numero, montant_cents=montant_cents, echeance=echeance)
        self._affecter()

    @event(FactureDue)
    def _due(self, facture_id: UUID, numero: str, montant_cents: int, echeance: date) -> None:
        self.factures[str(facture_id)] = FactureOuverte(
            facture_id, numero, montant_cents, echeance, montant_cents
        )

    @event(AvoirAcquis)
    def _avoir(self, facture_id: UUID, numero: str, montant_cents: int) -> None:
        self.credit_cents += montant_cents
        self.avoirs.append(facture_id)

    def recevoir(
        self,
        reglement_id: UUID,
        montant_cents: int,
        mode: ModeReglement,
        reference: str | None,
        le: date,
        rum: str | None = None,
    ) -> None:
        """`rum`: for a direct debit, the mandate it was collected under."""
        if montant_cents <= 0:
            raise ErreurValidation.sur("montant_cents", "un règlement est un montant positif")
        if str(reglement_id) in self.reglements:
            return
        self._recu(
            reglement_id=reglement_id, montant_cents=montant_cents, mode=mode, reference=reference, recu_le=le
        )
        if mode is ModeReglement.PRELEVEMENT and rum is not None:
            self._sur_mandat(reglement_id=reglement_id, rum=rum)
        self._affecter()

    @event(ReglementRecu)
    def _recu(
        self,
        reglement_id: UUID,
        montant_cents: int,
        mode: ModeReglement,
        reference: str | None,
        recu_le: date,
    ) -> None:
        self.reglements[str(reglement_id)] = montant_cents
        self.modes[str(reglement_id)] = mode
        self.credit_cents += montant_cents

    @event(PrelevementSurMandat)
    def _sur_mandat(self, reglement_id: UUID, rum: str) -> None:
        self.mandats[str(reglement_id)] = rum

    def _affecter(self, d_abord: UUID | None = None) -> None:
        """Credit goes to the oldest open invoices first (to `d_abord` before them: the invoice a
        credit note corrects)."""
        disponible = self.credit_cents
        affectations: list[Affectation] = []
        for facture in sorted(self.ouvertes(), key=lambda f: f.facture_id != d_abord):
            if disponible <= 0:
                break
            montant = min(disponible, facture.reste_cents)
            affectations.append(Affectation(facture.facture_id, montant))
            disponible -= montant
        if affectations:
            self._affecte(affectations=tuple(affectations))

    @event(Affecte)
    def _affecte(self, affectations: tuple[Affectation, ...]) -> None:
        for a in affectations:
            facture = self.factures[str(a.facture_id)]
            self.factures[str(a.facture_id)] = replace(
                facture, reste_cents=facture.reste_cents - a.montant_cents
            )
            self.credit_cents -= a.montant_cents
            self.affectations.setdefault(str(a.facture_id), []).append(a)

    def rejeter_prelevement(self, reglement_id: UUID, motif: str) -> list[Affectation]:
        """A rejected direct debit takes its money back: the invoices it paid reopen."""
        cle = str(reglement_id)
        if cle not in self.reglements:
            raise RegleMetier("Règlement inconnu pour cette famille.")
        if self.modes.get(cle) is not ModeReglement.PRELEVEMENT:
            raise RegleMetier("Seul un prélèvement peut être rejeté par la banque.")
        if cle in self.rejetes:
            return []
        montant = self.reglements[cle]
        # Unused credit is taken back first; only the rest reopens invoices, newest first.
        montant -= min(max(self.credit_cents, 0), montant)
        reprises: list[Affectation] = []
        for facture in sorted(self.factures.values(), key=lambda f: (f.echeance, f.numero), reverse=True):
            if montant <= 0:
                break
            # A written-off amount was never paid: the rejection cannot reopen it.
            paye = (
                facture.montant_cents - facture.reste_cents - self.non_valeurs.get(str(facture.facture_id), 0)
            )
            reprise = min(paye, montant)
            if reprise > 0:
                reprises.append(Affectation(facture.facture_id, reprise))
                montant -= reprise
        self._rejete(reglement_id=reglement_id, motif=motif, affectations=tuple(reprises))
        return reprises

    @event(PrelevementRejete)
    def _rejete(self, reglement_id: UUID, motif: str, affectations: tuple[Affectation, ...]) -> None:
        repris = self.reglements[str(reglement_id)]
        for a in affectations:
            facture = self.factures[str(a.facture_id)]
            self.factures[str(a.facture_id)] = replace(
                facture, reste_cents=facture.reste_cents + a.montant_cents
            )
            repris -= a.montant_cents
        # What the rejected debit had left as credit is taken back too.
        self.credit_cents -= repris
        self.rejetes.append(str(reglement_id))
        self.reprises[str(reglement_id)] = affectations

    def representer(self, reglement_id: UUID, preleve_le: date) -> Representation:
        """Present a rejected debit again, once, for what it reopened and is still owed."""
        cle = str(reglement_id)
        if cle not in self.reglements:
            raise RegleMetier("Règlement inconnu pour cette famille.")
        if cle not in self.rejetes:
            raise RegleMetier("Seul un prélèvement rejeté peut être représenté.")
        if cle in self.representations:
            raise Conflit("Ce prélèvement rejeté a déjà été représenté.")
        affectations = self._encore_du(self.reprises[cle])
        if not affectations:
            raise RegleMetier("Rien à représenter : ce que ce prélèvement payait a été réglé depuis.")
        self._represente(reglement_id=reglement_id, preleve_le=preleve_le, affectations=affectations)
        return self.representations[cle]

    @event(PrelevementRepresente)
    def _represente(
        self, reglement_id: UUID, preleve_le: date, affectations: tuple[Affectation, ...]
    ) -> None:
        self.representations[str(reglement_id)] = Representation(reglement_id, preleve_le, affectations)

    def ajuster(
        self,
        ajustement_id: UUID,
        nature: TypeAjustement,
        montant_cents: int,
        facture_id: UUID | None,
        numero: str,
        motif: str,
        le: date,
        echeance: date,
    ) -> None:
        """A credit note (geste commercial, strike day) or a write-off lowers what the family owes
        on the invoice it cites, at most what that invoice still allows; a positive adjustment is
        a new amount owed, settled like an invoice."""
        if montant_cents <= 0:
            raise ErreurValidation.sur("montant_cents", "un montant positif, en centimes")
        if str(ajustement_id) in self.ajustements:
            return
        if nature.credit:
            if facture_id is None:
                raise ErreurValidation.sur(
                    "facture_id", "un avoir ou une admission en non-valeur cite sa facture"
                )
            facture = self.factures.get(str(facture_id))
            if facture is None:
                raise RegleMetier(
                    "Cette facture n'a rien à payer : elle ne peut recevoir ni avoir ni admission en non-valeur."
                )
            if nature is TypeAjustement.ADMISSION_EN_NON_VALEUR and montant_cents > facture.reste_cents:
                raise Conflit(
                    f"L'admission en non-valeur dépasse le reste à payer de la facture {facture.numero}"
                    f" ({euros(facture.reste_cents)})."
                )
            plafond = facture.montant_cents - self.credites.get(str(facture_id), 0)
            if montant_cents > plafond:
                raise Conflit(
                    f"L'avoir dépasse ce que la facture {facture.numero} peut encore recevoir ({euros(plafond)})."
                )
        self._ajuste(
            ajustement_id=ajustement_id,
            nature=nature,
            montant_cents=montant_cents,
            facture_id=facture_id,
            numero=numero,
            motif=motif,
            le=le,
            echeance=echeance,
        )
        if nature is not TypeAjustement.ADMISSION_EN_NON_VALEUR:
            self._affecter(d_abord=facture_id)

    @event(AjustementEnregistre)
    def _ajuste(
        self,
        ajustement_id: UUID,
        nature: TypeAjustement,
        montant_cents: int,
        facture_id: UUID | None,
        numero: str,
        motif: str,
        le: date,
        echeance: date,
    ) -> None:
        self.ajustements[str(ajustement_id)] = nature
        if not nature.credit:
            self.factures[str(ajustement_id)] = FactureOuverte(
                ajustement_id, numero, montant_cents, echeance, montant_cents
            )
            return
        cle = str(facture_id)
        self.credites[cle] = self.credites.get(cle, 0) + montant_cents
        if nature is TypeAjustement.ADMISSION_EN_NON_VALEUR:
            # Written off: the invoice owes less, and nothing becomes credit.
            facture = self.factures[cle]
            self.factures[cle] = replace(facture, reste_cents=facture.reste_cents - montant_cents)
            self.non_valeurs[cle] = self.non_valeurs.get(cle, 0) + montant_cents
        else:
            self.credit_cents += montant_cents

    def rembourser(
        self,
        remboursement_id: UUID,
        montant_cents: int,
        mode: ModeRemboursement,
        reference: str | None,
        le: date,
    ) -> None:
        """Only unused credit is paid back."""
        if montant_cents <= 0:
            raise ErreurValidation.sur("montant_cents", "un montant positif, en centimes")
        if str(remboursement_id) in self.remboursements:
            return
        if montant_cents > self.credit_cents:
            raise Conflit(
                f"Le remboursement ({euros(montant_cents)}) dépasse le crédit de la famille"
                f" ({euros(max(self.credit_cents, 0))})."
            )
        self._rembourse(
            remboursement_id=remboursement_id,
            montant_cents=montant_cents,
            mode=mode,
            reference=reference,
            rembourse_le=le,
        )

    @event(Rembourse)
    def _rembourse(
        self,
        remboursement_id: UUID,
        montant_cents: int,
        mode: ModeRemboursement,
        reference: str | None,
        rembourse_le: date,
    ) -> None:
        self.remboursements[str(remboursement_id)] = montant_cents
        self.credit_cents -= montant_cents
