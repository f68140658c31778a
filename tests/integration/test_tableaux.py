"""Typed lists reach PostgreSQL as arrays of their type, whatever they hold."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from portail.store.tableaux import tableau

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    ("type_sql", "valeurs", "attendu"),
    [
        ("uuid", [], "uuid[]"),
        ("uuid", [uuid.UUID(int=1), None], "uuid[]"),
        ("integer", [None], "integer[]"),
        ("bigint", [1, 2**40], "bigint[]"),
        ("text", ["a", "é"], "text[]"),
        ("bytea", [b"\x00\x01"], "bytea[]"),
        ("timestamptz", [datetime(2026, 9, 1, 8, tzinfo=UTC)], "timestamp with time zone[]"),
    ],
)
def test_un_tableau_arrive_avec_son_type(base: Any, type_sql: str, valeurs: list[Any], attendu: str) -> None:
    with psycopg.connect(base.url, autocommit=True) as conn:
        type_recu, relu = conn.execute(
            "SELECT pg_typeof(%b)::text, %b", (tableau(type_sql, valeurs),) * 2
        ).fetchone()  # type: ignore[misc]
    assert type_recu == attendu
    assert relu == valeurs
