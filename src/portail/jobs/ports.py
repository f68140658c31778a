"""What the jobs act through besides the event store: narrow interfaces that the composition root
(`portail.bootstrap`) fills with the use-case services, so that no job imports them, nor the API.

The rule, checked by import-linter (pyproject.toml): `portail.jobs` and `portail.projections`
import from `portail.application` only the event-sourced `Portail` (`portail.py`), the actor
context (`contexte.py`), the official calendars (`calendriers.py`) and helpers that hold no use
case (`courriel.py`, `pdf.py`…); never a module whose services decide (comptes, familles,
catalogue, reservations, facturation, documents, audit, effacement, attestation, sepa).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from portail.application.contexte import Contexte
from portail.domain.campagne import Campagne, Facture
from portail.domain.encours import Representation
from portail.domain.facturation import Calcul, Periode


class Reservations(Protocol):
    """The bookings a job changes: expired waiting-list offers, places freed by an erasure."""

    def expirer_offres(self, contexte: Contexte, accueil_id: UUID, jour: date) -> int: ...

    def liberer_avenir(
        self, contexte: Contexte, famille_id: UUID, enfant_id: UUID, accueil_id: UUID
    ) -> int: ...


class Facturation(Protocol):
    """The campaigns a job prepares, and the invoices whose debits it writes."""

    def faits_campagnes(self) -> Mapping[UUID, Campagne]: ...

    def a_facturer(self, periode: Periode) -> bool: ...

    def preparer(
        self, contexte: Contexte, periode_texte: str, jusqu_a: int | datetime | None
    ) -> tuple[Campagne, Calcul]: ...

    def facture(self, facture_id: UUID) -> Facture: ...

    def representations(self) -> list[tuple[UUID, Representation]]: ...

    def delai_prenotification_jours(self) -> int: ...


FichierPrelevements = Callable[[UUID, date], tuple[bytes, int]]
"""An issued campaign's pain.008 at a collection date and the number of debits in it
(`RegleMetier` when none)."""

FichierRepresentation = Callable[[UUID, UUID, date], tuple[bytes, int]]
"""The pain.008 of a family's re-presented debit (family id, payment id) at a collection date,
and its number of debits (one)."""

EffacementFamille = Callable[[Contexte, UUID, Callable[[UUID], object]], object]
"""Erase a family; the callable given frees a child's places to come before its data go."""
