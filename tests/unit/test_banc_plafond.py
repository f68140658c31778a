"""The benchmark splits a sequential booking's time: the save's statement alone (sent, run,
committed, answered) against the rest, and the ratio the bookings would reach if the statement
were all they cost."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

RACINE = Path(__file__).resolve().parents[2]
if str(RACINE) not in sys.path:
    sys.path.insert(0, str(RACINE))

from bench import principal  # noqa: E402
from bench.principal import ChronoEnregistrement, plafond_enregistrement  # noqa: E402


class _Tenue:
    def __init__(self) -> None:
        self.recus: list[Any] = []

    def _appel(self, conn: Any, instruction: Any, valeurs: Any) -> str:
        self.recus.append(instruction)
        return "résultat"


def test_seuls_les_appels_faits_pendant_les_tranches_sont_chronometres(monkeypatch: Any) -> None:
    # A clock that moves by 2 ms at each reading: each timed call lasts exactly 2 ms.
    lectures = iter(range(1_000))
    monkeypatch.setattr(principal, "time", SimpleNamespace(perf_counter=lambda: 0.002 * next(lectures)))
    tenue = _Tenue()
    with ChronoEnregistrement(tenue) as chrono:
        assert tenue._appel(None, "hors tranche", []) == "résultat"
        chrono.actif = True
        assert tenue._appel(None, "réservation 1", []) == "résultat"
        assert tenue._appel(None, "réservation 2", []) == "résultat"
        chrono.actif = False
        tenue._appel(None, "brut", [])
    assert chrono.appels == 2
    assert chrono.secondes == pytest.approx(0.004)
    # Every call reached the statement, and the method is the class's again on leaving.
    assert tenue.recus == ["hors tranche", "réservation 1", "réservation 2", "brut"]
    assert "_appel" not in vars(tenue)


def test_le_plafond_est_le_debit_de_l_instruction_seule_rapporte_aux_insert_bruts() -> None:
    chrono = ChronoEnregistrement(_Tenue())
    chrono.appels, chrono.secondes = 1_000, 0.4
    # 1,000 commands in 0.8 s: the statement is half their time; alone, 2,500 a second, against
    # 5,000 raw INSERTs a second.
    assert plafond_enregistrement(chrono, 1_000, 0.8, 5_000.0) == {
        "save_statement_ms": 0.4,
        "save_statements_per_command": 1.0,
        "save_statement_share": 0.5,
        "ratio_if_only_the_save": 0.5,
    }


def test_sans_appel_chronometre_rien_n_est_rapporte() -> None:
    assert plafond_enregistrement(ChronoEnregistrement(_Tenue()), 0, 0.0, 5_000.0) == {}
