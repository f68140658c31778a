"""docs/api.md documents exactly the routes the app serves, and the repository stands alone."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

RACINE = Path(__file__).resolve().parents[2]
CONTRAT = RACINE / "docs" / "api.md"
METHODES = "GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS"
ROUTE = re.compile(rf"^#{{2,4}} `({METHODES}) (/\S*)`\s*$")
TITRE_DE_ROUTE = re.compile(rf"^#{{2,4}} `(?:{METHODES})\b")
# Written in two parts so that this file does not hold the string it looks for.
HORS_DEPOT = "../" + "shared"


def routes_documentees(texte: str) -> list[tuple[str, str]]:
    """Every heading of the form ### `METHOD /path`, in the page's order."""
    routes = []
    for numero, ligne in enumerate(texte.splitlines(), start=1):
        if m := ROUTE.match(ligne):
            routes.append((m.group(1), m.group(2)))
        else:
            assert not TITRE_DE_ROUTE.match(ligne), (
                f"docs/api.md:{numero}: route heading not understood: {ligne!r}"
            )
    return routes


def test_la_page_api_documente_chaque_route_de_l_application(client) -> None:
    document = client.get("/schema/openapi.json").json()
    servies = {
        (methode.upper(), chemin)
        for chemin, operations in document["paths"].items()
        if not chemin.startswith("/schema")
        for methode in operations
        if methode.upper() in METHODES.split("|")
    }
    documentees = routes_documentees(CONTRAT.read_text(encoding="utf-8"))
    doublons = sorted({r for r in documentees if documentees.count(r) > 1})
    assert not doublons, f"documented twice in docs/api.md: {doublons}"
    non_documentees = sorted(servies - set(documentees))
    inexistantes = sorted(set(documentees) - servies)
    assert not non_documentees and not inexistantes, (
        "docs/api.md and the OpenAPI document differ.\n"
        f"Served but not documented: {[f'{m} {c}' for m, c in non_documentees]}\n"
        f"Documented but not served: {[f'{m} {c}' for m, c in inexistantes]}"
    )


def _fichiers_du_depot() -> list[Path]:
    """Tracked files, plus new ones not yet committed (but not ignored ones)."""
    try:
        sortie = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=RACINE,
            capture_output=True,
            check=True,
        ).stdout
        return [RACINE / nom for nom in sortie.decode().split("\0") if nom]
    except (OSError, subprocess.CalledProcessError):
        # A copy without git (an unpacked archive): every file but tool caches and environments.
        ignores = {".git", ".venv", ".tools", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}
        fichiers = []
        for dossier, sous_dossiers, noms in os.walk(RACINE):
            sous_dossiers[:] = [d for d in sous_dossiers if d not in ignores]
            fichiers.extend(Path(dossier) / nom for nom in noms)
        return fichiers


def test_aucun_fichier_ne_renvoie_hors_du_depot() -> None:
    fautifs = [
        str(f.relative_to(RACINE))
        for f in _fichiers_du_depot()
        if f.is_file() and HORS_DEPOT.encode() in f.read_bytes()
    ]
    assert fautifs == [], f"these files point outside the repository ({HORS_DEPOT}): {fautifs}"
