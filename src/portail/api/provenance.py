"""What a cross-site page could send in a visitor's name, refused before any handler runs.

A browser lets any site post a form (text/plain, form-urlencoded or multipart) to any address,
with the visitor's cookies and without asking: only `application/json` needs the target's consent
(a CORS preflight). So the JSON routes read nothing else, and every write whose `Origin` (or, when
absent, `Referer`) names another site is refused, which also covers the login and registration
forms a page could post to log its visitor into the attacker's account.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from litestar.datastructures import Headers
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

METHODES_SURES = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
MEDIA_JSON = "application/json"
PORTS_PAR_DEFAUT = {"http": 80, "https": 443}
NOMS_BOUCLE = ("localhost", "127.0.0.1", "::1")

TYPE_REFUSE = "Le corps de la requête doit être envoyé en JSON (en-tête Content-Type: application/json)."
ORIGINE_REFUSEE = (
    "Requête refusée : elle a été envoyée depuis un autre site que le portail (en-tête Origin ou Referer)."
)

Origine = tuple[str, str, int]
"""Scheme, host (lower case, IPv6 without brackets) and port: what makes two origins the same."""


def _origine(url: str) -> Origine | None:
    """The origin of an `Origin` value or a `Referer` URL; None when it names none (`null`...)."""
    try:
        morceaux = urlsplit(url.strip())
        port = morceaux.port
    except ValueError:
        return None
    schema, hote = morceaux.scheme.lower(), (morceaux.hostname or "")
    if schema not in PORTS_PAR_DEFAUT or not hote:
        return None
    return schema, hote, port if port is not None else PORTS_PAR_DEFAUT[schema]


def _boucle(hote: str) -> bool:
    if hote == "localhost":
        return True
    try:
        return ipaddress.ip_address(hote).is_loopback
    except ValueError:
        return False


def origines_acceptees(url_publique: str, autres: Iterable[str] = ()) -> frozenset[Origine]:
    """The portal's own origin; on loopback, every loopback name on the same port (a page opened at
    `localhost` posts as `localhost`); and the origins CORS lets in."""
    acceptees: set[Origine] = set()
    propre = _origine(url_publique)
    if propre is not None:
        acceptees.add(propre)
        schema, hote, port = propre
        if _boucle(hote):
            acceptees.update((schema, nom, port) for nom in NOMS_BOUCLE)
    acceptees.update(o for o in map(_origine, autres) if o is not None)
    return frozenset(acceptees)


def _attend_du_json(scope: Scope) -> bool:
    """The route reads a JSON body (`data` without another encoding). Page routes, outside
    `/api`, read their forms as they declare."""
    if not str(scope.get("path", "")).startswith("/api"):
        return False
    gestionnaire = scope.get("route_handler")
    if not isinstance(gestionnaire, HTTPRouteHandler):
        return False
    donnees = gestionnaire.parsed_fn_signature.parameters.get("data")
    if donnees is None:
        return False
    encodage = getattr(donnees.kwarg_definition, "media_type", RequestEncodingType.JSON)
    return bool(encodage == RequestEncodingType.JSON)


def _a_un_corps(entetes: Headers) -> bool:
    longueur = entetes.get("content-length")
    if longueur is not None:
        return longueur.strip() not in ("", "0")
    return "transfer-encoding" in entetes


class ProvenanceMiddleware:
    """415 for a JSON route sent anything but JSON; 403 for a write sent from another site. A
    request with neither `Origin` nor `Referer` (curl, API clients) is not a browser's: it passes.
    Installed with `DefineMiddleware(ProvenanceMiddleware, origines=origines_acceptees(...))`."""

    def __init__(self, app: ASGIApp, origines: frozenset[Origine]) -> None:
        self.app = app
        self.origines = origines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) == "http" and scope.get("method", "GET") not in METHODES_SURES:
            entetes = Headers.from_scope(scope)
            self._verifier_origine(entetes)
            if _attend_du_json(scope):
                _verifier_json(entetes)
        await self.app(scope, receive, send)

    def _verifier_origine(self, entetes: Headers) -> None:
        # `Origin: null` (a sandboxed frame, a page that hides its address) is a browser refusing
        # to say where the request comes from: not ours.
        declaree = entetes.get("origin")
        if declaree is None:
            declaree = entetes.get("referer")
            if declaree is None:
                return
        if _origine(declaree) not in self.origines:
            raise PermissionDeniedException(ORIGINE_REFUSEE)


def _verifier_json(entetes: Headers) -> None:
    type_contenu = entetes.get("content-type")
    if type_contenu is None:
        # No body at all is left to the body's own check (400).
        if _a_un_corps(entetes):
            raise HTTPException(status_code=415, detail=TYPE_REFUSE)
        return
    if type_contenu.partition(";")[0].strip().lower() != MEDIA_JSON:
        raise HTTPException(status_code=415, detail=TYPE_REFUSE)
