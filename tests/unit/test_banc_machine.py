"""The benchmark names the machine its figures come from: the processor as Linux gives it, and the
time of a fixed pure-Python loop, which tells apart two machines sold under one name."""

from __future__ import annotations

import sys
from pathlib import Path

RACINE = Path(__file__).resolve().parents[2]
if str(RACINE) not in sys.path:
    sys.path.insert(0, str(RACINE))

from bench.commun import machine, modele_processeur  # noqa: E402

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu vme

processor\t: 1
model name\t: AMD EPYC 9R14 96-Core Processor
"""


def test_le_processeur_est_lu_dans_cpuinfo() -> None:
    assert modele_processeur(CPUINFO) == "AMD EPYC 9R14 96-Core Processor"


def test_sans_nom_de_modele_le_processeur_est_inconnu() -> None:
    # Some architectures' /proc/cpuinfo has no "model name" line (ARM boards among them), or an
    # empty one.
    assert modele_processeur("processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n") is None
    assert modele_processeur("processor\t: 0\nBogoMIPS\t: 50.00\nmodel name\t:\n") is None


def test_le_rapport_donne_le_temps_de_la_boucle_etalon() -> None:
    rapport = machine()
    assert rapport["python_loop_s"] > 0
    assert rapport["python_loop_additions"] == 5_000_000
    assert rapport["cpu_model"]
