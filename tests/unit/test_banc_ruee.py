"""The opening rush's plan (`bench/http.py`): every parent once, evenly spread over the minute, and a
few again with the same key after their first request."""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

import pytest

# `bench/` lives beside src/, outside the installed package (as `portail bench` finds it).
RACINE = Path(__file__).resolve().parents[2]
if str(RACINE) not in sys.path:
    sys.path.insert(0, str(RACINE))

from bench.http import FENETRE_RUEE, PART_REESSAIS, plan_ruee  # noqa: E402


@pytest.mark.parametrize("parents", [1, 7, 2_000, 10_000])
def test_chaque_parent_une_fois_a_intervalles_egaux_puis_quelques_reessais(parents: int) -> None:
    plan = plan_ruee(parents, random.Random(3))

    premieres: dict[int, float] = {}
    for parent, a in plan:
        premieres.setdefault(parent, a)
    assert sorted(premieres) == list(range(parents))
    # The first requests, in due order, leave one step apart across the window, whoever sends them.
    instants = sorted(premieres.values())
    pas = FENETRE_RUEE / parents
    assert instants == pytest.approx([rang * pas for rang in range(parents)])
    assert instants[-1] < FENETRE_RUEE

    reessais = Counter(parent for parent, _ in plan) - Counter(premieres.keys())
    assert sum(reessais.values()) == round(PART_REESSAIS * parents)
    assert set(reessais.values()) <= {1}
    # A retry follows its parent's first request, by at most a few seconds.
    for parent, a in plan:
        assert premieres[parent] <= a <= premieres[parent] + 5
    assert [a for _, a in plan] == sorted(a for _, a in plan)


def test_meme_graine_meme_ruee() -> None:
    assert plan_ruee(500, random.Random(1)) == plan_ruee(500, random.Random(1))
