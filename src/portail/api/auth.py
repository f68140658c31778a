"""Sessions: signed tokens in an HttpOnly cookie (with CSRF) or a bearer header, roles, logout."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Guard

from portail.application.comptes import EtatSession, ServiceComptes
from portail.application.jetons import JetonRefuse, Jetons
from portail.domain.valeurs import Role
from portail.store.securite import Revocations

SECURITE: list[dict[str, list[str]]] = [{"jeton": []}, {"cookie": []}]
"""OpenAPI: the route needs a session (bearer token or cookie); public routes declare none."""

COOKIE_SESSION = "portail_session"
COOKIE_CSRF = "csrftoken"
ENTETE_CSRF = "x-csrftoken"
SESSION_INVALIDE = "Session invalide ou expirée ; reconnectez-vous."
METHODES_SURES = {"GET", "HEAD", "OPTIONS", "TRACE"}
CHEMINS_PUBLICS = (
    "/health",
    "/ready",
    "/metrics",
    "/schema",
    "/api/auth/connexion",
    "/api/auth/mot-de-passe-oublie",
    "/api/auth/reinitialisation",
    "/api/auth/confirmation-email",
    "/api/inscription",
    "/api/paiements/",
)


@dataclass(frozen=True)
class Utilisateur:
    compte_id: UUID
    email: str | None
    roles: tuple[Role, ...]
    famille_id: UUID | None

    def a_role(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)


@dataclass(frozen=True)
class Session:
    jti: str
    expire_le: datetime
    csrf: str
    par_cookie: bool


class AuthentificationMiddleware(AbstractAuthenticationMiddleware):
    """Bearer header first, else the session cookie; cookie sessions must echo the CSRF token."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        services = connection.app.state.services
        jetons: Jetons = services.jetons
        comptes: ServiceComptes = services.comptes
        revocations: Revocations = services.revocations
        entete = connection.headers.get("authorization", "")
        par_cookie = False
        if entete.lower().startswith("bearer "):
            jeton = entete[7:].strip()
        elif jeton_cookie := connection.cookies.get(COOKIE_SESSION):
            jeton, par_cookie = jeton_cookie, True
        else:
            raise NotAuthorizedException("Connectez-vous pour accéder à cette ressource.")
        try:
            charge = jetons.lire(jeton, comptes.portail.horloge())
        except JetonRefuse:
            raise NotAuthorizedException(SESSION_INVALIDE) from None
        try:
            compte_id = UUID(str(charge["sub"]))
        except ValueError:
            raise NotAuthorizedException(SESSION_INVALIDE) from None
        if par_cookie and connection.scope.get("method", "GET") not in METHODES_SURES:
            recu = connection.headers.get(ENTETE_CSRF, "")
            if not recu or not hmac.compare_digest(recu, str(charge["csrf"])):
                raise PermissionDeniedException("Jeton anti-CSRF manquant ou invalide (en-tête X-CSRFToken).")

        jti, emis_le = str(charge["jti"]), float(charge["iat"])
        # In memory, kept exact by the database's notifications: no query, no thread.
        revoque = revocations.revoque_en_memoire(jti)
        etat = None if revoque else comptes.etat_en_memoire(compte_id)
        if revoque is None or (revoque is False and etat is None):
            # A first request for this account, or the notifications interrupted: ask the database.
            def verifier() -> EtatSession | None:
                if revocations.est_revoque(jti):
                    return None
                return comptes.etat_en_memoire(compte_id) or comptes.etat_session(compte_id)

            etat = await anyio.to_thread.run_sync(verifier)
        if etat is None or not etat.accepte(emis_le):
            raise NotAuthorizedException(SESSION_INVALIDE)
        utilisateur = Utilisateur(etat.compte_id, etat.email, etat.roles, etat.famille_id)
        session = Session(
            jti=jti,
            expire_le=datetime.fromtimestamp(int(charge["exp"])).astimezone(),
            csrf=str(charge["csrf"]),
            par_cookie=par_cookie,
        )
        return AuthenticationResult(user=utilisateur, auth=session)


def exige_role(*roles: Role) -> Guard:
    def garde(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            return  # preflight: answered by the framework, no data involved
        utilisateur = connection.scope.get("user")
        if not isinstance(utilisateur, Utilisateur) or not utilisateur.a_role(*roles):
            raise PermissionDeniedException("Votre rôle ne permet pas cette opération.")

    return garde


def exige_famille(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.scope.get("method") == "OPTIONS":
        return  # preflight: answered by the framework, no data involved
    utilisateur = connection.scope.get("user")
    if not isinstance(utilisateur, Utilisateur) or not utilisateur.a_role(Role.PARENT):
        raise PermissionDeniedException("Cette page est réservée aux familles.")
    if utilisateur.famille_id is None:
        raise PermissionDeniedException("Ce compte n'est rattaché à aucune famille.")


def famille_de(utilisateur: Utilisateur) -> UUID:
    assert utilisateur.famille_id is not None  # guaranteed by exige_famille
    return utilisateur.famille_id
