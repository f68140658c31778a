"""Entrance pages in a real browser: connexion, déconnexion, mot de passe oublié and the mail's
link, inscription; with and without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from outils_web import PortailWeb, connecter, verifier_page

pytestmark = pytest.mark.postgres


def test_connexion_mene_a_l_accueil_et_deconnexion(page: Any, portail_web: PortailWeb) -> None:
    portail_web.famille("claire@example.fr")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    verifier_page(page)

    connecter(page, "claire@example.fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire")
    for tuile in ("Mon profil", "Mon foyer", "Mes enfants", "Mon planning", "Mes factures", "Mes documents"):
        expect(page.get_by_role("link", name=re.compile(tuile))).to_be_visible()
    verifier_page(page)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté.")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
