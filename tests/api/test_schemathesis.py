"""Schemathesis over the whole OpenAPI document, in process, as a parent and as an administrator:
no 5xx, every response as documented, every error problem+json."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar.serialization import encode_json
from litestar.testing import TestClient
from psycopg import sql
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    positive_data_acceptance,
)

from portail.api.app import create_app
from portail.settings import Settings
from portail.store.database import BaseDeDonnees

from outils_http import compte_personnel, connecter, nouvelle_famille


def _document() -> dict[str, Any]:
    reglages = Settings(data_dir=Path("/nonexistent"), master_key=base64.b64encode(os.urandom(32)).decode())
    # Through the framework's encoder, as /schema/openapi.json serves it.
    return json.loads(encode_json(create_app(reglages).openapi_schema.to_schema()))


schema = schemathesis.openapi.from_dict(_document())
CAS: list[int] = []


@pytest.fixture(scope="module", autouse=True)
def compter_les_cas() -> Iterator[None]:
    yield
    # Printed with -s: the number of generated cases actually sent (each to two identities).
    print(f"\nschemathesis : {len(CAS)} cas générés, {2 * len(CAS)} requêtes")  # noqa: T201


# Business rules refuse some schema-valid requests (an unknown id is a 404, a closed day a
# refusal): that is the contract, not a defect. The framework's automatic OPTIONS answer lists
# methods per handler rather than per path. Authentication is checked by the access matrix: here
# every case carries a real session, so the generated invalid credentials never stand alone.
EXCLUES = [positive_data_acceptance, allow_header_conformance, ignored_auth]


@pytest.fixture(scope="module")
def application(
    url_postgres: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:  # type: ignore[type-arg]
    nom = f"t_{uuid.uuid4().hex[:16]}"
    base = BaseDeDonnees(url_postgres, nom)
    base.creer_schema()
    dossier = tmp_path_factory.mktemp("schemathesis")
    reglages = Settings(
        data_dir=dossier,
        master_key=base64.b64encode(os.urandom(32)).decode(),
        secret_key="schemathesis",
        mail_dir=dossier / "mail",
        argon2_memoire_kib=1024,
        argon2_iterations=1,
        limite_echecs_compte=10_000,
        limite_echecs_ip=10_000,
        requetes_par_minute_ip=1_000_000,
    )
    try:
        with TestClient(app=create_app(replace(reglages, paiement_carte="test"), base=base)) as client:
            parent = nouvelle_famille(client, "schema-parent@example.fr")
            admin = compte_personnel(client, "schema-admin@mairie.fr", "admin")
            yield client, {"parent": parent.entetes, "admin": admin.entetes}
    finally:
        with psycopg.connect(url_postgres, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(nom)))


def _requete(client: TestClient, case: Any, entetes: dict[str, str]) -> Any:  # type: ignore[type-arg]
    """The case sent as generated, with this identity's header and no cookie; a multipart part is
    text or bytes on the wire (generated numbers and booleans go as their text)."""
    client.cookies.clear()
    kwargs = case.as_transport_kwargs(base_url="http://testserver.local", headers=entetes)
    kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")

    def texte(valeur: Any) -> Any:
        return valeur if isinstance(valeur, bytes | str) else str(valeur).encode()

    if isinstance(kwargs.get("files"), list):
        kwargs["files"] = [
            (nom, (p[0], texte(p[1]), *p[2:]) if isinstance(p, tuple) else texte(p))
            for nom, p in kwargs["files"]
        ]
    reponse = client.request(**kwargs)
    reponse.request.read()  # a multipart body is streamed: read it for the checks to see it
    return reponse


# Logging out would end the sessions the other cases use, and the upload's multipart bodies are
# sent as such below: both have their own runs.
@schema.exclude(path="/api/auth/deconnexion").exclude(path="/api/documents", method="POST").parametrize()
# 12 examples per operation in the suite; `PORTAIL_SCHEMATHESIS_EXEMPLES=100` for the long run
# (docs/securite.md): about 14,000 cases.
@settings(
    max_examples=int(os.environ.get("PORTAIL_SCHEMATHESIS_EXEMPLES", "12")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforme(case: Any, application: tuple[TestClient, dict[str, dict[str, str]]]) -> None:  # type: ignore[type-arg]
    client, identites = application
    CAS.append(1)
    for entetes in identites.values():
        reponse = _requete(client, case, entetes)
        # The export answers JSON lines or CSV depending on `format`; one media type is documented.
        exclues = [*EXCLUES, content_type_conformance] if case.path == "/api/audit/export" else EXCLUES
        case.validate_response(reponse, excluded_checks=exclues)
        if reponse.status_code >= 400:
            assert reponse.headers["content-type"].startswith("application/problem+json"), (
                case.method,
                case.path,
                reponse.status_code,
                reponse.text[:200],
            )


# Logout ends the session it is sent with: each case gets one of its own.
@schema.include(path="/api/auth/deconnexion").parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_deconnexion_conforme(case: Any, application: tuple[TestClient, dict[str, dict[str, str]]]) -> None:  # type: ignore[type-arg]
    client, _ = application
    CAS.append(1)
    client.cookies.clear()
    session = connecter(client, "schema-parent@example.fr")
    reponse = _requete(client, case, session.entetes)
    case.validate_response(reponse, excluded_checks=EXCLUES)
    assert reponse.status_code < 500, reponse.text
    if case.method == "POST" and reponse.status_code == 204:
        # The token is spent: it opens nothing any more.
        assert client.get("/api/foyer", headers=session.entetes).status_code == 401
    elif reponse.status_code >= 400:
        assert reponse.headers["content-type"].startswith("application/problem+json"), reponse.text[:200]


# The upload, with the multipart bodies the document describes: whatever the generated file, a
# documented answer and never a 5xx (a file that is not a PDF, JPEG or PNG is refused).
@schema.include(path="/api/documents", method="POST").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_depot_de_document_conforme(
    case: Any, application: tuple[TestClient, dict[str, dict[str, str]]]
) -> None:  # type: ignore[type-arg]
    client, identites = application
    CAS.append(1)
    reponse = _requete(client, case, identites["parent"])
    case.validate_response(reponse, excluded_checks=EXCLUES)
    assert reponse.status_code < 500, reponse.text
    if reponse.status_code >= 400:
        assert reponse.headers["content-type"].startswith("application/problem+json"), reponse.text[:200]
