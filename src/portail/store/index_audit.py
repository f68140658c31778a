"""The auditors' index of the log, written with each event in the events table's own columns.

Who acted (account, role or job), in which request, when, and the family and child the event's
aggregate belongs to: enough to filter and page the whole log without decoding it, and no personal
data (ids, roles, times). An aggregate whose later events do not name their family (a planning's
bookings) takes the link its first event recorded (`portail_sujets`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class IndexAudit:
    famille_id: UUID | None
    enfant_id: UUID | None
    acteur_compte_id: UUID | None
    role: str | None
    correlation_id: str | None
    horodatage: datetime


def _lien(evenement: Any) -> tuple[UUID | None, UUID | None]:
    """The family and child an event's aggregate belongs to, when the event says so."""
    etat = vars(evenement)
    agregat = type(evenement).__qualname__.split(".")[0]
    if agregat == "Famille":
        return evenement.originator_id, None
    if agregat == "Enfant":
        famille = etat.get("famille_id")
        return (famille if isinstance(famille, UUID) else None), evenement.originator_id
    famille = etat.get("famille_id")
    enfant = etat.get("enfant_id")
    return (famille if isinstance(famille, UUID) else None), (enfant if isinstance(enfant, UUID) else None)


def indexer(evenement: Any) -> IndexAudit:
    famille_id, enfant_id = _lien(evenement)
    audit = vars(evenement).get("audit") or {}
    acteur = audit.get("acteur") or {}
    horodatage = audit.get("horodatage")
    compte = acteur.get("compte_id")
    return IndexAudit(
        famille_id=famille_id,
        enfant_id=enfant_id,
        acteur_compte_id=UUID(compte) if compte else None,
        role=acteur.get("role") or acteur.get("nom"),
        correlation_id=audit.get("correlation_id"),
        horodatage=datetime.fromisoformat(horodatage) if horodatage else evenement.timestamp,
    )
