"""Shared fixtures: a real PostgreSQL (the configured one, else an embedded one), a schema per test,
a clock the test moves, the services and the HTTP app on top of them."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg import sql

from portail.api.app import create_app
from portail.bootstrap import Services, construire_services
from portail.settings import Settings
from portail.store.database import BaseDeDonnees


@pytest.fixture(scope="session")
def url_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("PORTAIL_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from portail.store import embedded

    serveur = embedded.demarrer(tmp_path_factory.mktemp("postgres") / "pgdata")
    try:
        yield serveur.get_uri()
    finally:
        embedded.arreter(serveur)


@pytest.fixture
def base(url_postgres: str) -> Iterator[BaseDeDonnees]:
    """A schema of its own for each test: tests never see each other's events."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    base = BaseDeDonnees(url_postgres, schema)
    base.creer_schema()
    try:
        yield base
    finally:
        with psycopg.connect(url_postgres, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@dataclass
class HorlogeTest:
    """The clock the application reads; a test moves it forward."""

    maintenant: datetime

    def __call__(self) -> datetime:
        return self.maintenant

    def avancer(self, **duree: float) -> None:
        self.maintenant += timedelta(**duree)


@pytest.fixture
def horloge() -> HorlogeTest:
    return HorlogeTest(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        master_key=base64.b64encode(os.urandom(32)).decode(),
        secret_key="secret-de-test-" + uuid.uuid4().hex,
        mail_dir=tmp_path / "mail",
        # Cheap hashing: the tests check behaviour, not the hash cost.
        argon2_memoire_kib=1024,
        argon2_iterations=1,
        pool_size=4,
        pool_max_overflow=8,
        paiement_carte="test",
    )


@pytest.fixture
def services(settings: Settings, base: BaseDeDonnees, horloge: HorlogeTest) -> Iterator[Services]:
    sv = construire_services(settings, base, horloge)
    try:
        yield sv
    finally:
        sv.portail.close()


@pytest.fixture
def client(settings: Settings, base: BaseDeDonnees, horloge: HorlogeTest) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(app=create_app(settings, horloge=horloge, base=base)) as c:
        yield c
