"""Helpers for tests that drive the application services directly (no HTTP)."""

from __future__ import annotations

import uuid
from uuid import UUID

from portail.application.contexte import Contexte
from portail.application.saisies import SaisieAdresse, SaisieResponsable
from portail.bootstrap import Services


def inscrire_famille(services: Services, contexte: Contexte) -> UUID:
    """A family signed up under a fresh e-mail address, resident of the commune; its id."""
    _, famille_id = services.comptes.inscrire(
        contexte,
        f"f{uuid.uuid4().hex}@example.fr",
        "Motdepasse-2026",
        SaisieResponsable(civilite="Mme", nom="Martin", prenom="Claire", telephone="0612345678"),
        SaisieAdresse("1 rue A", "44000", "Nantes"),
    )
    return famille_id
