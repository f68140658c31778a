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


@pytest.mark.parametrize(
    ("type_sql", "valeurs"),
    [
        ("uuid", []),
        ("uuid", [uuid.UUID(int=1), None, uuid.uuid4()]),
        ("integer", [None, 3, -7]),
        ("bigint", [1, 2**40]),
        ("text", ["a", "é", ""]),
        ("bytea", [b"\x00\x01", b""]),
        ("timestamptz", [datetime(2026, 9, 1, 8, tzinfo=UTC), None]),
        ("jsonb", []),
    ],
)
def test_un_tableau_est_encode_comme_psycopg_l_encode(base: Any, type_sql: str, valeurs: list[Any]) -> None:
    """The save function's arrays, dumped by our shortcut, are the bytes psycopg's own dumper
    gives for the same list (what PostgreSQL reads is unchanged)."""
    from psycopg.adapt import Transformer
    from psycopg.types.array import ListBinaryDumper

    with psycopg.connect(base.url, autocommit=True) as conn:
        liste = tableau(type_sql, valeurs)
        transformateur = Transformer(conn)
        notre = transformateur.get_dumper(liste, psycopg.adapt.PyFormat.BINARY)
        generique = ListBinaryDumper(type(liste), conn)
        generique.sub_dumper = notre.sub_dumper
        assert type(notre).__name__.startswith("DumperTableau_")
        assert bytes(notre.dump(liste) or b"") == bytes(generique.dump(liste) or b"")
