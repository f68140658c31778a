"""IndexEmail: makes an e-mail address unique among accounts and finds the account at login.

Its id is derived from a keyed digest of the address, never from the address itself, so the
index holds no personal data once the account is erased.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from portail.domain.erreurs import Conflit
from portail.domain.evenements import PortailEvent


class EmailDejaUtilise(Conflit):
    titre = "Adresse e-mail déjà utilisée"


class IndexEmail(Aggregate):
    TOPIC = "portail:IndexEmail"

    class Event(Aggregate.Event, PortailEvent):
        pass

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:IndexEmail.Created"

    class Reserve(Event, Aggregate.Created):
        TOPIC = "portail:IndexEmail.Reserve"
        compte_id: UUID

    class Libere(Event):
        TOPIC = "portail:IndexEmail.Libere"

    class Reattribue(Event):
        TOPIC = "portail:IndexEmail.Reattribue"
        compte_id: UUID

    @staticmethod
    def id_pour(empreinte: str) -> UUID:
        """The index id for an address digest: create with `IndexEmail(id=..., compte_id=...)`."""
        return uuid5(NAMESPACE_URL, f"/portail/index-email/{empreinte}")

    @event(Reserve)
    def __init__(self, id: UUID, compte_id: UUID) -> None:
        self.compte_id: UUID | None = compte_id

    def liberer(self) -> None:
        if self.compte_id is not None:
            self._libere()

    @event(Libere)
    def _libere(self) -> None:
        self.compte_id = None

    def attribuer(self, compte_id: UUID) -> None:
        if self.compte_id is not None and self.compte_id != compte_id:
            raise EmailDejaUtilise("Cette adresse e-mail est déjà utilisée par un autre compte.")
        if self.compte_id is None:
            self._reattribue(compte_id=compte_id)

    @event(Reattribue)
    def _reattribue(self, compte_id: UUID) -> None:
        self.compte_id = compte_id
