"""Lists psycopg sends as PostgreSQL arrays of a type given in advance.

A plain list has no array type until psycopg has looked at its elements: for each of the save
function's 30 arrays, at every call, it scans the list for the types it holds, then builds a
dumper for them. A `tableau("uuid", valeurs)` is a list whose class says its array type: its
dumper is found by that class, and only its elements are dumped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

from psycopg import adapters, postgres
from psycopg.abc import AdaptContext, Buffer
from psycopg.types.array import ListBinaryDumper

_TETE = struct.Struct("!III")
"""Dimensions, whether an element is NULL, the elements' type: PostgreSQL's binary array header."""
_DIMENSION = struct.Struct("!II")
_LONGUEUR = struct.Struct("!i")
_NUL = _LONGUEUR.pack(-1)


class _DumperTableau(ListBinaryDumper):
    """psycopg's binary array dumper for a list of one dimension whose element type is known: its
    generic path measures the dimensions of nested lists and builds a list of parts for each of
    the save function's thirty arrays, most of them empty (the same bytes, a fraction of the
    time: `tests/integration/test_tableaux.py`)."""

    def __init__(self, cls: type, context: AdaptContext | None = None) -> None:
        super().__init__(cls, context)
        self._vide = bytes(super().dump([]) or b"")
        self._oid_element = _TETE.unpack(self._vide)[2]

    def dump(self, obj: list[Any]) -> Buffer | None:
        if not obj:
            return self._vide
        dumper = self.sub_dumper
        if dumper is None:
            return super().dump(obj)
        parties: list[Buffer] = [b"", _DIMENSION.pack(len(obj), 1)]
        nul = 0
        for element in obj:
            octets = None if element is None else dumper.dump(element)
            if octets is None:
                nul = 1
                parties.append(_NUL)
            else:
                parties.append(_LONGUEUR.pack(len(octets)))
                parties.append(octets)
        parties[0] = _TETE.pack(1, nul, self._oid_element)
        return b"".join(parties)


def _classe(type_sql: str) -> type[list[Any]]:
    info = postgres.types.get(type_sql)
    if info is None or not info.array_oid:
        raise ValueError(f"type PostgreSQL sans tableau : {type_sql}")
    classe: type[list[Any]] = type(f"Tableau_{info.name}", (list,), {"__slots__": ()})
    dumper = type(
        f"DumperTableau_{info.name}",
        (_DumperTableau,),
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
