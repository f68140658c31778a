"""Who acts, in which request, and why: stamped by the application on every event it saves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from portail.store.idempotence import DemandeIdempotente

Horloge = Callable[[], datetime]


def horloge_systeme() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Contexte:
    """The actor of a command: an account with its role, or a job or the system by name."""

    correlation_id: str
    compte_id: UUID | None = None
    role: str | None = None
    nom: str | None = None
    motif: str | None = None
    idempotence: DemandeIdempotente | None = None
    """The request's idempotency key: its row and answer are written by the command's save."""

    @classmethod
    def systeme(cls, nom: str, correlation_id: str = "systeme") -> Contexte:
        return cls(correlation_id=correlation_id, role="systeme", nom=nom)

    def audit(self, horodatage: datetime) -> dict[str, Any]:
        return {
            "acteur": {
                "compte_id": str(self.compte_id) if self.compte_id else None,
                "role": self.role,
                "nom": self.nom,
            },
            "horodatage": horodatage.astimezone(UTC).isoformat(),
            "correlation_id": self.correlation_id,
            "motif": self.motif,
        }
