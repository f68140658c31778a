"""Regenerate docs/captures/*.png: the parents' main screens at 1280 px and 360 px wide, on the
demo data (`portail demo`), served by the portal itself and shot by Playwright in Debian's
chromium (`apt-get install chromium`).

    PORTAIL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python scripts/captures.py       # or `make captures`

The demo is written into a schema of its own, dropped at the end (without PORTAIL_DATABASE_URL,
into an embedded PostgreSQL in a temporary folder).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import psycopg
import uvicorn
from playwright.sync_api import Page, sync_playwright
from psycopg import sql

from portail.demo import PARENT, remplir
from portail.settings import Settings
from portail.web.app import creer_app

RACINE = Path(__file__).resolve().parents[1]
SORTIE = RACINE / "docs" / "captures"
LARGEURS = {"bureau": (1280, 900), "mobile": (360, 740)}


def _suivre(page: Page, chemin: str, lien: str) -> None:
    page.goto(chemin)
    page.locator(lien).first.click()


def _calendrier(page: Page) -> None:
    """The wizard's third step: the younger Peje child's périscolaire, a booked day chosen."""
    page.goto("/planning")
    page.get_by_role("link", name="Enfant 2").first.click()
    page.get_by_role("link", name="Garderie et Restauration", exact=False).first.click()
    page.locator("table.calendrier a").first.click()


ECRANS: tuple[tuple[str, str | Callable[[Page], None], bool], ...] = (
    ("connexion", "/connexion", False),
    ("accueil", "/", True),
    ("profil", "/profil", True),
    ("enfant", lambda page: _suivre(page, "/enfants", ".liste-simple a"), True),
    ("planning", "/planning", True),
    ("planning-calendrier", _calendrier, True),
    ("factures", "/factures", True),
    ("facture", lambda page: _suivre(page, "/factures", "table a[href^='/factures/']"), True),
    ("documents", "/documents", True),
    ("quotient-prelevement", "/quotient-prelevement", True),
)
"""Each screen: its name, its address or how to reach it, whether it needs the parent's session."""


def _port_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    chromium = os.environ.get("PORTAIL_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        sys.exit("chromium introuvable : apt-get install chromium")
    with tempfile.TemporaryDirectory() as dossier:
        port = _port_libre()
        reglages = replace(
            Settings.depuis_environnement(),
            data_dir=Path(dossier),
            mail_dir=Path(dossier) / "mail",
            database_schema=f"captures_{uuid.uuid4().hex[:12]}",
            url_publique=f"http://127.0.0.1:{port}",
            secret_key="captures-" + uuid.uuid4().hex,
            master_key=None,
        )
        for ligne in remplir(reglages):
            print(ligne)  # noqa: T201
        serveur = uvicorn.Server(
            uvicorn.Config(
                creer_app(reglages), host="127.0.0.1", port=port, log_config=None, access_log=False
            )
        )
        fil = threading.Thread(target=serveur.run, daemon=True)
        fil.start()
        while not serveur.started:
            time.sleep(0.05)
        try:
            _photographier(chromium, reglages.url_publique)
        finally:
            serveur.should_exit = True
            fil.join(30)
            if reglages.database_url and reglages.database_schema:
                with psycopg.connect(reglages.database_url, autocommit=True) as conn:
                    conn.execute(
                        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                            sql.Identifier(reglages.database_schema)
                        )
                    )


def _photographier(chromium: str, url: str) -> None:
    SORTIE.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        navigateur = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--lang=fr-FR"]
        )
        for nom_largeur, (largeur, hauteur) in LARGEURS.items():
            contexte = navigateur.new_context(
                viewport={"width": largeur, "height": hauteur}, locale="fr-FR", base_url=url
            )
            page = contexte.new_page()
            for nom, chemin, connecte in ECRANS:
                if connecte and ("/connexion" in page.url or page.url == "about:blank"):
                    page.goto("/connexion")
                    page.locator("#champ-email").fill(PARENT[0])
                    page.locator("#champ-mot_de_passe").fill(PARENT[1])
                    page.get_by_role("button", name="Connexion").click()
                    page.wait_for_url("**/")
                if isinstance(chemin, str):
                    page.goto(chemin)
                else:
                    chemin(page)
                page.wait_for_load_state("networkidle")
                fichier = SORTIE / f"{nom}-{nom_largeur}.png"
                page.screenshot(path=str(fichier), full_page=True)
                print(f"{fichier.relative_to(RACINE)}")  # noqa: T201
            contexte.close()
        navigateur.close()


if __name__ == "__main__":
    main()
