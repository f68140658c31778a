"""CSV cells a spreadsheet opens safely."""

from __future__ import annotations

from typing import Any

DEBUTS_DE_FORMULE = ("=", "+", "-", "@", "\t", "\r", "\n", " ", "\0")
"""What a spreadsheet may read as the start of a formula (or strip before looking for one)."""


def sans_formule(*cellules: Any) -> list[Any]:
    """A text cell a spreadsheet would run as a formula is quoted as text (a leading apostrophe);
    numbers are left as they are."""
    return [f"'{c}" if isinstance(c, str) and c.startswith(DEBUTS_DE_FORMULE) else c for c in cellules]
