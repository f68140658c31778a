"""What billing tests share: a replay computed in a process of its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from portail.settings import Settings


def processus_rejouant(
    url: str, schema: str, reglages: dict[str, Any], campagne_id: uuid.UUID, sortie: Any
) -> None:
    """Another process: replays the campaign from the log and sends back the digest it finds."""
    from portail.bootstrap import construire_services
    from portail.store.database import BaseDeDonnees

    services = construire_services(
        Settings(**reglages), BaseDeDonnees(url, schema), lambda: datetime.now(UTC), projections=False
    )
    try:
        facturation = services.facturation
        _, empreinte = facturation.verifier(facturation.campagne(uuid.UUID(str(campagne_id))))
        sortie.put(empreinte)
    finally:
        services.portail.close()
