"""Hardening found by a penetration test: what a hostile client sends never gives a 500, never
reaches the log raw, never turns into a formula; repeated creations are served once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from litestar.testing import TestClient

from portail.api.app import create_app


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


def test_caracteres_de_controle_du_chemin_echappes_dans_le_journal_console(
    settings, base, horloge, capfd
) -> None:
    reglages = replace(settings, log_format="console", log_level="INFO")
    with TestClient(app=create_app(reglages, horloge=horloge, base=base)) as client:
        capfd.readouterr()
        # ESC [2J clears a terminal, backspaces rub out what came before, NUL cuts lines in tools.
        client.get("/api/%1B%5B2J%1B%5B31mfaux%08%08%08%00%7F%C2%9B/x")
        client.get("/schema/%0Afaux-journal%0D")
    sortie = capfd.readouterr()
    texte = sortie.out + sortie.err
    lignes = [ligne for ligne in texte.splitlines() if "requete" in ligne]
    assert len(lignes) == 2, texte
    for controle in ("\x1b", "\x08", "\x00", "\x7f", "\x9b", "\r"):
        assert controle not in texte
    assert "faux-journal" not in "".join(ligne for ligne in texte.splitlines() if "requete" not in ligne)
    assert "/api/\\x1b[2J\\x1b[31mfaux\\x08\\x08\\x08\\x00\\x7f\\x9b/x" in lignes[0]
    assert "faux-journal" in lignes[1]
