"""`jusqu_a` is a journal position (an integer) or an instant: a JSON number that is not a whole
position is refused, not read as a Unix timestamp of 1970 (the framework converts leniently)."""

from __future__ import annotations

import pytest

from outils_http import compte_personnel


@pytest.mark.parametrize("chemin", ["/api/regie/campagnes", "/api/regie/rejeu"])
def test_un_nombre_non_entier_n_est_pas_un_instant(client, chemin: str) -> None:
    regisseur = compte_personnel(client, "regie-jusqu-a@mairie.fr", "regisseur")
    reponse = client.post(chemin, json={"periode": "2026-09", "jusqu_a": 1.5}, headers=regisseur.entetes)
    assert reponse.status_code in (400, 422), reponse.text
    assert reponse.headers["content-type"].startswith("application/problem+json")


def test_un_instant_ecrit_en_texte_reste_accepte(client) -> None:
    regisseur = compte_personnel(client, "regie-instant@mairie.fr", "regisseur")
    reponse = client.post(
        "/api/regie/campagnes",
        json={"periode": "2026-09", "jusqu_a": "2026-10-01T00:00:00+02:00"},
        headers=regisseur.entetes,
    )
    assert reponse.status_code == 201, reponse.text
