"""Auditors' routes (read-only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get

from portail.api import schemas as s
from portail.api.auth import exige_role
from portail.api.etat import services
from portail.api.problemes import reponses_probleme
from portail.domain.valeurs import Role


class AuditController(Controller):
    path = "/api/audit"
    tags = ["Audit"]  # noqa: RUF012
    guards = [exige_role(Role.AUDITEUR, Role.ADMIN)]  # noqa: RUF012

    @get(
        "/verification",
        sync_to_thread=True,
        summary="Vérifier la chaîne d'empreintes du journal",
        responses=reponses_probleme(401, 403),
    )
    def verification(self, request: Request[Any, Any, Any]) -> s.VerificationOut:
        resultat = services(request).portail.verifier_chaine()
        anomalie = resultat.premiere_anomalie
        return s.VerificationOut(
            ok=resultat.ok,
            evenements_verifies=resultat.evenements_verifies,
            premiere_anomalie=s.AnomalieChaineOut(anomalie.position, anomalie.nature, anomalie.description)  # type: ignore[arg-type]
            if anomalie
            else None,
        )
