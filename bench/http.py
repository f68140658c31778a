"""The HTTP sections of `portail bench`: bookings and planning reads through the real server, and
the summer rush.

The server (`bench.serveur`) and the load generator (`bench.charge`) are two processes on
loopback; every figure has beside it the same generator, with the same clients, on `GET /health`,
which touches neither the database nor a thread: the ceiling of the generator and the framework
together on this machine. Fixtures (accueils, families, tokens) are written through the
application in-process before the server starts; the checks after a run read the aggregates (the
truth) and the projections (what parents and staff see).

`mesurer_http(banc)` → `{"http_booking", "planning_read", "portal_pages", "rss_mb"}` (the pages' section
in `bench.pages`); `mesurer_ruee(banc, parents)` → the
`rush` section.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from datetime import time as heure
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from bench.commun import RACINE, Banc, rss_pic_mb, rss_pic_mb_par_processus
from bench.serveur import ServeurApi, cpu_postgresql
from portail.application.catalogue import SaisieAccueil, SaisieRegle, SaisieUnite
from portail.application.contexte import Contexte
from portail.application.saisies import SaisieAdresse, SaisieResponsable
from portail.domain.capacite import Capacite
from portail.domain.planning import Planning

CTX = Contexte.systeme("bench")
UNITE = "JOURNEE"
CLIENTS = 50
DUREE_BASE = 10.0
DUREE_FERMEE = 20.0
DEBIT_OUVERT = 200.0
DUREE_OUVERTE = 30.0
CONNEXIONS_OUVERTE = 200
DUREE_LECTURE = 15.0
DEBIT_500 = 500.0
DUREE_500 = 20.0
CONNEXIONS_500 = 500
"""As at 200/s: at most a second's worth of requests in flight before one waits for a connection."""
DELAI_MAX = 60.0

# Bookings are spread round-robin over the days (one Capacite stream each) so that, at any point
# of a run, every day has had about as many requests: with these capacities the days fill up and
# the later requests go to the waiting list, whatever throughput the machine reaches.
JOURS_FERMEE, CAPACITE_FERMEE = 100, 5
JOURS_OUVERTE, CAPACITE_OUVERTE = 200, 20
"""Open loop: 6,000 bookings over 200 days, 30 a day for 20 places."""
JOURS_500, CAPACITE_500 = 250, 20
"""Open loop at 500/s: 10,000 bookings over 250 days, 40 a day for 20 places."""

CAPACITE_RUEE = 100
FENETRE_RUEE = 60.0
"""The parents' first requests leave evenly spread over the opening minute."""
PART_REESSAIS = 0.05
"""Parents who send their booking again with the same `Idempotency-Key`."""
DELAI_CLIENT_RUEE = 30.0
"""A browser's patience: a request unanswered after it counts as not answered."""
DELAI_MAX_RUEE = FENETRE_RUEE + 5 + DELAI_CLIENT_RUEE + 60
"""The last retry leaves 5 s after the window; following `Retry-After` answers may take a minute."""
FILS_FAMILLES_RUEE = 8


# Running the generator


def _charge(
    url: str,
    requetes: list[dict[str, Any]],
    arguments: list[str],
    detail: bool = False,
    delai_max: float = DELAI_MAX,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run `bench.charge` on these requests; its summary, and each request's result if asked."""
    with tempfile.TemporaryDirectory(prefix="portail-bench-charge-") as dossier:
        travail = Path(dossier) / "travail.json"
        travail.write_text(json.dumps({"url": url, "requetes": requetes}))
        commande = [sys.executable, "-m", "bench.charge", str(travail), *arguments]
        commande += ["--delai-max", str(delai_max)]
        if detail:
            commande += ["--detail", str(Path(dossier) / "detail.json"), "--corps"]
        # `-m` from the repository root: `bench/` itself on sys.path would shadow stdlib `http`.
        fini = subprocess.run(  # noqa: S603 (our interpreter, our module)
            commande, cwd=RACINE, capture_output=True, text=True, timeout=delai_max + 60, check=False
        )
        if fini.returncode != 0:
            raise RuntimeError(f"générateur de charge en échec :\n{fini.stderr[-3000:]}")
        resume: dict[str, Any] = json.loads(fini.stdout.strip().splitlines()[-1])
        lignes: list[dict[str, Any]] = (
            json.loads((Path(dossier) / "detail.json").read_text()) if detail else []
        )
    return resume, lignes


def _sante(url: str, arguments: list[str]) -> dict[str, Any]:
    resume, _ = _charge(url, [{"chemin": "/health"}], [*arguments, "--repeter"])
    return resume


def _metriques(url: str) -> dict[str, float]:
    """The server's optimistic-concurrency counters: how much work the conflicts cost."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as reponse:  # noqa: S310 (loopback)
        texte = reponse.read().decode()
    valeurs: dict[str, float] = {}
    for nom in (
        "portail_conflits_total",
        "portail_conflits_persistants_total",
        "portail_reservations_boucle_total",
    ):
        if trouve := re.search(rf"^{nom} (\S+)$", texte, re.MULTILINE):
            valeurs[nom] = float(trouve.group(1))
    # The bookings the event loop sent to a worker thread, all reasons together.
    en_fil = re.findall(r'^portail_reservations_en_fil_total\{motif="[a-z]+"\} (\S+)$', texte, re.MULTILINE)
    if en_fil:
        valeurs["portail_reservations_en_fil_total"] = sum(float(v) for v in en_fil)
    return valeurs


def _difference(avant: dict[str, float], apres: dict[str, float]) -> dict[str, int]:
    return {
        "optimistic_retries": int(
            apres.get("portail_conflits_total", 0) - avant.get("portail_conflits_total", 0)
        ),
        "commands_abandoned": int(
            apres.get("portail_conflits_persistants_total", 0)
            - avant.get("portail_conflits_persistants_total", 0)
        ),
        # Bookings served on the event loop, and those it sent to a worker thread.
        "bookings_on_loop": int(
            apres.get("portail_reservations_boucle_total", 0)
            - avant.get("portail_reservations_boucle_total", 0)
        ),
        "bookings_in_thread": int(
            apres.get("portail_reservations_en_fil_total", 0)
            - avant.get("portail_reservations_en_fil_total", 0)
        ),
    }


def _attendre_projections(url: str, delai: float = 30.0) -> int:
    """Wait until the server's read models have caught up with the log; the lag left."""
    retard = -1
    fin = time.monotonic() + delai
    while time.monotonic() < fin:
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=5) as reponse:  # noqa: S310 (loopback)
                retard = int(json.loads(reponse.read()).get("retard_projections", 0))
        except OSError:
            # Still busy with the requests the generator gave up on: ask again.
            continue
        if retard == 0:
            break
        time.sleep(0.2)
    return retard


def _resume(r: dict[str, Any]) -> dict[str, Any]:
    """The generator's figures as the report shows them."""
    return {
        "requests": r["requetes"],
        "rate_per_s": r["debit_obtenu"],
        "p50_ms": r["latence_ms"]["p50"],
        "p99_ms": r["latence_ms"]["p99"],
        "max_ms": r["latence_ms"]["max"],
        "errors": r["erreurs"],
        "statuses": r["statuts"],
        "status_5xx": sum(n for c, n in r["statuts"].items() if int(c) >= 500)
        + sum(n for c, n in r["statuts_intermediaires"].items() if int(c) >= 500),
        **({"retry_after_followed": r["statuts_intermediaires"]} if r["statuts_intermediaires"] else {}),
        **({"problems": r["problemes"]} if r["problemes"] else {}),
        **({"exceptions": r["exceptions"]} if r["exceptions"] else {}),
        **({"abandoned": r["abandonnees"]} if r["abandonnees"] else {}),
        "connections_opened": r["connexions_ouvertes"],
    }


class Phases:
    """Successive runs against one server, each with what the server did meanwhile: CPU seconds
    beside the generator's (who had the two cores), optimistic-concurrency retries, log lines."""

    def __init__(self, serveur: ServeurApi) -> None:
        self.serveur = serveur
        self.rss_charge = 0.0
        self._journal: dict[str, int] = {}

    def mesurer(
        self,
        requetes: list[dict[str, Any]],
        arguments: list[str],
        detail: bool = False,
        delai_max: float = DELAI_MAX,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        url = self.serveur.url
        metriques, cpu = _metriques(url), self.serveur.cpu_s()
        cpu_worker, cpu_pg = self.serveur.cpu_worker_s(), cpu_postgresql()
        resume, lignes = _charge(url, requetes, arguments, detail, delai_max)
        cpu_serveur = self.serveur.cpu_s() - cpu
        apres_worker = self.serveur.cpu_worker_s()
        cpu_autres = {
            **(
                {"worker": round(apres_worker - cpu_worker, 2)}
                if apres_worker and cpu_worker is not None
                else {}
            ),
            "postgresql": round(cpu_postgresql() - cpu_pg, 2),
        }
        conflits = _difference(metriques, _metriques(url))
        journal = self.serveur.erreurs_du_journal()
        nouvelles = {
            c: n - self._journal.get(c, 0) for c, n in journal.items() if n > self._journal.get(c, 0)
        }
        self._journal = journal
        self.rss_charge = max(self.rss_charge, resume["rss_pic_mb"])
        rapport = {
            **_resume(resume),
            "cpu_s": {"api": round(cpu_serveur, 2), "charge": resume["cpu_s"], **cpu_autres},
            **conflits,
            **({"server_log": nouvelles} if nouvelles else {}),
        }
        return rapport, lignes


# Fixtures


def _jetons(banc: Banc, comptes: Iterable[UUID]) -> dict[UUID, str]:
    """Bearer tokens as the login route issues them: each carries its issue time and a fresh jti,
    so the middleware's checks (not revoked, issued after the account's last invalidation) pass."""
    sv = banc.services
    return {c: sv.jetons.emettre(c, sv.portail.horloge(), timedelta(hours=2)).jeton for c in set(comptes)}


def _accueil(banc: Banc, libelle: str, debut: date, fin: date, capacite: int) -> tuple[UUID, list[date]]:
    """A one-unit accueil open on weekdays, waiting list on; its open days."""
    veille = SaisieRegle(ancrage="jour", heure_limite=heure(18, 0), decalage_jours=1)
    catalogue = banc.services.catalogue
    accueil_id = catalogue.creer_accueil(
        CTX,
        SaisieAccueil(
            etablissement="BANC HTTP",
            mode_accueil=libelle,
            periode_libelle=libelle,
            periode_debut=debut,
            periode_fin=fin,
            jours=(1, 2, 3, 4, 5),
            unites=(SaisieUnite(UNITE, "Journée", heure(8, 30), heure(17, 30), capacite),),
            regle_reservation=veille,
            regle_annulation=veille,
            liste_attente="automatique",
        ),
    )
    accueil = catalogue.accueil(accueil_id)
    calendrier = banc.services.reservations.calendrier
    jours = [
        jour
        for n in range((fin - debut).days + 1)
        if accueil.motif_fermeture(jour := debut + timedelta(days=n), calendrier) is None
    ]
    return accueil_id, jours


def _reservation(
    enfant_id: UUID, jeton: str, accueil_id: UUID, jours: list[date], cle: str
) -> dict[str, Any]:
    return {
        "methode": "POST",
        "chemin": f"/api/enfants/{enfant_id}/reservations",
        "entetes": {"Authorization": f"Bearer {jeton}", "Idempotency-Key": cle},
        "corps": {
            "accueil_id": str(accueil_id),
            "presences": [{"date": j.isoformat(), "unite": UNITE} for j in jours],
        },
    }


def _reservations(
    banc: Banc,
    jetons: dict[UUID, str],
    accueil_id: UUID,
    jours: list[date],
    nombre: int,
    hasard: random.Random,
) -> list[dict[str, Any]]:
    """`nombre` bookings of one day-unit each, days in turn, each by a child who has not asked for
    that day yet (a second request would only read back the first)."""
    enfants = banc.commune.enfants
    if nombre // len(jours) + 1 >= len(enfants):
        raise ValueError("pas assez d'enfants dans la commune pour ces réservations")
    demandees: set[tuple[UUID, date]] = set()
    requetes = []
    for i in range(nombre):
        jour = jours[i % len(jours)]
        famille, enfant_id = hasard.choice(enfants)
        while (enfant_id, jour) in demandees:
            famille, enfant_id = hasard.choice(enfants)
        demandees.add((enfant_id, jour))
        requetes.append(
            _reservation(enfant_id, jetons[famille.compte_id], accueil_id, [jour], str(uuid.uuid4()))
        )
    return requetes


# Checks after a run


def _capacites(banc: Banc, accueil_id: UUID, jours: Iterable[date]) -> dict[date, Capacite]:
    trouvees: dict[date, Capacite] = {}
    for jour in jours:
        try:
            trouvees[jour] = banc.services.portail.repository.get(Capacite.id_pour(accueil_id, jour))
        except AggregateNotFoundError:
            continue
    return trouvees


def _sql(banc: Banc, requete: str, parametres: tuple[Any, ...]) -> list[dict[str, Any]]:
    datastore = banc.services.portail.recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as curs:
        curs.execute(requete, parametres)
        return [dict(ligne) for ligne in curs.fetchall()]


def _schema(banc: Banc) -> str:
    return str(banc.services.portail.recorder.datastore.schema)  # type: ignore[attr-defined]


def _verifier_reservations(
    banc: Banc,
    accueil_id: UUID,
    jours: list[date],
    capacite: int,
    requetes: list[dict[str, Any]],
    lignes: list[dict[str, Any]],
) -> dict[str, Any]:
    """Overbooking (aggregates and occupancy view), and every acknowledged answer against what is
    stored: each request is a distinct child-day, so each must be in that day's Capacite, on the
    side the answer said."""
    capacites = _capacites(banc, accueil_id, jours)
    places = {
        j: set(c.places.get(UNITE, [])) | {o.enfant_id for o in c.offres.get(UNITE, [])}
        for j, c in capacites.items()
    }
    attente = {j: set(c.attente.get(UNITE, [])) for j, c in capacites.items()}
    vue = _sql(
        banc,
        f"SELECT jour, reserves, attente FROM {_schema(banc)}.proj_occupation WHERE accueil_id = %s AND unite = %s",
        (accueil_id, UNITE),
    )
    reponses: Counter[str] = Counter()
    acquittes: set[tuple[UUID, date]] = set()
    manquantes = incoherentes = 0
    for ligne in lignes:
        if not (200 <= ligne["statut"] < 300 and ligne["corps"]):
            continue
        requete = requetes[ligne["indice"]]
        enfant = UUID(requete["chemin"].split("/")[3])
        for resultat in json.loads(ligne["corps"])["resultats"]:
            jour = date.fromisoformat(resultat["date"])
            reponses[resultat["statut"]] += 1
            acquittes.add((enfant, jour))
            if enfant not in places.get(jour, set()) and enfant not in attente.get(jour, set()):
                manquantes += 1
            elif (resultat["statut"] == "reserve") != (enfant in places.get(jour, set())):
                incoherentes += 1
    stockees = {(e, j) for j in capacites for e in places[j] | attente[j]}
    return {
        "capacity_per_day": capacite,
        "days": len(jours),
        "overbooked": sum(1 for p in places.values() if len(p) > capacite),
        "overbooked_view": sum(1 for v in vue if v["reserves"] > capacite),
        "reserved": sum(len(p) for p in places.values()),
        "waiting_list": sum(len(a) for a in attente.values()),
        "answers": dict(reponses),
        "acknowledged_missing": manquantes,
        "acknowledged_mismatch": incoherentes,
        # Committed after the client gave up waiting (timeout): stored, never acknowledged.
        "stored_without_acknowledgement": len(stockees - acquittes),
        "view_matches": {
            (v["jour"], v["reserves"], v["attente"]) for v in vue if v["reserves"] or v["attente"]
        }
        == {(j, len(places[j]), len(attente[j])) for j in capacites if places[j] or attente[j]},
    }


# Sections


def mesurer_http(banc: Banc) -> dict[str, Any]:
    hasard = random.Random(20260901)
    aujourd_hui = banc.services.familles.aujourd_hui()
    debut = aujourd_hui + timedelta(days=3)
    # One accueil per loop: each check covers exactly the requests of its run.
    accueil_ferme, jours_fermee = _accueil(
        banc, "Banc boucle fermée", debut, debut + timedelta(days=250), CAPACITE_FERMEE
    )
    accueil_ouvert, jours_ouverte = _accueil(
        banc, "Banc boucle ouverte", debut, debut + timedelta(days=450), CAPACITE_OUVERTE
    )
    accueil_500, jours_500 = _accueil(
        banc, "Banc boucle ouverte 500", debut, debut + timedelta(days=550), CAPACITE_500
    )
    jours_fermee, jours_ouverte = jours_fermee[:JOURS_FERMEE], jours_ouverte[:JOURS_OUVERTE]
    jours_500 = jours_500[:JOURS_500]
    jetons = _jetons(banc, (f.compte_id for f in banc.commune.familles))
    # Enough for 1,500 bookings a second: the closed loop stops at its duration, not at the list's
    # end (at 400 a second, a server answering 750 ran out of requests halfway through).
    # A small commune has fewer children than that for each day.
    nombre_fermee = min(int(1_500 * DUREE_FERMEE), (len(banc.commune.enfants) - 2) * len(jours_fermee))
    fermee = _reservations(banc, jetons, accueil_ferme, jours_fermee, nombre_fermee, hasard)
    ouverte = _reservations(
        banc, jetons, accueil_ouvert, jours_ouverte, int(DEBIT_OUVERT * DUREE_OUVERTE), hasard
    )
    a_500 = _reservations(banc, jetons, accueil_500, jours_500, int(DEBIT_500 * DUREE_500), hasard)
    lectures = _lectures(banc, jetons, hasard)
    lectures_500 = _lectures(banc, jetons, hasard, int(DEBIT_500 * DUREE_500))
    from bench.pages import mesurer_pages, preparer_pages

    travail_pages = preparer_pages(banc, jetons, hasard)
    fermee_args = ["--clients", str(CLIENTS)]
    ouverte_args = ["--debit", str(DEBIT_OUVERT), "--connexions", str(CONNEXIONS_OUVERTE)]
    args_500 = ["--debit", str(DEBIT_500), "--connexions", str(CONNEXIONS_500), "--duree", str(DUREE_500)]

    with ServeurApi(banc) as serveur:
        phases = Phases(serveur)
        sante = [{"chemin": "/health"}]
        base_fermee, _ = phases.mesurer(sante, [*fermee_args, "--duree", str(DUREE_BASE), "--repeter"])
        resa_fermee, lignes_fermee = phases.mesurer(
            fermee, [*fermee_args, "--duree", str(DUREE_FERMEE)], True
        )
        base_ouverte, _ = phases.mesurer(sante, [*ouverte_args, "--duree", str(DUREE_BASE), "--repeter"])
        resa_ouverte, lignes_ouverte = phases.mesurer(
            ouverte, [*ouverte_args, "--duree", str(DUREE_OUVERTE)], True
        )
        retard = _attendre_projections(serveur.url)
        lecture, _ = phases.mesurer(lectures, [*fermee_args, "--duree", str(DUREE_LECTURE), "--repeter"])
        pages = mesurer_pages(phases, travail_pages)
        # At 500/s, after the figures at 200/s so that those are as before: reads first, then the
        # bookings, whose backlog (if the server falls behind) would otherwise slow the reads.
        base_500, _ = phases.mesurer(sante, [*args_500[:4], "--duree", str(DUREE_BASE), "--repeter"])
        lecture_500, _ = phases.mesurer(lectures_500, args_500)
        resa_500, lignes_500 = phases.mesurer(a_500, args_500, True)
        retard_500 = _attendre_projections(serveur.url)
        rss_api = rss_pic_mb_par_processus(serveur.pid)
        rss_worker = rss_pic_mb(serveur.pid_worker) if serveur.pid_worker else None
        demarrage = serveur.demarre_en_s
        repos = serveur.repos_en_s
    serveur.supprimer_journal()

    controle_fermee = _verifier_reservations(
        banc, accueil_ferme, jours_fermee, CAPACITE_FERMEE, fermee, lignes_fermee
    )
    controle_ouverte = _verifier_reservations(
        banc, accueil_ouvert, jours_ouverte, CAPACITE_OUVERTE, ouverte, lignes_ouverte
    )
    controle_500 = _verifier_reservations(banc, accueil_500, jours_500, CAPACITE_500, a_500, lignes_500)
    return {
        "http_booking": {
            "closed_loop": {
                "clients": CLIENTS,
                "duration_s": DUREE_FERMEE,
                "bookings_per_s": resa_fermee["rate_per_s"],
                "baseline_health_rps": base_fermee["rate_per_s"],
                **resa_fermee,
                **controle_fermee,
                "baseline_health": base_fermee,
            },
            "open_loop": {
                "offered_per_s": DEBIT_OUVERT,
                "duration_s": DUREE_OUVERTE,
                "max_connections": CONNEXIONS_OUVERTE,
                **resa_ouverte,
                **controle_ouverte,
                "projection_lag_after": retard,
                "baseline_health": base_ouverte,
            },
            "open_loop_500": {
                "offered_per_s": DEBIT_500,
                "duration_s": DUREE_500,
                "max_connections": CONNEXIONS_500,
                **resa_500,
                **controle_500,
                "projection_lag_after": retard_500,
                "baseline_health": base_500,
            },
            # The loops at 200/s, as before the loop at 500/s was measured (which has its own).
            "errors": resa_fermee["errors"] + resa_ouverte["errors"],
            "overbooked": controle_fermee["overbooked"] + controle_ouverte["overbooked"],
        },
        "planning_read": {
            "clients": CLIENTS,
            "duration_s": DUREE_LECTURE,
            "baseline_health_rps": base_fermee["rate_per_s"],
            **lecture,
            "baseline_health": base_fermee,
            "open_loop_500": {
                "offered_per_s": DEBIT_500,
                "duration_s": DUREE_500,
                "max_connections": CONNEXIONS_500,
                **lecture_500,
                "baseline_health": base_500,
            },
        },
        "portal_pages": pages,
        "rss_mb": {"api": rss_api, "worker": rss_worker, "charge": phases.rss_charge},
        "server_ready_s": demarrage,
        "server_rest_s": repos,
    }


def _mois_scolaires(banc: Banc) -> list[str]:
    periode = banc.services.catalogue.accueil(banc.commune.periscolaire_id).config.periode
    mois, fin = periode.debut.replace(day=1), periode.fin
    tous = []
    while mois <= fin:
        tous.append(f"{mois:%Y-%m}")
        mois = (mois + timedelta(days=32)).replace(day=1)
    return tous


def _lectures(
    banc: Banc, jetons: dict[UUID, str], hasard: random.Random, nombre: int = 5_000
) -> list[dict[str, Any]]:
    """A parent opening a random child's month of the school year."""
    mois = _mois_scolaires(banc)
    enfants = banc.commune.enfants
    requetes = []
    for _ in range(nombre):
        famille, enfant_id = hasard.choice(enfants)
        requetes.append(
            {
                "chemin": f"/api/enfants/{enfant_id}/planning?mois={hasard.choice(mois)}",
                "entetes": {"Authorization": f"Bearer {jetons[famille.compte_id]}"},
            }
        )
    return requetes


# The rush


def _familles_ruee(banc: Banc, nombre: int) -> list[tuple[UUID, UUID]]:
    """`nombre` families of one child each, through the application; (compte_id, enfant_id)."""
    comptes, familles = banc.services.comptes, banc.services.familles
    serie = uuid.uuid4().hex[:8]

    def une(i: int) -> tuple[UUID, UUID]:
        compte_id, famille_id = comptes.inscrire(
            CTX,
            f"ruee-{serie}-{i}@banc.portail-familles.local",
            "Parent-Portail-2026",
            SaisieResponsable(civilite="Mme", nom=f"Ruee{i}", prenom="Camille", telephone="06 12 34 56 78"),
            SaisieAdresse("1 place de la Mairie", "44000", "Nantes"),
        )
        enfant_id = familles.ajouter_enfant(
            CTX,
            famille_id,
            f"Ruee{i}",
            "Enfant",
            date(2017, 6, 3),
            "Nantes",
            "École Jules Ferry",
            None,
            "CE2",
        )
        return compte_id, enfant_id

    # Several threads: each family is two short transactions, and a single thread would mostly
    # wait for commits; the database is the bottleneck past a few.
    with ThreadPoolExecutor(FILS_FAMILLES_RUEE) as pool:
        return list(pool.map(une, range(nombre)))


def plan_ruee(parents: int, hasard: random.Random) -> list[tuple[int, float]]:
    """Every request of the rush as (parent, seconds after the opening), in due order: each parent's
    booking once, the arrivals evenly spread over `FENETRE_RUEE` (parents in a random order), then
    `PART_REESSAIS` of the parents again with the same key: half at once (a double click while the
    first is unanswered), half 1-5 s later (a reload after a slow answer)."""
    ordre = list(range(parents))
    hasard.shuffle(ordre)
    pas = FENETRE_RUEE / parents
    plan = [(p, rang * pas) for rang, p in enumerate(ordre)]
    for n, rang in enumerate(sorted(hasard.sample(range(parents), round(PART_REESSAIS * parents)))):
        delai = hasard.uniform(0, 0.05) if n % 2 == 0 else hasard.uniform(1, 5)
        plan.append((ordre[rang], rang * pas + delai))
    return sorted(plan, key=lambda requete: requete[1])


def _semaine_ete(banc: Banc) -> tuple[UUID, list[date]]:
    """The first Monday-to-Friday of the next summer holidays with all five days open."""
    aujourd_hui = banc.services.familles.aujourd_hui()
    annee = aujourd_hui.year + (1 if aujourd_hui >= date(aujourd_hui.year, 6, 15) else 0)
    debut, fin = date(annee, 7, 6), date(annee, 8, 28)
    accueil_id, ouverts = _accueil(banc, f"Été {annee} (ruée)", debut, fin, CAPACITE_RUEE)
    for lundi in (j for j in ouverts if j.isoweekday() == 1):
        semaine = [lundi + timedelta(days=n) for n in range(5)]
        if all(j in ouverts for j in semaine):
            return accueil_id, semaine
    raise RuntimeError("aucune semaine d'été entièrement ouverte")


def mesurer_ruee(banc: Banc, nombre: int) -> dict[str, Any]:
    """`nombre` parents book the same summer week (5 days, `CAPACITE_RUEE` places) in the opening
    minute, each on a connection of their own, as many browsers would."""
    hasard = random.Random(20260706)
    debut_prep = time.perf_counter()
    parents = _familles_ruee(banc, nombre)
    preparation_s = time.perf_counter() - debut_prep
    accueil_id, semaine = _semaine_ete(banc)
    jetons = _jetons(banc, (c for c, _ in parents))

    cles = [str(uuid.uuid4()) for _ in parents]
    plan = plan_ruee(nombre, hasard)
    requetes: list[dict[str, Any]] = []
    parent_de: list[int] = []
    """For each request, the parent (index into `parents`) it belongs to."""
    for p, a in plan:
        compte_id, enfant_id = parents[p]
        requetes.append({**_reservation(enfant_id, jetons[compte_id], accueil_id, semaine, cles[p]), "a": a})
        parent_de.append(p)

    with ServeurApi(banc) as serveur:
        phases = Phases(serveur)
        resume, lignes = phases.mesurer(
            requetes,
            [
                "--horaires",
                "--nouvelle-connexion",
                "--connexions",
                str(len(requetes)),
                "--delai-requete",
                str(DELAI_CLIENT_RUEE),
                "--suivre-retry-after",
                "20",
            ],
            detail=True,
            delai_max=DELAI_MAX_RUEE,
        )
        retard = _attendre_projections(serveur.url)
        rss_api = rss_pic_mb_par_processus(serveur.pid)
        rss_worker = rss_pic_mb(serveur.pid_worker) if serveur.pid_worker else None
        repos = serveur.repos_en_s
    serveur.supprimer_journal()

    controle = _verifier_ruee(banc, accueil_id, semaine, parents, parent_de, lignes)
    return {
        "parents": nombre,
        "capacity": CAPACITE_RUEE,
        "days": [j.isoformat() for j in semaine],
        "arrival_window_s": FENETRE_RUEE,
        "arrivals": "evenly spread",
        "client_timeout_s": DELAI_CLIENT_RUEE,
        "retries_same_key": len(requetes) - len(parents),
        "setup_families_s": round(preparation_s, 1),
        "setup_families_threads": FILS_FAMILLES_RUEE,
        **resume,
        **controle,
        "projection_lag_after": retard,
        "rss_mb": {"api": rss_api, "worker": rss_worker, "charge": phases.rss_charge},
        "server_rest_s": repos,
    }


def _verifier_ruee(
    banc: Banc,
    accueil_id: UUID,
    semaine: list[date],
    parents: list[tuple[UUID, UUID]],
    parent_de: list[int],
    lignes: list[dict[str, Any]],
) -> dict[str, Any]:
    capacites = _capacites(banc, accueil_id, semaine)
    places = {j: list(capacites[j].places.get(UNITE, [])) if j in capacites else [] for j in semaine}
    attente = {j: list(capacites[j].attente.get(UNITE, [])) if j in capacites else [] for j in semaine}

    # The order the bookings were committed in: each child's planning is created by its booking's
    # transaction, so its first position in the log is that request's place in line.
    plannings = {Planning.id_pour(e, accueil_id): e for _, e in parents}
    table = f"{_schema(banc)}.{banc.services.portail.recorder.events_table_name}"  # type: ignore[attr-defined]
    positions = _sql(
        banc,
        f"SELECT originator_id, MIN(notification_id) AS position FROM {table}"
        " WHERE originator_id = ANY(%s) GROUP BY originator_id",
        (list(plannings),),
    )
    ordre_journal = [plannings[r["originator_id"]] for r in sorted(positions, key=lambda r: r["position"])]
    premier = semaine[0]

    # What each parent was told: the last 2xx among their requests (identical if idempotent).
    reponses: dict[int, list[str]] = {}
    rejouees_differentes = 0
    for ligne in lignes:
        if not (200 <= ligne["statut"] < 300 and ligne["corps"]):
            continue
        p = parent_de[ligne["indice"]]
        statuts = [r["statut"] for r in json.loads(ligne["corps"])["resultats"]]
        if p in reponses and reponses[p] != statuts:
            rejouees_differentes += 1
        reponses[p] = statuts
    manquantes = incoherentes = 0
    for p, statuts in reponses.items():
        enfant = parents[p][1]
        for jour, statut in zip(semaine, statuts, strict=True):
            if enfant not in places[jour] and enfant not in attente[jour]:
                manquantes += 1
            elif (statut == "reserve") != (enfant in places[jour]):
                incoherentes += 1
    doubles = sum(len(places[j]) + len(attente[j]) - len(set(places[j]) | set(attente[j])) for j in semaine)
    acquittes = {parents[p][1] for p in reponses}
    vue = _sql(
        banc,
        f"SELECT jour, reserves, attente FROM {_schema(banc)}.proj_occupation"
        " WHERE accueil_id = %s AND unite = %s ORDER BY jour",
        (accueil_id, UNITE),
    )
    inscrits = set(places[premier]) | set(attente[premier])
    return {
        "confirmed_per_day": [len(places[j]) for j in semaine],
        "waiting_per_day": [len(attente[j]) for j in semaine],
        "exactly_capacity_confirmed": all(len(places[j]) == CAPACITE_RUEE for j in semaine),
        "same_children_every_day": all(
            places[j] == places[premier] and attente[j] == attente[premier] for j in semaine
        ),
        "waiting_list_in_log_order": all(places[j] + attente[j] == ordre_journal for j in semaine),
        "parents_acknowledged": len(reponses),
        "acknowledged_missing": manquantes,
        "acknowledged_mismatch": incoherentes,
        "stored_without_acknowledgement": len(inscrits - acquittes),
        "double_booked": doubles,
        "replays_different": rejouees_differentes,
        "answers": dict(Counter(s for statuts in reponses.values() for s in statuts)),
        "view_matches": [(v["jour"], v["reserves"], v["attente"]) for v in vue]
        == [(j, len(places[j]), len(attente[j])) for j in semaine],
    }
