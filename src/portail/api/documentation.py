"""The OpenAPI document, completed in one place rather than on a hundred decorators.

What every route shares is added here: the problems any route can answer (a saturated or
unreachable database, the per-address rate limit, a write from another site, a body that is not
JSON), the `Retry-After` header where it is sent, the CSRF header of cookie sessions, the French
descriptions of operations, success answers and properties, and an example for every property.
A description written on a route or a field wins over the tables below."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIType

from portail.api.descriptions import OPERATIONS
from portail.api.problemes import FORMATS, MEDIA_PROBLEME, reponses_probleme
from portail.api.proprietes import PAR_SCHEMA, PARAMETRES, PROPRIETES, UUID_EXEMPLE

METHODES_SURES = {"get", "head", "options", "trace"}
CHEMINS_SANS_BASE = {"/health", "/metrics"}
"""Routes that read no database (so never 503) and that the rate limit skips (so never 429)."""
CHEMINS_HORS_LIMITE = {"/health", "/ready", "/metrics"}

SCHEMA_CSRF = "csrf"
CSRF = SecurityScheme(
    type="apiKey",
    name="X-CSRFToken",
    security_scheme_in="header",
    description=(
        "Avec la session en cookie (`portail_session`), toute écriture (POST, PUT, PATCH, DELETE) "
        "envoie l'en-tête `X-CSRFToken` égal à la valeur `csrf` de la réponse de connexion "
        "(aussi dans le cookie `csrftoken`) ; sans lui, ou avec une autre valeur : 403. "
        "Le jeton porteur (`Authorization: Bearer`) n'en a pas besoin."
    ),
)

RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER, minimum=1, examples=[2]),
    description="Nombre de secondes à attendre avant de réessayer.",
    required=False,
)

SUCCES = {
    "200": "Succès : la ressource demandée ou le résultat de l'opération.",
    "201": "Créé : la ressource créée.",
    "202": "Accepté : la demande est prise en compte ; la suite arrive par courriel.",
    "204": "Fait : aucun contenu en réponse.",
}

DETAILS = {
    401: "session absente, expirée ou révoquée : se connecter (`POST /api/auth/connexion`).",
    403: (
        "rôle ou famille qui ne convient pas, en-tête `X-CSRFToken` manquant ou faux avec la session "
        "en cookie, ou écriture envoyée depuis un autre site (`Origin`/`Referer`)."
    ),
    404: "la ressource n'existe pas, ou ce compte ne peut pas la voir.",
    409: (
        "l'état a changé entre-temps (écriture concurrente : réessayer après `Retry-After`) ou une "
        "règle d'unicité refuse la demande."
    ),
    415: "le corps doit être envoyé en `application/json`.",
    422: "les données ne respectent pas le contrat ou une règle métier ; `erreurs` nomme les champs.",
    429: "trop de requêtes ou d'essais depuis cette adresse ou pour ce compte ; réessayer après `Retry-After`.",
    503: "base de données saturée ou injoignable ; réessayer après `Retry-After`.",
}
AVEC_RETRY_AFTER = {409, 429, 503}


def _ajouter(operation: Operation, statut: int) -> None:
    reponses = operation.responses if operation.responses is not None else {}
    operation.responses = reponses
    if str(statut) not in reponses:
        reponses.update({str(c): r for c, r in _reponses_probleme(statut).items()})


def _reponses_probleme(statut: int) -> dict[int, OpenAPIResponse]:
    """The problem answer of one status, as the route's own `reponses_probleme` would write it."""
    spec = reponses_probleme(statut)[statut]
    return {
        statut: OpenAPIResponse(
            description=spec.description,
            content={MEDIA_PROBLEME: OpenAPIMediaType(schema=Reference("#/components/schemas/Probleme"))},
        )
    }


def _completer_operation(chemin: str, methode: str, operation: Operation) -> None:
    cle = f"{methode.upper()} {chemin}"
    if not operation.description:
        operation.description = OPERATIONS.get(cle)
    securisee = bool(operation.security)
    ecriture = methode not in METHODES_SURES
    corps = operation.request_body
    corps_json = isinstance(corps, RequestBody) and "application/json" in (corps.content or {})
    statuts: set[int] = set()
    if chemin.startswith("/api"):
        statuts.add(400)
    if securisee:
        statuts |= {401, 403}
    if ecriture and chemin.startswith("/api"):
        statuts |= {403, 409}
    if "{" in chemin:
        statuts.add(404)
    if corps_json:
        statuts |= {415, 422}
    if chemin not in CHEMINS_HORS_LIMITE:
        statuts.add(429)
    if chemin not in CHEMINS_SANS_BASE:
        statuts.add(503)
    for statut in sorted(statuts):
        _ajouter(operation, statut)
    for code, reponse in (operation.responses or {}).items():
        if isinstance(reponse, Reference):
            continue
        if code in SUCCES and reponse.description in {None, ""} | _DESCRIPTIONS_ANGLAISES:
            reponse.description = SUCCES[code]
        if code.isdigit() and int(code) in DETAILS and reponse.content and MEDIA_PROBLEME in reponse.content:
            reponse.description = f"{reponse.description} : {DETAILS[int(code)]}"
        # Only the problems carry it: `/ready`'s own 503 is a probe's answer, without it.
        if code.isdigit() and int(code) in AVEC_RETRY_AFTER and MEDIA_PROBLEME in (reponse.content or {}):
            reponse.headers = {**(reponse.headers or {}), "Retry-After": RETRY_AFTER}
    if ecriture and operation.security:
        operation.security = [
            {**exigence, SCHEMA_CSRF: []} if "cookie" in exigence else exigence
            for exigence in operation.security
        ]


_DESCRIPTIONS_ANGLAISES = {
    "Request fulfilled, document follows",
    "Document created, URL follows",
    "Request accepted, processing continues off-line",
    "Request fulfilled, nothing follows",
    "Stream Response",
}
"""What the framework writes for a success when the route says nothing."""


FORMATS_EXEMPLES = {
    motif: exemple.group(1)
    for motif, texte in FORMATS.items()
    if (exemple := re.search(r"par exemple (\S+)$", texte))
}
"""An example of each pattern of the contract, taken from how refusals explain it."""
EXEMPLES_FORMATS = {
    "uuid": UUID_EXEMPLE,
    "date": "2026-09-01",
    "date-time": "2026-09-01T08:30:00+02:00",
    "email": "camille.martin@example.fr",
}
Composants = dict[str, Schema]


def _motif(schema: Schema) -> str | None:
    if schema.pattern:
        return schema.pattern
    return next((v.pattern for v in schema.one_of or [] if isinstance(v, Schema) and v.pattern), None)


def _exemple(nom: str, schema: Schema | Reference, composants: Composants, profondeur: int = 0) -> Any:
    """A plausible value for a property the tables give none for, from its type (a referenced body
    is shown with its own properties' examples)."""
    if isinstance(schema, Reference):
        cible = composants.get(schema.ref.rsplit("/", 1)[-1])
        return (
            _exemple_objet(cible, composants, profondeur + 1)
            if cible is not None and profondeur < 4
            else None
        )
    if schema.examples and schema.examples not in ([None], [[]]):
        return schema.examples[0]
    if schema.enum:
        return next((v for v in schema.enum if v is not None), None)
    if schema.const is not None:
        return schema.const
    if (motif := _motif(schema)) is not None and motif in FORMATS_EXEMPLES:
        return FORMATS_EXEMPLES[motif]
    format_ = str(getattr(schema.format, "value", schema.format)) if schema.format is not None else None
    if format_ in EXEMPLES_FORMATS:
        return EXEMPLES_FORMATS[format_]
    if schema.one_of:
        for variante in schema.one_of:
            if isinstance(variante, Reference) or variante.type != OpenAPIType.NULL:
                return _exemple(nom, variante, composants, profondeur)
        return None
    if schema.type == OpenAPIType.BOOLEAN:
        return True
    if schema.type in (OpenAPIType.INTEGER, OpenAPIType.NUMBER):
        if schema.minimum is not None:
            return schema.minimum
        return 1250 if nom.endswith("_cents") else 1
    if schema.type == OpenAPIType.ARRAY:
        element = _exemple(nom, schema.items, composants, profondeur) if schema.items is not None else None
        return [element] if element is not None else []
    if schema.type == OpenAPIType.STRING:
        return "texte"
    return None


def _exemple_objet(schema: Schema, composants: Composants, profondeur: int) -> dict[str, Any]:
    return {
        nom: _exemple(nom, propriete, composants, profondeur)
        for nom, propriete in (schema.properties or {}).items()
        if isinstance(propriete, Schema) or nom in (schema.required or [])
    }


def _convient(exemple: Any, schema: Schema) -> bool:
    """A table's example fits the property unless the property has a pattern it does not match."""
    motif = _motif(schema)
    return motif is None or (isinstance(exemple, str) and re.search(motif, exemple) is not None)


def _completer_schema(nom_schema: str, schema: Schema, composants: Composants) -> None:
    for nom, propriete in (schema.properties or {}).items():
        description, exemple = PAR_SCHEMA.get((nom_schema, nom)) or PROPRIETES.get(nom) or (None, None)
        if isinstance(propriete, Reference):
            # OpenAPI 3.1 lets a reference carry its own description; its example is the target's.
            propriete.description = propriete.description or description
            continue
        if not propriete.description and description:
            propriete.description = description
        if not propriete.examples:
            valeur = exemple if exemple is not None and _convient(exemple, propriete) else None
            propriete.examples = [valeur if valeur is not None else _exemple(nom, propriete, composants)]


def completer(openapi: OpenAPI) -> OpenAPI:
    """Add to the generated document what every route shares (module docstring)."""
    composants = openapi.components
    composants.security_schemes = {**(composants.security_schemes or {}), SCHEMA_CSRF: CSRF}
    for chemin, element in (openapi.paths or {}).items():
        for methode in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
            operation = getattr(element, methode, None)
            if isinstance(operation, Operation):
                _completer_operation(chemin, methode, operation)
                _completer_parametres(operation)
    schemas = composants.schemas or {}
    # Scalars first, so that a referenced body's example is made of its completed properties.
    for nom, schema in schemas.items():
        _completer_schema(nom, schema, {})
    for nom, schema in schemas.items():
        for propriete in (schema.properties or {}).values():
            if isinstance(propriete, Schema) and propriete.examples in ([None], [[]]):
                propriete.examples = None
                propriete.examples = [_exemple(nom, propriete, schemas)]
    return openapi


def _completer_parametres(operation: Operation) -> None:
    for parametre in operation.parameters or []:
        if isinstance(parametre, Parameter) and not parametre.description:
            description = (
                PARAMETRES.get(parametre.name) or (PROPRIETES.get(parametre.name) or (None, None))[0]
            )
            parametre.description = description


class _OpenAPIComplete(OpenAPIPlugin):
    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        return completer(super()._build_openapi())


def documenter(application: Litestar) -> None:
    """Complete the app's document when it is first built (lazily, as the framework does).

    The framework looks its OpenAPI plugin up by exact type and builds the document on first use;
    the plugin keeps its state and its registry entry, only the build step gains `completer`."""
    greffon = application.plugins.get(OpenAPIPlugin)
    greffon.__class__ = _OpenAPIComplete
