"""Parametres: the commune (who is résident), the régie (SEPA creditor), the billing threshold."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from portail.domain.evenements import PortailEvent
from portail.domain.valeurs import Adresse

ID_PARAMETRES = uuid5(NAMESPACE_URL, "/portail/parametres")
DELAI_PRENOTIFICATION_JOURS = 14
"""The SEPA rulebook's default: a debit is announced at least 14 calendar days ahead."""


def _normaliser(nom: str) -> str:
    sans_accents = unicodedata.normalize("NFKD", nom).encode("ascii", "ignore").decode()
    return " ".join(sans_accents.lower().replace("-", " ").replace("'", " ").split())


@dataclass(frozen=True)
class Commune:
    nom: str
    code_postal: str

    def est_residente(self, adresse: Adresse | None) -> bool:
        """Same postal code and same commune name (accents, case and hyphens aside)."""
        if adresse is None:
            return False
        return adresse.code_postal == self.code_postal and _normaliser(adresse.commune) == _normaliser(
            self.nom
        )


@dataclass(frozen=True)
class Regie:
    nom: str
    prefixe_factures: str
    ics: str
    iban: str
    bic: str | None
    delai_prenotification_jours: int = DELAI_PRENOTIFICATION_JOURS
    """How many days before a debit the family is told of it (the invoice being the notice): the
    SEPA file is written that many days before the collection date."""
    # Printed on invoices; a Regie stored before they existed decodes with these defaults.
    siret: str | None = None
    adresse: str | None = None
    horaires: str | None = None
    ordre_cheques: str | None = None
    payfip_client: str | None = None


class Parametres(Aggregate):
    TOPIC = "portail:Parametres"

    class Event(Aggregate.Event, PortailEvent):
        pass

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Parametres.Created"

    class Definis(Event, Aggregate.Created):
        TOPIC = "portail:Parametres.Definis"
        commune: Commune
        regie: Regie | None
        seuil_facturation_cents: int

    class Modifies(Event):
        TOPIC = "portail:Parametres.Modifies"
        commune: Commune
        regie: Regie | None
        seuil_facturation_cents: int

    @event(Definis)
    def __init__(self, id: UUID, commune: Commune, regie: Regie | None, seuil_facturation_cents: int) -> None:
        self.commune = commune
        self.regie = regie
        self.seuil_facturation_cents = seuil_facturation_cents

    def modifier(self, commune: Commune, regie: Regie | None, seuil_facturation_cents: int) -> None:
        if (commune, regie, seuil_facturation_cents) != (
            self.commune,
            self.regie,
            self.seuil_facturation_cents,
        ):
            self._modifies(commune=commune, regie=regie, seuil_facturation_cents=seuil_facturation_cents)

    @event(Modifies)
    def _modifies(self, commune: Commune, regie: Regie | None, seuil_facturation_cents: int) -> None:
        self.commune = commune
        self.regie = regie
        self.seuil_facturation_cents = seuil_facturation_cents
