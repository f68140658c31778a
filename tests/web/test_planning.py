"""Mon planning in a real browser: the guide's wizard with « Recopier la sélection », the same
booking without JavaScript and by keyboard alone, cancelling from the calendar, accepting a place
offered from the waiting list; axe-core, 360 px and the keyboard on every page."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from playwright.sync_api import expect

from outils_planning import MAINTENANT, annuler, creer_accueil, reserver
from outils_web import PortailWeb, attente_de_claire, connecter, verifier_page

pytestmark = pytest.mark.postgres

JOURS_RECOPIES = {date(2021, 10, 4), date(2021, 10, 7), date(2021, 10, 11), date(2021, 10, 14)}


def etats(portail_web: PortailWeb, famille_id: UUID, enfant_id: UUID) -> dict[tuple[date, str], str]:
    lu = portail_web.services.lectures.mois_enfant(
        famille_id, enfant_id, date(2021, 10, 1), portail_web.services.portail.horloge()
    )
    assert lu is not None
    return {(jour, unite): etat for (_, jour, unite), etat in lu.etats.items()}


def choisir_et_valider(page: Any) -> None:
    """On the 4 October: MATIN and MIDI, copied on Mondays and Thursdays up to 15 October."""
    page.get_by_label(re.compile("^MATIN")).check()
    page.get_by_label(re.compile("^MIDI")).check()
    page.get_by_label("Recopier aussi ces présences sur d'autres jours").check()
    expect(page.get_by_role("checkbox", name="lundi", exact=True)).to_be_checked()
    page.get_by_role("checkbox", name="jeudi", exact=True).check()
    page.get_by_label(re.compile("^Jusqu'au")).fill("2021-10-15")
    page.get_by_role("button", name="Valider").click()


def test_reserver_avec_recopie_dans_l_assistant(page: Any, portail_web: PortailWeb) -> None:
    portail_web.horloge.maintenant = MAINTENANT
    famille = portail_web.famille("claire@example.fr", enfants=("Léa", "Hugo"))
    creer_accueil(portail_web.services)
    connecter(page, "claire@example.fr")

    page.get_by_role("link", name=re.compile("Mon planning")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon planning")
    verifier_page(page)
    page.get_by_role("link", name="Léa").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("établissement"))).to_be_visible()
    verifier_page(page)
    page.get_by_role("link", name=re.compile("Garderie et Restauration – Année scolaire 2021-2022")).click()
    expect(page.get_by_role("heading", name="Septembre 2021")).to_be_visible()
    # htmx swaps the calendar in place: the page keeps its address in step.
    page.get_by_role("link", name="Octobre 2021").click()
    expect(page.get_by_role("heading", name="Octobre 2021")).to_be_visible()
    expect(page).to_have_url(re.compile(r"mois=2021-10"))
    page.locator("#jour-2021-10-04").click()
    expect(page.get_by_role("heading", name="Présences du lundi 4 octobre 2021")).to_be_visible()
    expect(page.locator("#annonce-planning")).to_have_text("Jour choisi : lundi 4 octobre 2021.")
    expect(page.get_by_text("OU", exact=True)).to_be_visible()
    verifier_page(page)

    choisir_et_valider(page)

    expect(page.get_by_role("status")).to_contain_text(
        "8 présences réservées, 0 en liste d'attente, 0 refusée."
    )
    expect(page.get_by_role("row")).to_have_count(9)
    verifier_page(page)
    lus = etats(portail_web, famille.famille_id, famille.enfants[0])
    assert {(j, u) for (j, u), e in lus.items() if e == "reserve"} == {
        (j, u) for j in JOURS_RECOPIES for u in ("MATIN", "MIDI")
    }
    page.get_by_role("link", name="Retour au planning").click()
    expect(page.locator("#jour-2021-10-14")).to_contain_text("MATIN réservé")


def test_la_meme_reservation_sans_javascript(page_sans_js: Any, portail_web: PortailWeb) -> None:
    page = page_sans_js
    portail_web.horloge.maintenant = MAINTENANT
    famille = portail_web.famille("claire@example.fr")
    creer_accueil(portail_web.services)
    connecter(page, "claire@example.fr")

    page.goto("/planning")
    page.get_by_role("link", name="Léa").click()
    page.get_by_role("link", name=re.compile("Garderie et Restauration")).click()
    page.get_by_role("link", name="Octobre 2021").click()
    expect(page.get_by_role("heading", name="Octobre 2021")).to_be_visible()
    page.locator("#jour-2021-10-04").click()
    expect(page.get_by_role("heading", name="Présences du lundi 4 octobre 2021")).to_be_visible()
    largeurs = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert largeurs[0] <= largeurs[1], largeurs

    choisir_et_valider(page)

    expect(page.get_by_role("status")).to_contain_text("8 présences réservées")
    assert (
        sum(e == "reserve" for e in etats(portail_web, famille.famille_id, famille.enfants[0]).values()) == 8
    )


def tab_jusqu_a(page: Any, selecteur: str) -> None:
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selecteur):
            return
    raise AssertionError(f"{selecteur} jamais atteint au clavier")


def test_reserver_au_clavier_seul(page: Any, portail_web: PortailWeb) -> None:
    portail_web.horloge.maintenant = MAINTENANT
    famille = portail_web.famille("claire@example.fr")
    accueil = creer_accueil(portail_web.services)
    connecter(page, "claire@example.fr")
    page.goto(f"/planning/{famille.enfants[0]}/{accueil}?mois=2021-10")

    tab_jusqu_a(page, "#jour-2021-10-05")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Présences du mardi 5 octobre 2021")).to_be_visible()
    tab_jusqu_a(page, "input[value=SOIR]")
    page.keyboard.press("Space")
    tab_jusqu_a(page, ".nouvelle-presence button[type=submit]")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("1 présence réservée")
    assert etats(portail_web, famille.famille_id, famille.enfants[0]) == {
        (date(2021, 10, 5), "SOIR"): "reserve"
    }


def test_annuler_depuis_le_calendrier(page: Any, portail_web: PortailWeb) -> None:
    portail_web.horloge.maintenant = MAINTENANT
    famille = portail_web.famille("claire@example.fr")
    accueil = creer_accueil(portail_web.services)
    reserver(
        portail_web.services, famille.famille_id, famille.enfants[0], accueil, (date(2021, 10, 5), "MATIN")
    )
    connecter(page, "claire@example.fr")
    page.goto(f"/planning/{famille.enfants[0]}/{accueil}?mois=2021-10&jour=2021-10-05")
    expect(page.locator("#jour-2021-10-05")).to_contain_text("MATIN réservé")
    verifier_page(page)

    page.get_by_role("button", name="Annuler MATIN du mardi 5 octobre 2021").click()

    expect(page.get_by_role("status").first).to_have_text("La présence est annulée ; la place est rendue.")
    expect(page.locator("#jour-2021-10-05")).to_contain_text("MATIN annulé")
    assert etats(portail_web, famille.famille_id, famille.enfants[0]) == {
        (date(2021, 10, 5), "MATIN"): "annule"
    }


def test_accepter_une_place_proposee_depuis_la_liste_d_attente(page: Any, portail_web: PortailWeb) -> None:
    portail_web.horloge.maintenant = MAINTENANT
    sv = portail_web.services
    attente = attente_de_claire(portail_web)
    premiere, claire, accueil, jour = attente.premiere, attente.claire, attente.accueil, attente.jour
    annuler(sv, premiere.famille_id, premiere.enfants[0], accueil, (jour, "SOIR"))
    connecter(page, "claire@example.fr")

    page.goto("/planning")
    offres = page.get_by_role("region", name="Places proposées depuis la liste d'attente")
    expect(offres).to_contain_text("Léa — PERISCOLAIRE – Garderie et Restauration, le 5 octobre 2021, SOIR.")
    expect(offres).to_contain_text("Répondre avant le 28/09/2021 à 10:00")
    verifier_page(page)
    offres.get_by_role("button", name=re.compile("^Accepter la place")).click()

    expect(page.get_by_role("status").first).to_have_text("Vous avez accepté la place : elle est réservée.")
    expect(page.get_by_role("region", name="Places proposées depuis la liste d'attente")).to_have_count(0)
    assert etats(portail_web, claire.famille_id, claire.enfants[0]) == {(jour, "SOIR"): "reserve"}
