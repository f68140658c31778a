"""A canonical rendering of decoded values, to compare what two versions of the code decode.

Every value whose type JSON would lose is tagged with it: the string "2025-09-01" and the date
2025-09-01 render differently, as do 3 and Decimal("3"), or an enum and its value. Lists and
tuples render alike (a stored format may not keep the difference; the domain's value objects turn
sequences back into tuples themselves). Dicts render as pairs sorted by key, so that the order a
decoder builds them in does not matter.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import msgspec


def canonique(valeur: Any) -> Any:
    """A JSON-ready rendering of `valeur`; raises TypeError on a type it does not know."""
    if valeur is None or isinstance(valeur, bool):
        return valeur
    # Before int and str: IntEnum and StrEnum are ints and strs too.
    if isinstance(valeur, Enum):
        return {"enum": type(valeur).__qualname__, "nom": valeur.name, "valeur": canonique(valeur.value)}
    if isinstance(valeur, int | str):
        return valeur
    if isinstance(valeur, float):
        return {"float": repr(valeur)}
    if isinstance(valeur, Decimal):
        return {"decimal": str(valeur)}
    # Before date: a datetime is a date too.
    if isinstance(valeur, datetime):
        return {"datetime": valeur.isoformat()}
    if isinstance(valeur, date):
        return {"date": valeur.isoformat()}
    if isinstance(valeur, time):
        return {"time": valeur.isoformat()}
    if isinstance(valeur, timedelta):
        return {"timedelta": valeur.total_seconds()}
    if isinstance(valeur, UUID):
        return {"uuid": str(valeur)}
    if isinstance(valeur, bytes):
        return {"bytes": valeur.hex()}
    if dataclasses.is_dataclass(valeur) and not isinstance(valeur, type):
        champs = {c.name: canonique(getattr(valeur, c.name)) for c in dataclasses.fields(valeur)}
        return {"dataclass": type(valeur).__qualname__, "champs": champs}
    if isinstance(valeur, msgspec.Struct):
        # A value object renders by its class and fields, a frozen dataclass or a Struct alike: the
        # domain may change one for the other without changing what an event holds.
        champs = {nom: canonique(getattr(valeur, nom)) for nom in valeur.__struct_fields__}
        return {"dataclass": type(valeur).__qualname__, "champs": champs}
    if isinstance(valeur, dict):
        paires = [[canonique(k), canonique(v)] for k, v in valeur.items()]
        return {"dict": sorted(paires, key=lambda p: json.dumps(p[0], sort_keys=True))}
    if isinstance(valeur, list | tuple):
        return [canonique(v) for v in valeur]
    if isinstance(valeur, set | frozenset):
        return {"set": sorted((canonique(v) for v in valeur), key=lambda v: json.dumps(v, sort_keys=True))}
    raise TypeError(f"pas de rendu canonique pour {type(valeur).__qualname__}")


def evenement_canonique(evenement: object) -> Any:
    """A decoded domain event (or snapshot): every attribute it holds, audit metadata included."""
    return {nom: canonique(v) for nom, v in sorted(vars(evenement).items())}


def sans_champs_ajoutes(lu: Any, prevu: Any) -> Any:
    """`lu` without the value-object fields that `prevu` lacks: fields added to a dataclass (at its
    end, with a default) after `prevu` was rendered. The stored data never held them, so they can
    only read as their default; every field `prevu` has must still read the same."""
    if isinstance(lu, dict) and isinstance(prevu, dict):
        if "dataclass" in lu and lu.get("dataclass") == prevu.get("dataclass"):
            anciens = prevu["champs"]
            champs = {
                nom: sans_champs_ajoutes(v, anciens[nom]) for nom, v in lu["champs"].items() if nom in anciens
            }
            return {**lu, "champs": champs}
        return {k: sans_champs_ajoutes(v, prevu[k]) if k in prevu else v for k, v in lu.items()}
    if isinstance(lu, list) and isinstance(prevu, list) and len(lu) == len(prevu):
        return [sans_champs_ajoutes(a, b) for a, b in zip(lu, prevu, strict=True)]
    return lu
