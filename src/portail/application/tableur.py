"""CSV cells a spreadsheet opens safely."""

from __future__ import annotations

from typing import Any

DEBUTS_DE_FORMULE = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""The signs that start a formula, in their ASCII and full-width forms (a spreadsheet in an Asian
locale reads `＝` as `=`)."""


def _debut_dangereux(cellule: str) -> bool:
    # A spreadsheet may strip or skip a leading space, line break, NUL, byte-order mark or any
    # other invisible character before it looks for a formula: such a start is quoted too.
    premier = cellule[:1]
    return bool(premier) and (premier in DEBUTS_DE_FORMULE or premier.isspace() or not premier.isprintable())


def sans_formule(*cellules: Any) -> list[Any]:
    """A text cell a spreadsheet would run as a formula is quoted as text (a leading apostrophe);
    numbers are left as they are."""
    return [f"'{c}" if isinstance(c, str) and _debut_dangereux(c) else c for c in cellules]
