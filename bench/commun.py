"""What every part of the benchmark shares: one database schema, its settings, the in-process
services on it, and the generated commune."""

from __future__ import annotations

import os
import platform
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portail.bootstrap import Services
from portail.generation import CommuneGeneree
from portail.settings import Settings
from portail.store.format_evenements import FORMAT_ACTUEL

RACINE = Path(__file__).resolve().parents[1]


BOUCLE_ETALON = 5_000_000
"""Additions of the pure-Python loop that times a machine's interpreter (`machine`)."""


def modele_processeur(cpuinfo: str) -> str | None:
    """The processor's name as Linux's /proc/cpuinfo gives it."""
    for ligne in cpuinfo.splitlines():
        cle, _, valeur = ligne.partition(":")
        if cle.strip() == "model name" and valeur.strip():
            return valeur.strip()
    return None


def boucle_etalon_s(essais: int = 3) -> float:
    """The best of `essais` timings of a fixed pure-Python loop, in seconds."""
    meilleur = float("inf")
    for _ in range(essais):
        debut = time.perf_counter()
        total = 0
        for i in range(BOUCLE_ETALON):
            total += i
        meilleur = min(meilleur, time.perf_counter() - debut)
    return round(meilleur, 3)


def machine() -> dict[str, Any]:
    """What a report's figures were measured on. Two machines of one kind, both named "AMD EPYC"
    with 2 cores, differed by about two in the time of a pure-Python loop, and the figures bound
    by the interpreter (the bookings an api process serves a second, the decoding of the log)
    moved with it: the loop's time tells such machines apart where the processor's name does
    not."""
    try:
        modele = modele_processeur(Path("/proc/cpuinfo").read_text())
    except OSError:
        modele = None
    return {
        "cpu": os.cpu_count(),
        "cpu_model": modele or platform.processor() or platform.machine(),
        "python_loop_s": boucle_etalon_s(),
        "python_loop_additions": BOUCLE_ETALON,
        "python": platform.python_version(),
        "system": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def format_evenements() -> str:
    """The stored events' format: a dump of a commune written in another one is never reused."""
    return FORMAT_ACTUEL


@dataclass
class Banc:
    settings: Settings
    """Database URL and schema, data folder, keys: a server subprocess started with `env()` sees the
    same data as `services`."""
    services: Services
    """In-process services on the same schema (system clock), to prepare fixtures through the
    application."""
    commune: CommuneGeneree
    deploiement: str = "separe"
    """`separe`: `portail api` and `portail worker` processes; `serve`: one `portail serve`."""
    api_workers: int = 1
    """`separe`: the api's uvicorn worker processes (`portail api --workers N`)."""

    def env(self) -> dict[str, str]:
        """The `PORTAIL_*` variables for a `portail` subprocess on the same data."""
        s = self.settings
        valeurs = {
            "PORTAIL_DATA_DIR": str(s.data_dir),
            "PORTAIL_DATABASE_URL": s.database_url or "",
            "PORTAIL_DATABASE_SCHEMA": s.database_schema or "",
            "PORTAIL_MASTER_KEY": s.master_key or "",
            "PORTAIL_SECRET_KEY": s.secret_key or "",
            "PORTAIL_MAIL_DIR": str(s.dossier_courriels),
            "PORTAIL_ARGON2_MEMOIRE_KIB": str(s.argon2_memoire_kib),
            "PORTAIL_ARGON2_ITERATIONS": str(s.argon2_iterations),
            # Every simulated parent comes from 127.0.0.1: the per-IP limit would measure itself.
            "PORTAIL_REQUETES_PAR_MINUTE_IP": str(s.requetes_par_minute_ip),
            "PORTAIL_LOG_LEVEL": "WARNING",
            "PORTAIL_LOG_FORMAT": "json",
            "PORTAIL_POOL_SIZE": str(s.pool_size),
            "PORTAIL_POOL_MAX_OVERFLOW": str(s.pool_max_overflow),
        }
        return {k: v for k, v in valeurs.items() if v}


def rss_pic_mb_du_processus() -> float:
    """Peak resident set of this process, in MB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_pic_mb_par_processus(pid: int) -> float | None:
    """The largest peak resident set among a process and its children (the uvicorn workers of
    `portail api --workers N`), in MB: the figure that is "per api process"."""
    pics = [rss_pic_mb(pid)]
    try:
        enfants = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        enfants = []
    pics += [rss_pic_mb(int(enfant)) for enfant in enfants]
    connus = [p for p in pics if p is not None]
    return max(connus) if connus else None


def rss_pic_mb(pid: int) -> float | None:
    """Peak resident set (VmHWM) of another process, in MB; None once it is gone."""
    try:
        for ligne in Path(f"/proc/{pid}/status").read_text().splitlines():
            if ligne.startswith("VmHWM:"):
                return round(int(ligne.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None
