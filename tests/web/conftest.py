"""Browser tests: the app served by uvicorn on a free loopback port against the test database,
driven by Playwright with Debian's chromium; axe-core injected into every page."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import uvicorn

from portail.settings import Settings
from portail.store.database import BaseDeDonnees
from portail.web.app import creer_app

from outils_web import AXE, PortailWeb


def _chromium() -> str | None:
    chemin = os.environ.get("PORTAIL_CHROMIUM", "/usr/bin/chromium")
    return chemin if os.path.exists(chemin) else shutil.which("chromium")


@pytest.fixture(scope="session")
def navigateur() -> Iterator[Any]:
    chemin = _chromium()
    if chemin is None:
        message = "chromium introuvable (apt-get install chromium) : tests du navigateur"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " obligatoires en CI")
        pytest.skip(message + " ignorés")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where chromium's sandbox cannot start.
        navigateur = playwright.chromium.launch(executable_path=chemin, args=["--no-sandbox"])
        try:
            yield navigateur
        finally:
            navigateur.close()


def _port_libre() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def portail_web(settings: Settings, base: BaseDeDonnees, horloge: Any) -> Iterator[PortailWeb]:
    """The API and the pages, served over HTTP in a thread of this process."""
    port = _port_libre()
    url = f"http://127.0.0.1:{port}"
    reglages = replace(settings, url_publique=url)
    application = creer_app(reglages, horloge=horloge, base=base)
    serveur = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    fil = threading.Thread(target=serveur.run, name="uvicorn-tests", daemon=True)
    fil.start()
    limite = time.monotonic() + 60
    while not serveur.started:
        if not fil.is_alive() or time.monotonic() > limite:
            raise RuntimeError("le serveur de test n'a pas démarré")
        time.sleep(0.05)
    try:
        yield PortailWeb(url, application.state.services, reglages, horloge)
    finally:
        serveur.should_exit = True
        fil.join(30)


@pytest.fixture
def page(navigateur: Any, portail_web: PortailWeb) -> Iterator[Any]:
    """A desktop page (1280 px) with axe-core loaded; no CSP violation may show in its console."""
    contexte = navigateur.new_context(
        viewport={"width": 1280, "height": 800}, locale="fr-FR", base_url=portail_web.url
    )
    # An init script is not subject to the page's CSP, unlike a script tag added to it.
    contexte.add_init_script(path=str(AXE))
    onglet = contexte.new_page()
    onglet.set_default_timeout(10_000)
    violations: list[str] = []
    onglet.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        yield onglet
    finally:
        contexte.close()
    assert not violations, violations


@pytest.fixture
def page_sans_js(navigateur: Any, portail_web: PortailWeb) -> Iterator[Any]:
    contexte = navigateur.new_context(
        viewport={"width": 360, "height": 740},
        locale="fr-FR",
        base_url=portail_web.url,
        java_script_enabled=False,
    )
    try:
        yield contexte.new_page()
    finally:
        contexte.close()
