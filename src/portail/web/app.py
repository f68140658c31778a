"""The parents' pages in the API's application: templates, static files, their headers and their
error pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Litestar, Request, Response
from litestar.config.app import AppConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler, Message, Scope

from portail.api.app import create_app
from portail.api.auth import est_page
from portail.api.problemes import Probleme
from portail.application.contexte import Horloge, horloge_systeme
from portail.application.pdf import MOIS, euros
from portail.settings import Settings
from portail.store.database import BaseDeDonnees
from portail.web.pages import libelle, rendu

DOSSIER = Path(__file__).parent
HTMX = "htmx-2.0.11.min.js"
"""The pinned htmx, served by us (see docs/portail-web.md to change its version)."""

CSP_PAGES = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def controleurs() -> list[ControllerRouterHandler]:
    from portail.web.accueil import AccueilPages
    from portail.web.documents import DocumentsPages
    from portail.web.entree import EntreePages
    from portail.web.factures import FacturesPages, PaiementTestPages
    from portail.web.famille import EnfantsPages, FoyerPages, ProfilPages
    from portail.web.planning import PlanningPages
    from portail.web.quotient import QuotientPages

    # One controller a line: a new page module adds its own line.
    return [
        EntreePages,
        AccueilPages,
        ProfilPages,
        FoyerPages,
        EnfantsPages,
        DocumentsPages,
        QuotientPages,
        PlanningPages,
        FacturesPages,
        PaiementTestPages,
    ]


@cache
def environnement() -> Environment:
    """The pages' templates, every one compiled here, once per process (the 25 of them in about
    0.12 s): compiled at its first page instead, a template held up every request that came with
    that page (at 10,000 children, 50 parents' first second of calendar pages had its slowest at
    305–336 ms, 260–282 ms with the templates compiled ahead)."""
    from portail.web.planning import corps_calendrier

    env = Environment(
        loader=FileSystemLoader(DOSSIER / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the package: no file check on every page (restart to see an edit).
        auto_reload=False,
    )
    env.globals["htmx"] = HTMX
    env.globals["libelle"] = libelle
    env.filters["euros"] = euros
    env.filters["date_fr"] = date_fr
    env.globals["corps_calendrier"] = corps_calendrier
    for nom in env.list_templates(extensions=["html"]):
        env.get_template(nom)
    return env


def date_fr(valeur: Any) -> str:
    """1 septembre 2026 → « 1er septembre 2026 »."""
    if valeur is None:
        return ""
    jour = "1er" if valeur.day == 1 else str(valeur.day)
    return f"{jour} {MOIS[valeur.month - 1]} {valeur.year}"


async def entetes_pages(message: Message, scope: Scope) -> None:
    """Pages: a CSP without inline script or style; never kept by a shared cache."""
    if message["type"] != "http.response.start" or not est_page(scope.get("path", "")):
        return
    entetes = MutableScopeHeaders.from_message(message)
    entetes["content-security-policy"] = CSP_PAGES
    entetes["cache-control"] = "no-store"


def _en_html(gestionnaire: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
    """The API's answer to an error, as a page on the pages' paths: the same status, headers and
    French detail (one mapping of errors for both); a missing session sends to the login page."""

    def gerer(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        reponse = gestionnaire(request, exc)
        if not est_page(request.url.path):
            return reponse
        if reponse.status_code == 401:
            suite = request.url.path if request.method == "GET" else "/"
            cible = "/connexion" if suite == "/" else f"/connexion?suite={suite}"
            return Redirect(path=cible, status_code=303)
        probleme = reponse.content
        titre, detail = "Erreur", "La page n'a pas pu être affichée."
        if isinstance(probleme, Probleme):
            titre, detail = probleme.title, probleme.detail
        entetes = {k: v for k, v in reponse.headers.items() if k.lower() == "retry-after"}
        page: Template = rendu(
            request,
            "erreur.html",
            statut=reponse.status_code or 500,
            entetes=entetes,
            titre=titre,
            detail=detail,
        )
        return page

    return gerer


def installer(config: AppConfig) -> AppConfig:
    """`on_app_init` of the API's app: adds the pages, their templates, static files and headers."""
    config.route_handlers.extend(controleurs())
    config.route_handlers.append(
        create_static_files_router(
            path="/static", directories=[DOSSIER / "static"], include_in_schema=False, name="statique"
        )
    )
    config.template_config = TemplateConfig(instance=JinjaTemplateEngine.from_environment(environnement()))
    config.before_send.append(entetes_pages)
    config.exception_handlers = {
        cle: _en_html(gestionnaire) for cle, gestionnaire in config.exception_handlers.items()
    }
    return config


def creer_app(
    settings: Settings | None = None,
    *,
    horloge: Horloge = horloge_systeme,
    base: BaseDeDonnees | None = None,
    projections: bool = True,
    planificateur: bool = False,
) -> Litestar:
    """The API and the parents' pages: what `portail serve` and `portail api` run."""
    return create_app(
        settings,
        horloge=horloge,
        base=base,
        projections=projections,
        planificateur=planificateur,
        extensions=[installer],
    )


def app_api() -> Litestar:
    """The factory `portail api --workers N` hands uvicorn (see `portail.api.app.app_api`)."""
    return creer_app(projections=False)
