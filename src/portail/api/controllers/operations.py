"""Liveness and readiness for the orchestrator."""

from __future__ import annotations

from typing import Any, Literal

import anyio.to_thread
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
    summary="La base de données répond et les vues ont rattrapé le journal trouvé au démarrage",
    exclude_from_auth=True,
    responses={
        503: ResponseSpec(
            s.Preparation,
            description="Base de données injoignable, ou vues pas encore à jour du journal "
            "trouvé au démarrage de leur exécuteur",
        )
    },
)
def ready(request: Request[Any, Any, Any]) -> Response[s.Preparation]:
    sv = services(request)
    try:
        fin = sv.portail.recorder.max_notification_id() or 0
        # In an `api` process the position and the start target are the worker's, read from
        # the database too.
        retard = max(0, fin - sv.suivi.position)
        pret = sv.suivi.pret()
        ok = True
    except Exception:
        retard, ok, pret = 0, False, False
    statut: Literal["pret", "rattrapage", "indisponible"] = (
        "pret" if pret else "rattrapage" if ok else "indisponible"
    )
    corps = s.Preparation(statut=statut, base_de_donnees=ok, retard_projections=retard)
    return Response(corps, status_code=200 if pret else 503)


@get(
    "/metrics",
    tags=["Exploitation"],
    summary="Métriques Prometheus",
    exclude_from_auth=True,
    media_type="text/plain; version=0.0.4",
)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    texte = await anyio.to_thread.run_sync(request.app.state.metriques.texte)
    return Response(texte, media_type="text/plain; version=0.0.4; charset=utf-8")
