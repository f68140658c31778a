"""The pages' templates are compiled when the process builds its environment, not at a first page
(where the compilation held up the requests that came with it)."""

from __future__ import annotations

from typing import Any

import pytest

from portail.web.app import environnement


def test_chaque_gabarit_est_compile_une_fois_des_le_depart(monkeypatch: pytest.MonkeyPatch) -> None:
    env = environnement()
    assert environnement() is env
    noms = env.list_templates(extensions=["html"])
    assert "planning/calendrier.html" in noms
    assert env.loader is not None

    def plus_de_lecture(*_: Any) -> Any:
        raise AssertionError("gabarit lu après le départ")

    monkeypatch.setattr(env.loader, "get_source", plus_de_lecture)
    for nom in noms:
        assert env.get_template(nom).render is not None
