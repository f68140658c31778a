"""Request helpers: the services the app was built with, the actor and correlation of a request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from litestar import Request

from portail.api.auth import Utilisateur
from portail.application.contexte import Contexte

if TYPE_CHECKING:
    from portail.bootstrap import Services

ENTETE_MOTIF = "x-motif"


def services(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def correlation(request: Request[Any, Any, Any]) -> str:
    return str(request.scope.get("state", {}).get("correlation_id", "inconnu"))


def contexte(request: Request[Any, Any, Any]) -> Contexte:
    """The actor of this request; `X-Motif` (percent-encoded) records why a person acts."""
    utilisateur = request.user if isinstance(request.scope.get("user"), Utilisateur) else None
    motif = request.headers.get(ENTETE_MOTIF)
    motif = unquote(motif)[:500] if motif else None
    if utilisateur is None:
        return Contexte(correlation(request), role="anonyme", motif=motif)
    role = utilisateur.roles[0].value if utilisateur.roles else None
    return Contexte(correlation(request), utilisateur.compte_id, role, motif=motif)


def adresse_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "inconnue"
