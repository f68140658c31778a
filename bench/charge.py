"""HTTP load generator of the benchmark, run as its own process beside the server.

    python -m bench.charge TRAVAIL.json --clients 50 --duree 20              # closed loop
    python -m bench.charge TRAVAIL.json --debit 200 --duree 30 --connexions 200   # open loop
    python -m bench.charge TRAVAIL.json --horaires --connexions 1000 ...     # each request at its `a`
    python -m bench.charge TRAVAIL.json --horaires --nouvelle-connexion ...  # one browser each

The work file is `{"url": "http://127.0.0.1:P", "requetes": [{"methode", "chemin", "entetes"?,
"corps"? (JSON) or "formulaire"? (a url-encoded page form), "a"?}]}`; the result (requests, statuses, errors, achieved rate, p50/p99, own peak RSS) is
one JSON object on stdout.

Closed loop: N clients, each on its own keep-alive connection, send the next request of the list
as soon as their previous one is answered: the figure is a throughput. Open loop: requests leave
at the offered rate whatever the answers, through at most `--connexions` connections; a request's
latency counts from the moment it was due, so time spent waiting for a free connection (the
server being behind) is in the figure rather than hidden (coordinated omission). With
`--nouvelle-connexion` no connection is reused: each request opens its own, as many browsers
arriving at once would, and the process raises its open-files limit to hold them all.
A request unanswered after `--delai-requete` seconds (30) counts as not answered.

Plain asyncio protocols and the C parser uvicorn itself uses (httptools), on uvloop: the server
under test shares two cores with this process, so every microsecond spent here is taken from it.
Run it with `-m` from the repository root, never as `bench/charge.py`: the folder on `sys.path`
would let `bench/http.py` shadow the standard library's `http`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import httptools

DELAI_REQUETE = 30.0
"""A client's patience by default: an answer later than this counts as none."""
RETRY_AFTER_MAX = 5.0
STATUTS_A_REESSAYER = {409, 429, 503}
"""Answers that carry `Retry-After` and that a real client would retry with the same key."""


@dataclass(frozen=True)
class Requete:
    brut: bytes
    """The whole HTTP/1.1 request, encoded once before the clock starts."""
    a: float | None = None
    """Due time in seconds from the start (`--horaires`)."""


@dataclass
class Reponse:
    statut: int
    corps: bytes
    retry_after: float | None
    garder_ouverte: bool


@dataclass
class Mesure:
    indice: int
    statut: int
    """0 when no answer came (connection error, timeout)."""
    du: float
    """When the request was due, seconds from the start."""
    fin: float
    tentatives: int = 1
    intermediaires: list[int] = field(default_factory=list)
    """Statuses answered before the final one (followed `Retry-After`)."""
    exception: str | None = None
    probleme: str | None = None
    corps: bytes | None = None

    @property
    def latence(self) -> float:
        return self.fin - self.du


class ConnexionPerdue(Exception):
    pass


class Connexion(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self) -> None:
        self._parseur = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._attente: asyncio.Future[Reponse] | None = None
        self._corps: list[bytes] = []
        self._retry_after: float | None = None
        self.ouverte = False
        self.recus = 0
        """Bytes of the current answer received: a reused connection the server closed while idle
        fails before any byte, and only then is the request safe to send again elsewhere."""

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio's.
        self._transport = cast(asyncio.Transport, transport)
        self.ouverte = True

    def data_received(self, data: bytes) -> None:
        self.recus += len(data)
        try:
            self._parseur.feed_data(data)
        except httptools.HttpParserError as exc:
            self._echouer(ConnexionPerdue(f"réponse HTTP illisible : {exc}"))
            self.fermer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.ouverte = False
        self._echouer(ConnexionPerdue("connexion fermée par le serveur"))

    # httptools callbacks

    def on_message_begin(self) -> None:
        self._corps = []
        self._retry_after = None

    def on_header(self, nom: bytes, valeur: bytes) -> None:
        if nom.lower() == b"retry-after":
            with contextlib.suppress(ValueError):
                self._retry_after = float(valeur)

    def on_body(self, morceau: bytes) -> None:
        self._corps.append(morceau)

    def on_message_complete(self) -> None:
        attente, self._attente = self._attente, None
        reponse = Reponse(
            self._parseur.get_status_code(),
            b"".join(self._corps),
            self._retry_after,
            self._parseur.should_keep_alive(),
        )
        if attente is not None and not attente.done():
            attente.set_result(reponse)

    # Use

    def _echouer(self, exc: Exception) -> None:
        attente, self._attente = self._attente, None
        if attente is not None and not attente.done():
            attente.set_exception(exc)

    async def envoyer(self, brut: bytes) -> Reponse:
        if self._transport is None or not self.ouverte:
            raise ConnexionPerdue("connexion fermée")
        self.recus = 0
        self._attente = asyncio.get_running_loop().create_future()
        self._transport.write(brut)
        reponse = await self._attente
        if not reponse.garder_ouverte:
            self.fermer()
        return reponse

    def fermer(self) -> None:
        self.ouverte = False
        if self._transport is not None:
            self._transport.close()


class Reserve:
    """At most `maximum` connections, idle ones reused first (keep-alive) unless `reutiliser` is
    false: then each exchange opens its own and closes it after."""

    def __init__(self, hote: str, port: int, maximum: int, reutiliser: bool = True) -> None:
        self.hote, self.port = hote, port
        self._libres: list[Connexion] = []
        self._places = asyncio.Semaphore(maximum)
        self._reutiliser = reutiliser
        self.ouvertes = 0

    async def _ouvrir(self) -> Connexion:
        _, connexion = await asyncio.get_running_loop().create_connection(Connexion, self.hote, self.port)
        self.ouvertes += 1
        return connexion

    async def prendre(self) -> tuple[Connexion, bool]:
        """A connection and whether it was reused."""
        await self._places.acquire()
        while self._libres:
            connexion = self._libres.pop()
            if connexion.ouverte:
                return connexion, True
        try:
            return await self._ouvrir(), False
        except BaseException:
            self._places.release()
            raise

    def rendre(self, connexion: Connexion) -> None:
        if not self._reutiliser:
            connexion.fermer()
        elif connexion.ouverte:
            self._libres.append(connexion)
        self._places.release()

    async def echanger(self, brut: bytes) -> Reponse:
        """Send on a free connection; once more on a new one if a reused connection turns out to
        have been closed while idle (nothing was received, so the server never saw the request)."""
        connexion, reutilisee = await self.prendre()
        try:
            try:
                return await connexion.envoyer(brut)
            except ConnexionPerdue:
                if not reutilisee or connexion.recus:
                    raise
            connexion.fermer()
            connexion = await self._ouvrir()
            return await connexion.envoyer(brut)
        except BaseException:
            connexion.fermer()
            raise
        finally:
            self.rendre(connexion)

    def fermer(self) -> None:
        for connexion in self._libres:
            connexion.fermer()
        self._libres.clear()


def encoder(hote: str, port: int, requete: dict[str, Any]) -> Requete:
    methode = str(requete.get("methode", "GET")).upper()
    corps = requete.get("corps")
    formulaire = requete.get("formulaire")
    # A page form: its body already url-encoded, instead of a JSON `corps`.
    donnees = b"" if corps is None else json.dumps(corps, separators=(",", ":")).encode()
    lignes = [f"{methode} {requete['chemin']} HTTP/1.1", f"Host: {hote}:{port}"]
    lignes += [f"{nom}: {valeur}" for nom, valeur in (requete.get("entetes") or {}).items()]
    if corps is not None:
        lignes.append("Content-Type: application/json")
    elif formulaire is not None:
        donnees = str(formulaire).encode()
        corps = formulaire
        lignes.append("Content-Type: application/x-www-form-urlencoded")
    if corps is not None or methode in {"POST", "PUT", "PATCH"}:
        lignes.append(f"Content-Length: {len(donnees)}")
    brut = ("\r\n".join(lignes) + "\r\n\r\n").encode() + donnees
    a = requete.get("a")
    return Requete(brut, float(a) if a is not None else None)


@dataclass
class Options:
    clients: int = 0
    debit: float = 0.0
    horaires: bool = False
    duree: float = 10.0
    connexions: int = 200
    repeter: bool = False
    suivre_retry_after: int = 0
    nouvelle_connexion: bool = False
    """Each request on a connection of its own (`--horaires` and `--debit`)."""
    delai_requete: float = DELAI_REQUETE
    garder_corps: bool = False
    delai_max: float = 60.0
    """Hard bound on the whole run: what is still unanswered then is counted as abandoned."""


class Generateur:
    def __init__(self, url: str, requetes: Sequence[Requete], options: Options) -> None:
        adresse = urlsplit(url)
        self.hote = adresse.hostname or "127.0.0.1"
        self.port = adresse.port or 80
        self.requetes = requetes
        self.options = options
        self.mesures: list[Mesure] = []
        self.reserve = Reserve(
            self.hote,
            self.port,
            options.clients if options.clients else options.connexions,
            reutiliser=not options.nouvelle_connexion or bool(options.clients),
        )
        self._t0 = 0.0

    def _maintenant(self) -> float:
        return time.perf_counter() - self._t0

    async def _executer(self, indice: int, du: float) -> None:
        requete = self.requetes[indice % len(self.requetes)]
        mesure = Mesure(indice, 0, du, du)
        try:
            while True:
                reponse = await asyncio.wait_for(
                    self.reserve.echanger(requete.brut), self.options.delai_requete
                )
                a_reessayer = (
                    reponse.statut in STATUTS_A_REESSAYER
                    and reponse.retry_after is not None
                    and mesure.tentatives <= self.options.suivre_retry_after
                )
                if not a_reessayer:
                    break
                mesure.intermediaires.append(reponse.statut)
                mesure.tentatives += 1
                await asyncio.sleep(min(reponse.retry_after or 0.0, RETRY_AFTER_MAX))
            mesure.statut = reponse.statut
            if not 200 <= reponse.statut < 300:
                mesure.probleme = titre_probleme(reponse.corps)
            if self.options.garder_corps:
                mesure.corps = reponse.corps
        except (TimeoutError, OSError, ConnexionPerdue) as exc:
            mesure.exception = type(exc).__name__
        mesure.fin = self._maintenant()
        self.mesures.append(mesure)

    async def _client(self, suivant: list[int]) -> None:
        """Closed loop: one client, its own connection, one request after the other."""
        while self._maintenant() < self.options.duree:
            indice = suivant[0]
            if indice >= len(self.requetes) and not self.options.repeter:
                return
            suivant[0] += 1
            await self._executer(indice, self._maintenant())

    async def _boucle_fermee(self) -> None:
        suivant = [0]
        await asyncio.gather(*(self._client(suivant) for _ in range(self.options.clients)))

    def _echeances(self) -> list[float]:
        if self.options.horaires:
            return [r.a or 0.0 for r in self.requetes]
        nombre = int(self.options.debit * self.options.duree)
        if not self.options.repeter:
            nombre = min(nombre, len(self.requetes))
        return [i / self.options.debit for i in range(nombre)]

    async def _boucle_ouverte(self) -> None:
        taches: set[asyncio.Task[None]] = set()
        ordre = sorted(range(len(echeances := self._echeances())), key=echeances.__getitem__)
        for indice in ordre:
            du = echeances[indice]
            if (attente := du - self._maintenant()) > 0:
                await asyncio.sleep(attente)
            tache = asyncio.create_task(self._executer(indice, du))
            taches.add(tache)
            tache.add_done_callback(taches.discard)
        if taches:
            await asyncio.wait(taches)

    async def lancer(self) -> dict[str, Any]:
        self._t0 = time.perf_counter()
        boucle = self._boucle_fermee() if self.options.clients else self._boucle_ouverte()
        abandonnees = 0
        try:
            await asyncio.wait_for(boucle, self.options.delai_max)
        except TimeoutError:
            # The open loop's pending tasks were cancelled with it: nothing measured for them.
            abandonnees = len(self._echeances()) - len(self.mesures) if not self.options.clients else 0
        duree = self._maintenant()
        self.reserve.fermer()
        resultat = resumer(self.mesures, duree, abandonnees)
        resultat["mode"] = "fermee" if self.options.clients else "ouverte"
        resultat["connexions_ouvertes"] = self.reserve.ouvertes
        if self.options.debit and not self.options.horaires:
            resultat["debit_offert"] = self.options.debit
        return resultat


def titre_probleme(corps: bytes) -> str | None:
    """The RFC 9457 title of an error answer: which error, not just which status."""
    try:
        probleme = json.loads(corps)
    except ValueError:
        return None
    return str(probleme.get("title")) if isinstance(probleme, dict) else None


def centile(triees: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not triees:
        return 0.0
    rang = max(1, math.ceil(q / 100 * len(triees)))
    return triees[min(rang, len(triees)) - 1]


def resumer(mesures: Sequence[Mesure], duree: float, abandonnees: int = 0) -> dict[str, Any]:
    latences = sorted(m.latence * 1000 for m in mesures)
    statuts = Counter(str(m.statut) for m in mesures if m.statut)
    exceptions = Counter(m.exception for m in mesures if m.exception)
    problemes = Counter(f"{m.statut} {m.probleme}" for m in mesures if m.probleme)
    intermediaires = Counter(str(s) for m in mesures for s in m.intermediaires)
    erreurs = sum(1 for m in mesures if not 200 <= m.statut < 300) + abandonnees
    if mesures:
        debut = min(m.du for m in mesures)
        fin = max(m.fin for m in mesures)
        fenetre = max(fin - debut, 1e-9)
    else:
        fenetre = max(duree, 1e-9)
    return {
        "requetes": len(mesures),
        "duree_s": round(duree, 3),
        "debit_obtenu": round(len(mesures) / fenetre, 1),
        "statuts": dict(sorted(statuts.items())),
        "erreurs": erreurs,
        "exceptions": dict(exceptions),
        "abandonnees": abandonnees,
        "problemes": dict(problemes.most_common()),
        "statuts_intermediaires": dict(sorted(intermediaires.items())),
        "reessais": sum(m.tentatives - 1 for m in mesures),
        "latence_ms": {
            "p50": round(centile(latences, 50), 2),
            "p90": round(centile(latences, 90), 2),
            "p99": round(centile(latences, 99), 2),
            "max": round(latences[-1], 2) if latences else 0.0,
            "moyenne": round(sum(latences) / len(latences), 2) if latences else 0.0,
        },
        "rss_pic_mb": rss_pic_mb(),
        "cpu_s": round(_cpu_s(), 2),
    }


def relever_limite_fichiers(besoin: int) -> int:
    """Raise this process's soft limit on open files to `besoin` if the hard limit allows (each
    connection is a descriptor; 1,024 is a common default); the limit now in force. A process
    started afterwards inherits it."""
    souple, dure = resource.getrlimit(resource.RLIMIT_NOFILE)
    voulu = besoin if dure == resource.RLIM_INFINITY else min(besoin, dure)
    if voulu > souple:
        resource.setrlimit(resource.RLIMIT_NOFILE, (voulu, dure))
        souple = voulu
    return souple


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_pic_mb() -> float:
    """Peak resident set of this process (VmHWM), in MB. Not `ru_maxrss`: after fork and exec it
    keeps the high-water mark of the parent, the benchmark process with the whole application."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for ligne in f:
                if ligne.startswith("VmHWM:"):
                    return round(int(ligne.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def detail(mesures: Sequence[Mesure]) -> list[dict[str, Any]]:
    return [
        {
            "indice": m.indice,
            "statut": m.statut,
            "du": round(m.du, 6),
            "fin": round(m.fin, 6),
            "tentatives": m.tentatives,
            "intermediaires": m.intermediaires,
            "exception": m.exception,
            "probleme": m.probleme,
            "corps": m.corps.decode(errors="replace") if m.corps is not None else None,
        }
        for m in sorted(mesures, key=lambda m: m.indice)
    ]


def analyser(arguments: Sequence[str] | None = None) -> tuple[argparse.Namespace, Options]:
    p = argparse.ArgumentParser(description="Générateur de charge HTTP du banc.")
    p.add_argument("travail", help="fichier JSON : url et requêtes")
    p.add_argument("--clients", type=int, default=0, help="boucle fermée avec N clients")
    p.add_argument("--debit", type=float, default=0.0, help="boucle ouverte : requêtes par seconde")
    p.add_argument("--horaires", action="store_true", help="boucle ouverte : chaque requête à son `a`")
    p.add_argument("--duree", type=float, default=10.0)
    p.add_argument("--connexions", type=int, default=200, help="boucle ouverte : connexions au plus")
    p.add_argument("--repeter", action="store_true", help="reprendre la liste au début une fois finie")
    p.add_argument("--suivre-retry-after", type=int, default=0, metavar="N")
    p.add_argument(
        "--nouvelle-connexion", action="store_true", help="boucle ouverte : une connexion par requête"
    )
    p.add_argument("--delai-requete", type=float, default=DELAI_REQUETE, help="secondes avant abandon")
    p.add_argument("--detail", help="écrire ici le résultat de chaque requête (JSON)")
    p.add_argument("--corps", action="store_true", help="garder le corps des réponses dans --detail")
    p.add_argument("--delai-max", type=float, default=60.0)
    a = p.parse_args(arguments)
    if bool(a.clients) + bool(a.debit) + a.horaires != 1:
        p.error("choisir une boucle : --clients, --debit ou --horaires")
    if a.nouvelle_connexion and a.clients:
        p.error("--nouvelle-connexion est pour une boucle ouverte")
    options = Options(
        clients=a.clients,
        debit=a.debit,
        horaires=a.horaires,
        duree=a.duree,
        connexions=a.connexions,
        repeter=a.repeter,
        suivre_retry_after=a.suivre_retry_after,
        nouvelle_connexion=a.nouvelle_connexion,
        delai_requete=a.delai_requete,
        garder_corps=a.corps,
        delai_max=a.delai_max,
    )
    return a, options


def main(arguments: Sequence[str] | None = None) -> None:
    a, options = analyser(arguments)
    with open(a.travail, encoding="utf-8") as f:
        travail = json.load(f)
    adresse = urlsplit(travail["url"])
    hote, port = adresse.hostname or "127.0.0.1", adresse.port or 80
    requetes = [encoder(hote, port, r) for r in travail["requetes"]]
    # Each connection is a descriptor; the work file, the detail file and the loop need a few more.
    limite = relever_limite_fichiers((options.clients or options.connexions) + 64)
    generateur = Generateur(travail["url"], requetes, options)
    try:
        import uvloop
    except ImportError:
        resultat = asyncio.run(generateur.lancer())
    else:
        resultat = uvloop.run(generateur.lancer())
    resultat["limite_fichiers"] = limite
    if a.detail:
        with open(a.detail, "w", encoding="utf-8") as f:
            json.dump(detail(generateur.mesures), f)
    json.dump(resultat, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
