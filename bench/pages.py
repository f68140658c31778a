"""The `portal_pages` section of `portail bench`: the parents' pages through the real server, at
50 concurrent parents (closed loop, as `planning_read`).

- `planning_page`: `GET /planning/{enfant}/{accueil}?mois=…&jour=…`, the wizard's calendar of a
  random child's school month with a day chosen (its presences and the booking form rendered);
- `booking_post`: the « Nouvelle présence » form posted as a browser posts it
  (`application/x-www-form-urlencoded`, an idempotency key in a hidden field), one day-unit each,
  each by a child who has not asked for that day yet; its answer is the 303 to the outcome page,
  which is not followed (the figure is the booking's POST).

Parents authenticate with a bearer token as the other HTTP sections do: the pages accept it like
the session cookie, and a form posted with it needs no CSRF field.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from bench.commun import Banc
from bench.http import CLIENTS, UNITE, Phases, _accueil, _mois_scolaires, _reservations

DUREE_PAGES = 15.0
RESERVATIONS_PAGES = 30_000
"""More than 50 parents post in the duration (6,000 ran out after 5 s, 20,000 after about 13 s, on
a machine that posts 1,200 to 1,500 a second): the loop stops at its duration."""
JOURS_PAGES, CAPACITE_PAGES = 100, 20


@dataclass(frozen=True)
class TravailPages:
    lectures: list[dict[str, Any]]
    reservations: list[dict[str, Any]]


def preparer_pages(banc: Banc, jetons: dict[UUID, str], hasard: random.Random) -> TravailPages:
    """The requests, written before the server starts (its accueil included)."""
    debut = banc.services.familles.aujourd_hui() + timedelta(days=3)
    accueil_id, jours = _accueil(banc, "Banc pages", debut, debut + timedelta(days=250), CAPACITE_PAGES)
    periscolaire = banc.commune.periscolaire_id
    mois = _mois_scolaires(banc)
    lectures = []
    for _ in range(5_000):
        famille, enfant_id = hasard.choice(banc.commune.enfants)
        un_mois = hasard.choice(mois)
        lectures.append(
            {
                "chemin": f"/planning/{enfant_id}/{periscolaire}?mois={un_mois}&jour={un_mois}-{hasard.randint(1, 28):02d}",
                "entetes": {"Authorization": f"Bearer {jetons[famille.compte_id]}"},
            }
        )
    reservations = []
    for api in _reservations(banc, jetons, accueil_id, jours[:JOURS_PAGES], RESERVATIONS_PAGES, hasard):
        enfant_id = api["chemin"].split("/")[3]
        jour = api["corps"]["presences"][0]["date"]
        reservations.append(
            {
                "methode": "POST",
                "chemin": f"/planning/{enfant_id}/{accueil_id}/reservations",
                "entetes": {"Authorization": api["entetes"]["Authorization"]},
                "formulaire": urlencode({"idempotency_key": uuid.uuid4().hex, "jour": jour, "unites": UNITE}),
            }
        )
    return TravailPages(lectures, reservations)


def mesurer_pages(phases: Phases, travail: TravailPages) -> dict[str, Any]:
    arguments = ["--clients", str(CLIENTS), "--duree", str(DUREE_PAGES)]
    page, _ = phases.mesurer(travail.lectures, [*arguments, "--repeter"])
    poste, _ = phases.mesurer(travail.reservations, arguments)
    # A booking's answer is the redirect to its outcome page: anything else is an error.
    erreurs_poste = sum(n for statut, n in poste["statuses"].items() if statut != "303")
    return {
        "clients": CLIENTS,
        "duration_s": DUREE_PAGES,
        "planning_p99_ms": page["p99_ms"],
        "booking_post_p99_ms": poste["p99_ms"],
        "planning_page": page,
        "booking_post": {**poste, "errors": erreurs_poste},
    }
