"""Liveness and readiness for the orchestrator."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from portail.api import schemas as s
from portail.api.etat import services


@get("/health", tags=["Exploitation"], summary="Le processus répond", exclude_from_auth=True)
async def health() -> s.SanteService:
    return s.SanteService(statut="ok")


@get(
    "/ready",
    sync_to_thread=True,
    tags=["Exploitation"],
    summary="La base de données répond",
    exclude_from_auth=True,
    responses={503: ResponseSpec(s.Preparation, description="Base de données injoignable")},
)
def ready(request: Request[Any, Any, Any]) -> Response[s.Preparation]:
    try:
        portail = services(request).portail
        portail.recorder.max_notification_id()
        ok = True
    except Exception:
        ok = False
    corps = s.Preparation(statut="pret" if ok else "indisponible", base_de_donnees=ok, retard_projections=0)
    return Response(corps, status_code=200 if ok else 503)
