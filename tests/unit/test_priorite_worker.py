"""A `portail worker` beside api processes on the same cores gives way to them once caught up."""

from __future__ import annotations

import subprocess
import sys

from portail.settings import Settings


def _nice_apres(increment: int) -> tuple[int, int]:
    """The niceness of a fresh process before and after `ceder_le_processeur(increment)`."""
    sortie = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from portail.cli import ceder_le_processeur as c;"
            f" avant = os.nice(0); print(avant, c({increment}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    avant, apres = sortie.stdout.split()
    return int(avant), int(apres)


def test_le_worker_cede_le_processeur_du_reglage() -> None:
    avant, apres = _nice_apres(10)
    assert apres == min(avant + 10, 19)


def test_zero_ou_negatif_ne_change_rien() -> None:
    for increment in (0, -5):
        avant, apres = _nice_apres(increment)
        assert apres == avant


def test_le_reglage_vient_de_l_environnement() -> None:
    assert Settings.depuis_environnement({}).worker_nice == 10
    assert Settings.depuis_environnement({"PORTAIL_WORKER_NICE": "0"}).worker_nice == 0
