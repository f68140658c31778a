"""The OpenAPI document, walked as a front-end developer reads it: every operation described in
French, every problem a route can answer listed (with `Retry-After` where it is sent), the CSRF
header of cookie sessions, a description and an example on every property, an enum on every
closed set."""

from __future__ import annotations

import base64
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from litestar.serialization import encode_json

from portail.api.app import create_app
from portail.settings import Settings

METHODES = {"get", "put", "post", "delete", "patch"}
ECRITURES = METHODES - {"get"}
MOTS_FRANCAIS = re.compile(
    r"\b(le|la|les|l|un|une|des|du|de|d|à|et|ou|en|au|aux|par|pour|sans|avec|mon|mes|ma|se|son|sa|ses|est|ne|n|pas|ce|cette)\b|[éèêàâçùôî]",
    re.IGNORECASE,
)
ANGLAIS = re.compile(
    r"\b(the|of|request|fulfilled|follows|response|created|nothing|stream|with)\b", re.IGNORECASE
)


@cache
def _document() -> dict[str, Any]:
    reglages = Settings(data_dir=Path("/nonexistent"), master_key=base64.b64encode(os.urandom(32)).decode())
    document: dict[str, Any] = json.loads(encode_json(create_app(reglages).openapi_schema.to_schema()))
    return document


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (methode, chemin, operation)
        for chemin, element in _document()["paths"].items()
        for methode, operation in element.items()
        if methode in METHODES
    ]


def _francais(texte: str | None) -> bool:
    return bool(texte) and MOTS_FRANCAIS.search(texte or "") is not None and not ANGLAIS.search(texte or "")


def _pas_anglais(texte: str | None) -> bool:
    """A title may be one French word (« Autorisations »): it must only not be the framework's English."""
    return bool(texte) and not ANGLAIS.search(texte or "")


def test_chaque_operation_a_un_resume_et_une_description_en_francais() -> None:
    manquants = [
        (methode, chemin)
        for methode, chemin, operation in _operations()
        if not _pas_anglais(operation.get("summary"))
        or not _francais(operation.get("description"))
        or operation["description"].strip() == operation["summary"].strip()
    ]
    assert not manquants
    assert len(_operations()) >= 90


def test_les_reponses_sont_decrites_en_francais() -> None:
    anglaises = [
        (methode, chemin, code, reponse["description"])
        for methode, chemin, operation in _operations()
        for code, reponse in operation["responses"].items()
        if not _francais(reponse.get("description"))
    ]
    assert not anglaises


def _attendus(methode: str, chemin: str, operation: dict[str, Any]) -> set[int]:
    statuts: set[int] = set()
    if operation.get("security"):
        statuts |= {401, 403}
    if chemin.startswith("/api") and methode in ECRITURES:
        statuts |= {403, 409}
    if "{" in chemin:
        statuts.add(404)
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        statuts |= {415, 422}
    if chemin not in {"/health", "/ready", "/metrics"}:
        statuts.add(429)
    if chemin not in {"/health", "/metrics"}:
        statuts.add(503)
    return statuts


def test_chaque_operation_liste_les_problemes_qu_elle_peut_repondre() -> None:
    manquants = {
        (methode, chemin): sorted(str(s) for s in attendus - {int(c) for c in operation["responses"]})
        for methode, chemin, operation in _operations()
        if (attendus := _attendus(methode, chemin, operation)) - {int(c) for c in operation["responses"]}
    }
    assert not manquants
    # The routes every front end calls first: each status named in the contract.
    connexion = _document()["paths"]["/api/auth/connexion"]["post"]["responses"]
    assert {"400", "401", "403", "415", "422", "429", "503"} <= set(connexion)
    reservation = _document()["paths"]["/api/enfants/{enfant_id}/reservations"]["post"]["responses"]
    assert {"401", "403", "404", "409", "415", "422", "429", "503"} <= set(reservation)


def test_les_problemes_sont_des_problem_json_avec_un_exemple_fixe_en_francais() -> None:
    for methode, chemin, operation in _operations():
        for code, reponse in operation["responses"].items():
            if not code.startswith(("4", "5")) or "application/problem+json" not in reponse.get(
                "content", {}
            ):
                continue
            contenu = reponse["content"]["application/problem+json"]
            assert contenu["schema"] == {"$ref": "#/components/schemas/Probleme"}, (methode, chemin, code)
            for exemple in contenu.get("examples", {}).values():
                valeur = exemple["value"]
                assert valeur["status"] == int(code)
                assert valeur["type"].startswith("https://portail-familles.fr/problemes/")
                assert _francais(valeur["detail"]), valeur
    # Built twice, the document is the same: no random example left.
    premier = _document()["paths"]["/api/moi"]["get"]["responses"]["401"]
    assert premier["content"]["application/problem+json"]["examples"]["probleme-example-1"]["value"] == {
        "type": "https://portail-familles.fr/problemes/non-authentifie",
        "title": "Authentification requise",
        "status": 401,
        "detail": "Connectez-vous pour accéder à cette ressource.",
        "correlation_id": "9f1c2b7e4a6d4e0f",
    }


def test_retry_after_est_documente_sur_409_429_et_503() -> None:
    for methode, chemin, operation in _operations():
        for code in ("409", "429", "503"):
            if code in operation["responses"] and chemin != "/ready":
                entetes = operation["responses"][code].get("headers", {})
                assert "Retry-After" in entetes, (methode, chemin, code)
                assert entetes["Retry-After"]["schema"]["type"] == "integer"


def test_l_en_tete_csrf_est_exige_des_ecritures_en_session_cookie() -> None:
    schemas = _document()["components"]["securitySchemes"]
    assert schemas["csrf"] == {
        "type": "apiKey",
        "name": "X-CSRFToken",
        "in": "header",
        "description": schemas["csrf"]["description"],
    }
    assert "X-CSRFToken" in schemas["csrf"]["description"]
    ecritures_en_session = 0
    for methode, chemin, operation in _operations():
        for exigence in operation.get("security", []):
            if "cookie" in exigence:
                assert ("csrf" in exigence) == (methode in ECRITURES), (methode, chemin, exigence)
                ecritures_en_session += methode in ECRITURES
    assert ecritures_en_session >= 40


def _valideur(schema: dict[str, Any]) -> Any:
    """A validator that resolves the document's own `#/components/...` references."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": _document()["components"]})


def test_chaque_propriete_a_une_description_et_un_exemple_valide() -> None:
    sans_description, sans_exemple, exemples_faux = [], [], []
    for nom, schema in _document()["components"]["schemas"].items():
        for propriete, definition in schema.get("properties", {}).items():
            if not _francais(definition.get("description")):
                sans_description.append(f"{nom}.{propriete}")
            if "$ref" in definition:
                continue
            exemples = definition.get("examples")
            if not exemples:
                sans_exemple.append(f"{nom}.{propriete}")
                continue
            sans_exemples = {k: v for k, v in definition.items() if k != "examples"}
            if not all(_valideur(sans_exemples).is_valid(e) for e in exemples):
                exemples_faux.append((f"{nom}.{propriete}", exemples))
    assert not sans_description
    assert not sans_exemple
    assert not exemples_faux


def test_les_parametres_sont_decrits() -> None:
    sans = [
        (methode, chemin, p["name"])
        for methode, chemin, operation in _operations()
        for p in operation.get("parameters", [])
        if not _francais(p.get("description"))
    ]
    assert not sans


def _enum(definition: dict[str, Any]) -> list[Any] | None:
    if "const" in definition:
        return [definition["const"]]
    if "enum" in definition:
        return [v for v in definition["enum"] if v is not None]
    for variante in definition.get("oneOf", []):
        if valeurs := _enum(variante):
            return valeurs
    if "items" in definition:
        return _enum(definition["items"])
    return None


FERMES = {
    "statut",
    "etat",
    "mode",
    "nature",
    "civilite",
    "source",
    "niveau",
    "niveaux",
    "classe",
    "residence",
    "situation_familiale",
    "regime_alimentaire",
    "zone_scolaire",
    "liste_attente",
    "facturation",
    "ancrage",
    "roles",
    "format",
}
"""Names that take a few values wherever they appear in the contract."""
OUVERTS = {("Probleme", "type"), ("DocumentOut", "media_type")}


@pytest.mark.parametrize(
    ("schema", "propriete", "valeurs"),
    [
        (
            "FactureOut",
            "statut",
            {"a_payer", "partiellement_payee", "payee", "avoir", "admise_en_non_valeur"},
        ),
        (
            "FactureResumeOut",
            "statut",
            {"a_payer", "partiellement_payee", "payee", "avoir", "admise_en_non_valeur"},
        ),
        ("ResponsableOut", "civilite", {"M", "Mme"}),
        (
            "UnitePointageOut",
            "etat",
            {"reserve", "present", "absent_justifie", "absent_non_justifie", "present_non_reserve"},
        ),
        ("Preparation", "statut", {"pret", "rattrapage", "indisponible"}),
        ("SanteService", "statut", {"ok"}),
    ],
)
def test_les_ensembles_fermes_sont_des_enums(schema: str, propriete: str, valeurs: set[str]) -> None:
    definition = _document()["components"]["schemas"][schema]["properties"][propriete]
    assert set(_enum(definition) or []) == valeurs


def _texte(definition: dict[str, Any]) -> bool:
    types = definition.get("type")
    return "string" in (types if isinstance(types, list) else [types]) or any(
        _texte(v)
        for v in definition.get("oneOf", []) + ([definition["items"]] if "items" in definition else [])
    )


def test_aucun_ensemble_ferme_n_est_une_chaine_libre() -> None:
    libres = [
        f"{nom}.{propriete}"
        for nom, schema in _document()["components"]["schemas"].items()
        for propriete, definition in schema.get("properties", {}).items()
        if propriete in FERMES
        and (nom, propriete) not in OUVERTS
        and _texte(definition)
        and not _enum(definition)
    ]
    libres += [
        f"{methode} {chemin} ?{p['name']}"
        for methode, chemin, operation in _operations()
        for p in operation.get("parameters", [])
        if p["name"] in FERMES and not _enum(p["schema"])
    ]
    assert not libres


def test_le_document_servi_est_le_document_complete(client) -> None:
    servi = client.get("/schema/openapi.json").json()
    assert "csrf" in servi["components"]["securitySchemes"]
    assert (
        servi["paths"]["/api/factures"]["get"]["description"]
        == _document()["paths"]["/api/factures"]["get"]["description"]
    )
    assert "Retry-After" in servi["paths"]["/api/factures"]["get"]["responses"]["503"]["headers"]
