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
        self, reglement_id: UUID, montant_cents: int, mode: ModeReglement, reference: str | None, le: date
    ) -> None:
        if montant_cents <= 0:
            raise ErreurValidation.sur("montant_cents", "un règlement est un montant positif")
        if str(reglement_id) in self.reglements:
            return
        self._recu(
            reglement_id=reglement_id, montant_cents=montant_cents, mode=mode, reference=reference, recu_le=le
        )
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

    def _affecter(self) -> None:
        """Credit goes to the oldest open invoices first."""
        disponible = self.credit_cents
        affectations: list[Affectation] = []
        for facture in self.ouvertes():
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
            paye = facture.montant_cents - facture.reste_cents
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
