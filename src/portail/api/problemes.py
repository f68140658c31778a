"""Every error as RFC 9457 problem+json, in French, with the fields at fault."""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
import psycopg
import structlog
from eventsourcing.persistence import InterfaceError, OperationalError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from psycopg_pool import PoolTimeout

from portail.application.portail import ConflitPersistant
from portail.domain.erreurs import ErreurDomaine, ErreurValidation

MEDIA_PROBLEME = "application/problem+json"
TYPE_BASE = "https://portail-familles.fr/problemes/"

log = structlog.get_logger("portail.api")


class ErreurChampOut(msgspec.Struct):
    champ: str
    message: str


class Probleme(msgspec.Struct, omit_defaults=True):
    """RFC 9457: `type` names the kind of problem, `detail` says what happened to this request."""

    type: Annotated[
        str,
        msgspec.Meta(
            description="Adresse qui nomme le genre de problème (stable : à tester plutôt que `title`).",
            examples=["https://portail-familles.fr/problemes/donnees-invalides"],
        ),
    ]
    title: str
    status: int
    detail: str
    erreurs: list[ErreurChampOut] | None = None
    correlation_id: str | None = None


TITRES = {
    400: ("requete-invalide", "Requête invalide"),
    401: ("non-authentifie", "Authentification requise"),
    403: ("acces-refuse", "Accès refusé"),
    404: ("introuvable", "Ressource introuvable"),
    405: ("methode-non-autorisee", "Méthode non autorisée"),
    409: ("conflit", "Conflit"),
    413: ("requete-trop-volumineuse", "Requête trop volumineuse"),
    415: ("type-non-supporte", "Type de contenu non supporté"),
    422: ("donnees-invalides", "Données invalides"),
    429: ("trop-de-requetes", "Trop de requêtes"),
    500: ("erreur-interne", "Erreur interne"),
    503: ("service-indisponible", "Service indisponible"),
}

STATUTS_METIER = {
    "donnees-invalides": 422,
    "introuvable": 404,
    "conflit": 409,
    "regle-metier": 422,
    "identifiants-invalides": 401,
    "trop-de-tentatives": 429,
    "acces-refuse": 403,
}


def exemple_probleme(statut: int) -> dict[str, Any]:
    """The problem a client would read for this status, as a fixed example of the document."""
    type_, titre = TITRES.get(statut, ("erreur", HTTPStatus(statut).phrase))
    exemple: dict[str, Any] = {
        "type": TYPE_BASE + type_,
        "title": titre,
        "status": statut,
        "detail": _detail_francais(statut, None),
        "correlation_id": "9f1c2b7e4a6d4e0f",
    }
    if statut == 400:
        exemple["detail"] = "Paramètre obligatoire manquant : mois."
        exemple["erreurs"] = [{"champ": "mois", "message": "paramètre obligatoire"}]
    if statut == 422:
        exemple["detail"] = "Certaines données sont invalides : email : champ obligatoire"
        exemple["erreurs"] = [{"champ": "email", "message": "champ obligatoire"}]
    return exemple


def reponses_probleme(*statuts: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries so the document says which problems a route answers.

    400 (unreadable request) is always listed: it replaces the framework's own JSON entry. The
    example is fixed and French rather than generated (documentation.py adds what every route shares).
    """
    return {
        statut: ResponseSpec(
            data_container=Probleme,
            media_type=MEDIA_PROBLEME,
            description=TITRES.get(statut, ("", HTTPStatus(statut).phrase))[1],
            generate_examples=False,
            examples=[
                Example(
                    summary=TITRES.get(statut, ("", HTTPStatus(statut).phrase))[1],
                    value=exemple_probleme(statut),
                )
            ],
        )
        for statut in sorted({400, *statuts})
    }


def probleme(
    request: Request[Any, Any, Any],
    statut: int,
    detail: str,
    *,
    type_: str | None = None,
    titre: str | None = None,
    erreurs: list[ErreurChampOut] | None = None,
    entetes: dict[str, str] | None = None,
) -> Response[Probleme]:
    type_defaut, titre_defaut = TITRES.get(statut, ("erreur", HTTPStatus(statut).phrase))
    corps = Probleme(
        type=TYPE_BASE + (type_ or type_defaut),
        title=titre or titre_defaut,
        status=statut,
        detail=detail,
        erreurs=erreurs,
        correlation_id=request.scope.get("state", {}).get("correlation_id"),
    )
    return Response(corps, status_code=statut, media_type=MEDIA_PROBLEME, headers=entetes)


_INCONNU = re.compile(r"unknown field `([^`]+)`")
_MANQUANT = re.compile(r"missing required field `([^`]+)`")
_ATTENDU = re.compile(r"Expected `([^`]+)`, got `([^`]+)`(?: - at `\$?\.?([^`]*)`)?")
_TYPES = {
    "str": "du texte",
    "int": "un nombre entier",
    "bool": "vrai ou faux",
    "object": "un objet",
    "array": "une liste",
    "null": "null",
    "float": "un nombre",
}


_MOTIF = re.compile(r"matching regex '(.*)'")
_PARAMETRE_MANQUANT = re.compile(r"Missing required (\w+) parameter '([^']+)'")
FORMATS = {
    r"^\d{4}-(0[1-9]|1[0-2])$": "AAAA-MM, par exemple 2026-09",
    r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$": "HH:MM, par exemple 07:45",
    r"^([01]\d|2[0-3]):[0-5]\d$": "HH:MM, par exemple 18:30",
    r"^\d{1,3}(\.\d{1,4})?$": "un nombre d'au plus 3 chiffres, avec au plus 4 décimales après un point, par exemple 12.5",
    r"^[A-Za-z][A-Za-z0-9_.]*$": "un type d'événement (lettres, chiffres, « _ » et « . »), par exemple Famille.ResponsableModifie",
}
"""The patterns the contract uses, as a person reads them (a pattern not listed is shown as is)."""


def _valeurs(info: msgspec.inspect.Type) -> list[str] | None:
    """The values a closed set admits (an Enum or a Literal, optional or not)."""
    if isinstance(info, msgspec.inspect.UnionType):
        return next((v for t in info.types if (v := _valeurs(t))), None)
    if isinstance(info, msgspec.inspect.EnumType):
        return [str(v.value) for v in info.cls]
    if isinstance(info, msgspec.inspect.LiteralType):
        return [str(v) for v in info.values]
    return None


def _contenu(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
    """What a list or an optional value holds."""
    while True:
        if isinstance(info, msgspec.inspect.UnionType):
            info = next((t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)), info)
            if isinstance(info, msgspec.inspect.UnionType):
                return info
        elif isinstance(
            info, msgspec.inspect.ListType | msgspec.inspect.SetType | msgspec.inspect.VarTupleType
        ):
            info = info.item_type
        else:
            return info


def _type_au_chemin(annotation: Any, chemin: str) -> msgspec.inspect.Type | None:
    """The type of the body's field at a msgspec path (`items[0].unite`)."""
    info = msgspec.inspect.type_info(annotation)
    for nom in re.findall(r"[A-Za-z_]\w*", chemin):
        info = _contenu(info)
        if not isinstance(info, msgspec.inspect.StructType):
            return None
        champ = next((f for f in info.fields if f.encode_name == nom), None)
        if champ is None:
            return None
        info = champ.type
    return info


def _valeurs_permises_de(
    request: Request[Any, Any, Any], source: str | None
) -> Callable[[str], list[str] | None]:
    """A lookup of a field's admitted values in the route's own signature (the body, or a query,
    path or header parameter), so that a refused value comes with the list to choose from."""
    signature = getattr(request.scope.get("route_handler"), "parsed_fn_signature", None)
    parametres = getattr(signature, "parameters", None) or {}

    def chercher(champ: str) -> list[str] | None:
        try:
            if source == "body":
                info = _type_au_chemin(parametres["data"].annotation, champ) if "data" in parametres else None
                return _valeurs(_contenu(info)) if info is not None else None
            for nom, definition in parametres.items():
                alias = getattr(definition.kwarg_definition, "name", None) or nom
                if champ in (nom, alias):
                    return _valeurs(_contenu(msgspec.inspect.type_info(definition.annotation)))
        except (TypeError, ValueError):
            return None
        return None

    return chercher


def _traduire(
    message: str, cle: str | None, valeurs_permises: Callable[[str], list[str] | None] | None = None
) -> ErreurChampOut:
    """msgspec speaks English; people read French."""
    chemin = ""
    if " - at `" in message:
        message, _, chemin = message.partition(" - at `")
        chemin = chemin.rstrip("`").removeprefix("$").lstrip(".")
    champ = chemin or (cle if cle not in (None, "data") else "") or ""
    if m := _INCONNU.search(message):
        return ErreurChampOut(_joindre(champ, m.group(1)), "champ inconnu")
    if m := _MANQUANT.search(message):
        return ErreurChampOut(_joindre(champ, m.group(1)), "champ obligatoire")
    if m := _ATTENDU.search(message):
        attendu = " ou ".join(_TYPES.get(t.strip(), t.strip()) for t in m.group(1).split("|"))
        return ErreurChampOut(champ, f"valeur attendue : {attendu}")
    if "Invalid enum value" in message:
        permises = valeurs_permises(champ) if valeurs_permises is not None else None
        if permises:
            return ErreurChampOut(champ, f"valeur non autorisée (valeurs permises : {', '.join(permises)})")
        return ErreurChampOut(champ, "valeur non autorisée")
    if m := _MOTIF.search(message):
        motif = m.group(1).replace("\\\\", "\\")
        return ErreurChampOut(champ, f"format attendu : {FORMATS.get(motif, f'le motif {motif}')}")
    if "Invalid RFC3339" in message or "Invalid date" in message or "date" in message.lower():
        return ErreurChampOut(champ, "date invalide (format AAAA-MM-JJ)")
    if "Invalid UUID" in message:
        return ErreurChampOut(champ, "identifiant invalide")
    if "length" in message:
        return ErreurChampOut(champ, "longueur non autorisée")
    if ("Expected" in message and ">=" in message) or "<=" in message:
        return ErreurChampOut(champ, "valeur hors des bornes autorisées")
    return ErreurChampOut(champ, "valeur invalide")


def _joindre(parent: str, champ: str) -> str:
    return f"{parent}.{champ}" if parent else champ


def sur_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Probleme]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    erreurs = [
        _traduire(str(e.get("message", "")), e.get("key"), _valeurs_permises_de(request, e.get("source")))
        for e in extra
        if isinstance(e, dict)
    ]
    if not erreurs and (manquant := _PARAMETRE_MANQUANT.search(str(exc.detail))):
        nom = manquant.group(2)
        return probleme(
            request,
            400,
            f"Paramètre obligatoire manquant : {nom}.",
            erreurs=[ErreurChampOut(nom, "paramètre obligatoire")],
        )
    if not erreurs:
        return probleme(request, 400, "Le corps de la requête n'est pas un JSON valide.")
    # A malformed address (query, path, header) is a bad request; a body that does not fit is 422.
    sources = {e.get("source") for e in extra if isinstance(e, dict)}
    statut = 422 if "body" in sources else 400
    return probleme(
        request,
        statut,
        "Certaines données sont invalides : "
        + "; ".join(f"{e.champ} : {e.message}" if e.champ else e.message for e in erreurs),
        erreurs=erreurs,
    )


def sur_erreur_domaine(request: Request[Any, Any, Any], exc: ErreurDomaine) -> Response[Probleme]:
    statut = STATUTS_METIER.get(exc.type_probleme, 422)
    erreurs = (
        [ErreurChampOut(e.champ, e.message) for e in exc.erreurs]
        if isinstance(exc, ErreurValidation)
        else None
    )
    attente = getattr(exc, "reessayer_dans", None)
    entetes = {"Retry-After": str(attente)} if attente else None
    return probleme(
        request,
        statut,
        exc.detail,
        type_=exc.type_probleme,
        titre=exc.titre,
        erreurs=erreurs,
        entetes=entetes,
    )


CLIENT_PARTI = "client disconnected prematurely"
"""Litestar's words when the body's stream ends with a disconnect."""


def sur_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Probleme]:
    statut = exc.status_code
    entetes = {
        k: v
        for k, v in (exc.headers or {}).items()
        if k.lower() in {"retry-after", "allow"} or k.lower().startswith("ratelimit")
    }
    detail = exc.detail if exc.detail and exc.detail != HTTPStatus(statut).phrase else None
    if detail == CLIENT_PARTI:
        # The client gave up before sending its whole body: nobody reads this answer, and it is
        # not a fault of the server (it shows under load when clients time out in the queue).
        log.info("client_parti")
        return probleme(request, 400, "La requête a été interrompue par le client avant la fin de son envoi.")
    if statut >= 500:
        log.error("erreur_http", statut=statut)
        detail = None
    return probleme(request, statut, _detail_francais(statut, detail), entetes=entetes or None)


def _detail_francais(statut: int, detail: str | None) -> str:
    textes = {
        400: "La requête est invalide.",
        401: "Connectez-vous pour accéder à cette ressource.",
        403: "Vous n'avez pas accès à cette ressource.",
        404: "Cette ressource n'existe pas.",
        405: "Cette méthode n'est pas permise sur cette ressource.",
        413: "La requête est trop volumineuse.",
        415: "Ce type de contenu n'est pas accepté.",
        429: "Trop de requêtes ; réessayez plus tard.",
        503: "Le service est momentanément indisponible.",
    }
    # Details we wrote are French already; the framework's own are replaced.
    if detail and any(c in detail for c in "éèêëàâçùûîïôœÉÈÊÀÇ"):
        return detail
    return textes.get(statut, "La requête n'a pas pu aboutir.")


def sur_conflit(request: Request[Any, Any, Any], exc: ConflitPersistant) -> Response[Probleme]:
    return probleme(request, 409, str(exc), entetes={"Retry-After": "1"})


def sur_pool_epuise(request: Request[Any, Any, Any], exc: PoolTimeout) -> Response[Probleme]:
    log.warning("base_saturee")
    return probleme(
        request,
        503,
        "Le service est très sollicité ; réessayez dans un instant.",
        entetes={"Retry-After": "2"},
    )


def sur_base_injoignable(request: Request[Any, Any, Any], exc: Exception) -> Response[Probleme]:
    """PostgreSQL restarted or unreachable: pooled connections are not checked before use, so the
    first statement on a dead one fails here; the pool replaces it and the client may retry."""
    log.warning("base_injoignable", type_erreur=type(exc).__name__)
    return probleme(
        request,
        503,
        "Le service est momentanément indisponible ; réessayez dans un instant.",
        entetes={"Retry-After": "2"},
    )


def _pendant_la_lecture_du_corps(exc: BaseException) -> bool:
    """True when the error was raised while the framework parsed what the client sent."""
    trace = exc.__traceback__
    while trace is not None:
        fichier = trace.tb_frame.f_code.co_filename
        if "litestar" in fichier and ("_multipart" in fichier or "_kwargs" in fichier):
            return True
        trace = trace.tb_next
    return False


def sur_decodage(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Probleme]:
    # A form field that is not UTF-8 text is the client's mistake; anywhere else it is ours.
    if _pendant_la_lecture_du_corps(exc):
        return probleme(
            request, 400, "Le corps de la requête contient un champ qui n'est pas du texte UTF-8."
        )
    return sur_exception(request, exc)


def sur_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Probleme]:
    # The JSON decoder gives up on a body nested too deep for the stack: the client's doing.
    if _pendant_la_lecture_du_corps(exc):
        return probleme(request, 400, "Le corps de la requête est un JSON imbriqué trop profondément.")
    return sur_exception(request, exc)


def sur_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Probleme]:
    log.exception("erreur_interne", type_erreur=type(exc).__name__)
    return probleme(request, 500, "Une erreur interne est survenue ; elle a été journalisée.")


GESTIONNAIRES: dict[type[Exception] | int, Any] = {
    ValidationException: sur_validation,
    ErreurDomaine: sur_erreur_domaine,
    ConflitPersistant: sur_conflit,
    PoolTimeout: sur_pool_epuise,
    OperationalError: sur_base_injoignable,
    InterfaceError: sur_base_injoignable,
    psycopg.OperationalError: sur_base_injoignable,
    psycopg.InterfaceError: sur_base_injoignable,
    HTTPException: sur_http,
    UnicodeDecodeError: sur_decodage,
    RecursionError: sur_recursion,
    Exception: sur_exception,
}
