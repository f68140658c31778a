"""Sessions: signed tokens in an HttpOnly cookie (with CSRF) or a bearer header, roles, logout."""

from __future__ import annotations

import hmac
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar.connection import ASGIConnection, Request
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware._utils import should_bypass_middleware
from litestar.types import Guard, Receive, Scope, Send

from portail.application.comptes import EtatSession, ServiceComptes
from portail.application.jetons import JetonEmis, JetonRefuse, Jetons
from portail.application.portail import LectureEnFil
from portail.domain.valeurs import Role
from portail.settings import Settings
from portail.store.securite import Revocations

SECURITE: list[dict[str, list[str]]] = [{"jeton": []}, {"cookie": []}]
"""OpenAPI: the route needs a session (bearer token or cookie); public routes declare none."""

COOKIE_SESSION = "portail_session"
COOKIE_CSRF = "csrftoken"
ENTETE_CSRF = "x-csrftoken"
CHAMP_CSRF = "csrf_token"
"""The hidden field of page forms: a form cannot send the header."""
COOKIE_CSRF_FORMULAIRE = "portail_formulaire"
"""Anonymous page forms (connexion, inscription…): the hidden field must equal this cookie."""
TYPES_FORMULAIRE = ("application/x-www-form-urlencoded", "multipart/form-data")
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
    "/static/",
)
PREFIXES_NON_PAGES = ("/api/", "/health", "/ready", "/metrics", "/schema", "/static/")


def est_page(chemin: str) -> bool:
    """The parents' pages: everything the API, the probes and the static files do not serve."""
    return not chemin.startswith(PREFIXES_NON_PAGES)


def cookies_de_session(reglages: Settings, emis: JetonEmis, duree: timedelta | None) -> list[Cookie]:
    """The session cookie and the CSRF cookie; `duree` None: they live as long as the browser session."""
    max_age = int(duree.total_seconds()) if duree is not None else None
    return [
        Cookie(
            key=COOKIE_SESSION,
            value=emis.jeton,
            max_age=max_age,
            httponly=True,
            secure=reglages.cookies_securises,
            samesite="lax",
            path="/",
        ),
        Cookie(
            key=COOKIE_CSRF,
            value=emis.csrf,
            max_age=max_age,
            httponly=False,
            secure=reglages.cookies_securises,
            samesite="strict",
            path="/",
        ),
    ]


def ouvrir_session(
    jetons: Jetons, reglages: Settings, compte_id: UUID, maintenant: datetime, se_souvenir: bool
) -> tuple[JetonEmis, list[Cookie]]:
    """A signed session token and its cookies, for the API's login and the login page alike."""
    duree = (
        timedelta(days=reglages.se_souvenir_jours)
        if se_souvenir
        else timedelta(minutes=reglages.session_minutes)
    )
    emis = jetons.emettre(compte_id, maintenant, duree)
    # Without "remember me" the cookies live as long as the browser session.
    return emis, cookies_de_session(reglages, emis, duree if se_souvenir else None)


COOKIES_EFFACES = [
    Cookie(key=COOKIE_SESSION, value="", max_age=0, path="/", httponly=True),
    Cookie(key=COOKIE_CSRF, value="", max_age=0, path="/"),
]


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


async def jeton_csrf_recu(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The `X-CSRFToken` header, else, for a form post, its hidden field (the form is parsed once:
    the handler reads it again from the request's state)."""
    recu = connection.headers.get(ENTETE_CSRF, "")
    if recu or not connection.headers.get("content-type", "").startswith(TYPES_FORMULAIRE):
        return recu
    formulaire = await Request[Any, Any, Any](connection.scope, connection.receive).form()
    valeur = formulaire.get(CHAMP_CSRF)
    return valeur if isinstance(valeur, str) else ""


def _egaux(recu: str, attendu: str) -> bool:
    return bool(recu) and bool(attendu) and hmac.compare_digest(recu.encode(), attendu.encode())


class AuthentificationMiddleware(AbstractAuthenticationMiddleware):
    """Bearer header first, else the session cookie; cookie sessions must echo the CSRF token.

    A page (`est_page`) is also served without a session (its handler asks for one when it needs
    it); an anonymous page form must echo the form cookie instead."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # As the base class, with the request's `receive`: a form post's hidden CSRF field is
        # read from its body.
        if not should_bypass_middleware(
            exclude_http_methods=self.exclude_http_methods,
            exclude_opt_key=self.exclude_opt_key,
            exclude_path_pattern=self.exclude,
            scope=scope,
            scopes=self.scopes,
        ):
            resultat = await self.authenticate_request(ASGIConnection(scope, receive))
            scope["user"] = resultat.user
            scope["auth"] = resultat.auth
        await self.app(scope, receive, send)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        if not est_page(connection.scope.get("path", "")):
            return await self._session(connection)
        try:
            return await self._session(connection)
        except NotAuthorizedException:
            pass
        if connection.scope.get("method", "GET") not in METHODES_SURES:
            recu = await jeton_csrf_recu(connection)
            if not _egaux(recu, connection.cookies.get(COOKIE_CSRF_FORMULAIRE, "")):
                raise PermissionDeniedException("Ce formulaire a expiré ; rechargez la page et recommencez.")
        return AuthenticationResult(user=None, auth=None)

    async def _session(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
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

        jti, emis_le = str(charge["jti"]), float(charge["iat"])
        # In memory, kept exact by the database's notifications: no query, no thread.
        revoque = revocations.revoque_en_memoire(jti)
        etat = None if revoque else comptes.etat_en_memoire(compte_id)
        lecteur = services.lecteur_async
        if revoque is False and etat is None and lecteur is not None:
            # A first request for this account: its state read on the event loop when it can be.
            with suppress(LectureEnFil):
                etat = await comptes.etat_session_async(compte_id, lecteur)
                if etat is None:
                    raise NotAuthorizedException(SESSION_INVALIDE)
        if revoque is None or (revoque is False and etat is None):
            # A first request for this account, or the notifications interrupted: ask the database.
            def verifier() -> EtatSession | None:
                if revocations.est_revoque(jti):
                    return None
                return comptes.etat_en_memoire(compte_id) or comptes.etat_session(compte_id)

            etat = await anyio.to_thread.run_sync(verifier)
        if etat is None or not etat.accepte(emis_le):
            raise NotAuthorizedException(SESSION_INVALIDE)
        if par_cookie and connection.scope.get("method", "GET") not in METHODES_SURES:
            recu = await jeton_csrf_recu(connection)
            if not _egaux(recu, str(charge["csrf"])):
                raise PermissionDeniedException(
                    "Jeton anti-CSRF manquant ou invalide (en-tête X-CSRFToken ou champ csrf_token)."
                )
        utilisateur = Utilisateur(etat.compte_id, etat.email, etat.roles, etat.famille_id)
        session = Session(
            jti=jti,
            expire_le=datetime.fromtimestamp(int(charge["exp"])).astimezone(),
            csrf=str(charge["csrf"]),
            par_cookie=par_cookie,
        )
        return AuthenticationResult(user=utilisateur, auth=session)


# Guards are coroutines: the framework runs a plain function guard in a worker thread, a hop to
# and from the event loop for every request.


def exige_role(*roles: Role) -> Guard:
    async def garde(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            return  # preflight: answered by the framework, no data involved
        utilisateur = connection.scope.get("user")
        if not isinstance(utilisateur, Utilisateur) or not utilisateur.a_role(*roles):
            raise PermissionDeniedException("Votre rôle ne permet pas cette opération.")

    return garde


async def exige_famille(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
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
