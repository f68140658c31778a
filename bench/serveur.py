"""The API server under test, on the benchmark's data: `portail api` beside a `portail worker`
(the large commune's deployment, the default) or `portail serve` alone, each in its own process.

A separate process (not an in-process app) so that its resident memory, its event loop and its
thread pool are those of production, and so that the load generator competes with it for the CPU
the way real clients would not: the figures say how much the generator itself costs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from types import TracebackType

from bench.charge import relever_limite_fichiers
from bench.commun import RACINE, Banc

DELAI_DEMARRAGE = 600.0
"""`/ready` answers 503 until the projections have caught up after start: a big commune takes a while."""
DELAI_ARRET = 15.0
DELAI_REPOS = 120.0
"""At most this long, after `/ready`, for the processes' start-up work to end (`_attendre_repos`)."""
REPOS_CPU = 0.05
"""Processor seconds a second under which the server's processes count as at rest."""
LIMITE_FICHIERS = 65_536
"""Open files the server may need: a connection per parent of the rush, beside its pool and logs."""


def cpu_du_processus(pid: int) -> float:
    """CPU seconds (user + system) of a process and of its children that it has waited for."""
    champs = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(c) for c in champs[11:15]) / os.sysconf("SC_CLK_TCK")


def cpu_postgresql() -> float:
    """CPU seconds used so far by every PostgreSQL process of this machine (the server's backends
    come and go: the ones that ended are in their parent's children's times)."""
    total = 0.0
    for entree in Path("/proc").iterdir():
        if not entree.name.isdigit():
            continue
        try:
            if (entree / "comm").read_text().strip() not in {"postgres", "postmaster"}:
                continue
            total += cpu_du_processus(int(entree.name))
        except (OSError, ValueError):
            continue
    return total


def port_libre() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeurApi:
    """`with ServeurApi(banc) as serveur:` starts the server and waits for `GET /ready`."""

    def __init__(self, banc: Banc, port: int | None = None) -> None:
        self.banc = banc
        self.port = port or port_libre()
        self.url = f"http://127.0.0.1:{self.port}"
        self._processus: subprocess.Popen[bytes] | None = None
        self._worker: subprocess.Popen[bytes] | None = None
        self.demarre_en_s: float | None = None
        """Seconds from start until ready (and, split, until the worker had caught up)."""
        self.repos_en_s: float | None = None
        """Seconds from ready until the processes were at rest (`_attendre_repos`)."""
        self._journal = Path(tempfile.mkstemp(prefix="portail-bench-serveur-", suffix=".log")[1])

    @property
    def pid(self) -> int:
        assert self._processus is not None, "serveur non démarré"
        return self._processus.pid

    @property
    def pid_worker(self) -> int | None:
        return self._worker.pid if self._worker is not None else None

    def demarrer(self) -> None:
        env = os.environ | self.banc.env()
        portail = str(RACINE / ".venv" / "bin" / "portail")
        separe = self.banc.deploiement == "separe"
        # Raised here, inherited by the processes started below (within the hard limit).
        relever_limite_fichiers(LIMITE_FICHIERS)
        commande = [portail, "api" if separe else "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if separe and self.banc.api_workers > 1:
            commande += ["--workers", str(self.banc.api_workers)]
        # stderr into a file, not a pipe: nobody reads it during the run and a full pipe would
        # block the server's logging.
        with self._journal.open("wb") as sortie:
            if separe:
                # The large commune's deployment: the projections in a worker process of their own.
                self._worker = subprocess.Popen(  # noqa: S603 (our own executable, no shell)
                    [portail, "worker"], env=env, stdout=sortie, stderr=subprocess.STDOUT, cwd=RACINE
                )
            self._processus = subprocess.Popen(  # noqa: S603 (our own executable, no shell)
                commande, env=env, stdout=sortie, stderr=subprocess.STDOUT, cwd=RACINE
            )
        debut = time.monotonic()
        fin = debut + DELAI_DEMARRAGE
        while time.monotonic() < fin:
            if self._processus.poll() is not None:
                raise RuntimeError(f"le serveur s'est arrêté au démarrage :\n{self.fin_du_journal()}")
            try:
                with urllib.request.urlopen(f"{self.url}/ready", timeout=2) as reponse:  # noqa: S310
                    # A new runner first folds the billing facts of the whole log, then catches
                    # up: `/ready` answers 503 meanwhile (an HTTPError, below); measures start after.
                    pret = reponse.status == 200 and (
                        self.banc.deploiement != "separe"
                        or int(json.loads(reponse.read()).get("retard_projections", 0)) == 0
                    )
                    if pret:
                        self.demarre_en_s = round(time.monotonic() - debut, 1)
                        self._attendre_repos()
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.arreter()
        raise RuntimeError(
            f"le serveur n'est pas prêt après {DELAI_DEMARRAGE:.0f} s :\n{self.fin_du_journal()}"
        )

    def _attendre_repos(self) -> None:
        """Once ready, wait until the server's processes have finished their start-up work: a
        worker that has caught up folds ahead the families the next bookings will touch (seconds
        of processor at 10,000 children), which a commune's worker, started long before its
        registration morning, has done by then. Measures start at rest; `repos_en_s` says how
        long that took."""
        debut = time.monotonic()

        def cpu() -> float:
            worker = self.cpu_worker_s()
            return self.cpu_s() + (worker or 0.0)

        precedent = cpu()
        while time.monotonic() - debut < DELAI_REPOS:
            time.sleep(1.0)
            courant = cpu()
            if courant - precedent < REPOS_CPU:
                break
            precedent = courant
        self.repos_en_s = round(time.monotonic() - debut, 1)

    def arreter(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(DELAI_ARRET)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        processus, self._processus = self._processus, None
        if processus is None or processus.poll() is not None:
            return
        # SIGINT is uvicorn's graceful shutdown: the lifespan stops the projector and closes the pool.
        processus.send_signal(signal.SIGINT)
        try:
            processus.wait(DELAI_ARRET)
        except subprocess.TimeoutExpired:
            processus.kill()
            processus.wait()

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server has used so far: beside the generator's own, it
        shows who had the two cores."""
        return cpu_du_processus(self.pid)

    def cpu_worker_s(self) -> float | None:
        """The same for the split deployment's worker (None in `serve`)."""
        return cpu_du_processus(self._worker.pid) if self._worker is not None else None

    def fin_du_journal(self, lignes: int = 40) -> str:
        try:
            return "\n".join(self._journal.read_text(errors="replace").splitlines()[-lignes:])
        except OSError:
            return ""

    def erreurs_du_journal(self) -> dict[str, int]:
        """Warnings and errors the server logged (JSON lines), counted by event: the cause of a 5xx
        or of a 503 is there, never in the response."""
        comptes: Counter[str] = Counter()
        try:
            texte = self._journal.read_text(errors="replace")
        except OSError:
            return {}
        for ligne in texte.splitlines():
            try:
                entree = json.loads(ligne)
            except ValueError:
                if "Traceback" in ligne or "Error" in ligne:
                    comptes["texte: " + ligne.strip()[:120]] += 1
                continue
            if isinstance(entree, dict) and entree.get("level") in {"warning", "error", "critical"}:
                cle = f"{entree.get('level')}: {entree.get('event')}"
                for champ in ("statut", "type_erreur"):
                    if valeur := entree.get(champ):
                        cle += f" [{champ}={valeur}]"
                if exception := entree.get("exception"):
                    cle += f" ({str(exception).strip().splitlines()[-1][:160]})"
                comptes[cle] += 1
        return dict(comptes.most_common(20))

    def supprimer_journal(self) -> None:
        self._journal.unlink(missing_ok=True)

    def __enter__(self) -> ServeurApi:
        self.demarrer()
        return self

    def __exit__(
        self, type_: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.arreter()
