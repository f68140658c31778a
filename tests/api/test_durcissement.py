"""Hardening found by a penetration test: what a hostile client sends never gives a 500, never
reaches the log raw, never turns into a formula; repeated creations are served once."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "corps",
    ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000],
    ids=["listes", "objets"],
)
@pytest.mark.parametrize("chemin", ["/api/auth/connexion", "/api/inscription"])
def test_json_imbrique_mille_fois_donne_un_400_sans_session(client, chemin: str, corps: str) -> None:
    reponse = client.post(chemin, content=corps, headers={"Content-Type": "application/json"})
    assert reponse.status_code == 400
    assert reponse.headers["content-type"].startswith("application/problem+json")
    assert "imbriqué" in reponse.json()["detail"]
