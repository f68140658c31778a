"""Lists psycopg sends as PostgreSQL arrays of a type given in advance.

A plain list has no array type until psycopg has looked at its elements: for each of the save
function's 30 arrays, at every call, it scans the list for the types it holds, then builds a
dumper for them. A `tableau("uuid", valeurs)` is a list whose class says its array type: its
dumper is found by that class, and only its elements are dumped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg import adapters, postgres
from psycopg.types.array import ListBinaryDumper


def _classe(type_sql: str) -> type[list[Any]]:
    info = postgres.types.get(type_sql)
    if info is None or not info.array_oid:
        raise ValueError(f"type PostgreSQL sans tableau : {type_sql}")
    classe: type[list[Any]] = type(f"Tableau_{info.name}", (list,), {"__slots__": ()})
    dumper = type(
        f"DumperTableau_{info.name}",
        (ListBinaryDumper,),
        {"element_oid": info.oid, "oid": info.array_oid},
    )
    # In the global map: connections opened afterwards have it; only these classes use it.
    adapters.register_dumper(classe, dumper)
    return classe


_CLASSES: dict[str, type[list[Any]]] = {
    t: _classe(t) for t in ("integer", "bigint", "uuid", "text", "bytea", "timestamptz", "jsonb")
}
"""Registered when this module is imported, before the application opens a connection: a
connection takes the adapters the global map has when it opens."""


def tableau(type_sql: str, valeurs: Iterable[Any]) -> list[Any]:
    """`valeurs` as an array of `type_sql` (one of `_CLASSES`), None for NULL elements."""
    return _CLASSES[type_sql](valeurs)
