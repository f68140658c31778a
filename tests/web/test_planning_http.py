"""Mon planning over HTTP without a browser: the wizard's pages, a double submission that books
once, errors beside their fields, another family's child or booking out of reach."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import anyio.to_thread
import pytest
from eventsourcing.persistence import MapperDeserialisationError
from litestar.testing import TestClient

from outils_sql import instructions
from portail.domain.planning import Planning
from portail.settings import Settings
from portail.store.database import BaseDeDonnees
from portail.web.app import creer_app

from outils_planning import MAINTENANT, annuler, creer_accueil, reserver
from outils_web import MOT_DE_PASSE, PortailWeb, attente_de_claire

pytestmark = pytest.mark.postgres


def valeur(html: str, nom: str) -> str:
    trouve = re.search(f'name="{nom}" value="([^"]+)"', html)
    assert trouve, f"pas de champ {nom} dans la page"
    return trouve.group(1)


@pytest.fixture
def web(settings: Settings, base: BaseDeDonnees, horloge: Any) -> Iterator[tuple[TestClient, PortailWeb]]:  # type: ignore[type-arg]
    horloge.maintenant = MAINTENANT
    application = creer_app(settings, horloge=horloge, base=base)
    with TestClient(app=application) as client:
        yield client, PortailWeb("http://testserver", application.state.services, settings, horloge)


def formulaire_du_jour(client: TestClient, portail: PortailWeb) -> tuple[Any, UUID, UUID, str]:  # type: ignore[type-arg]
    """Claire, logged in, on the 4 October 2021 of Léa's calendar."""
    famille = portail.famille("claire@example.fr")
    accueil = creer_accueil(portail.services)
    connecter(client, "claire@example.fr")
    page = client.get(f"/planning/{famille.enfants[0]}/{accueil}?mois=2021-10&jour=2021-10-04")
    return famille, famille.enfants[0], accueil, page.text


def compter_sauts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The functions handed to a worker thread from now on (until `monkeypatch.undo()`)."""
    sauts: list[object] = []
    vrai_saut = anyio.to_thread.run_sync

    async def compter_saut(fonction: Any, *args: Any, **kw: Any) -> Any:
        sauts.append(fonction)
        return await vrai_saut(fonction, *args, **kw)

    monkeypatch.setattr(anyio.to_thread, "run_sync", compter_saut)
    return sauts


def connecter(client: TestClient, email: str) -> None:  # type: ignore[type-arg]
    formulaire = client.get("/connexion")
    reponse = client.post(
        "/connexion",
        data={
            "csrf_token": valeur(formulaire.text, "csrf_token"),
            "email": email,
            "mot_de_passe": MOT_DE_PASSE,
        },
        follow_redirects=False,
    )
    assert reponse.status_code == 303, reponse.text


def test_le_parcours_mene_au_calendrier_du_mois(web: Any) -> None:
    client, portail = web
    famille = portail.famille("claire@example.fr", enfants=("Léa", "Hugo"))
    accueil = creer_accueil(portail.services)
    connecter(client, "claire@example.fr")

    etape1 = client.get("/planning")
    assert etape1.status_code == 200
    assert "Léa" in etape1.text and "Hugo" in etape1.text
    etape2 = client.get(f"/planning/{famille.enfants[0]}")
    assert "Garderie et Restauration – Année scolaire 2021-2022" in etape2.text
    etape3 = client.get(f"/planning/{famille.enfants[0]}/{accueil}?mois=2021-10&jour=2021-10-04")
    assert etape3.status_code == 200
    assert "Octobre 2021" in etape3.text
    assert "Présences du lundi 4 octobre 2021" in etape3.text
    # The guide's screen: the units with their hours, « OU » between MIDI and SOIR.
    assert "07:15 – 08:20" in etape3.text and "16:30 – 18:30" in etape3.text
    assert re.search(r'value="MIDI".*?<p class="ou">.*?value="SOIR"', etape3.text, re.S)
    # Every legend entry of the issue.
    for texte in (
        "Réservé",
        "Liste d'attente",
        "Annulé",
        "Absent",
        "Fermé",
        "Non réservable",
        "Délai dépassé",
    ):
        assert f"</span> {texte}</li>" in html.unescape(etape3.text)


def test_une_double_soumission_reserve_une_fois_et_montre_le_meme_resultat(web: Any) -> None:
    client, portail = web
    _, enfant, accueil, page = formulaire_du_jour(client, portail)
    formulaire = {
        "csrf_token": valeur(page, "csrf_token"),
        "idempotency_key": valeur(page, "idempotency_key"),
        "jour": "2021-10-04",
        "unites": ["MATIN", "MIDI"],
    }

    premiere = client.post(
        f"/planning/{enfant}/{accueil}/reservations", data=formulaire, follow_redirects=False
    )
    seconde = client.post(
        f"/planning/{enfant}/{accueil}/reservations", data=formulaire, follow_redirects=False
    )

    assert premiere.status_code == seconde.status_code == 303
    assert premiere.headers["location"] == seconde.headers["location"]
    resultat = client.get(premiere.headers["location"])
    assert "2 présences réservées" in resultat.text
    # One booking recorded: the second post was answered from the key, not booked again.
    planning_id = Planning.id_pour(enfant, accueil)
    reservations = [
        e
        for e in portail.services.portail.recorder.select_events(planning_id)
        if e.topic.endswith("Planning.Reserve")
    ]
    assert len(reservations) == 1


def test_valider_se_sert_sur_la_boucle_sans_fil(web: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """« Valider » is decided and saved without a worker thread once the process trusts what it
    keeps; the result page shows what was booked."""
    client, portail = web
    _, enfant, accueil, page = formulaire_du_jour(client, portail)
    sv = portail.services
    fin = time.monotonic() + 15
    while not (sv.portail.cache.fiable and sv.portail.trousseau.cache_fiable()) and time.monotonic() < fin:
        time.sleep(0.02)
    formulaire = {
        "csrf_token": valeur(page, "csrf_token"),
        "idempotency_key": valeur(page, "idempotency_key"),
        "jour": "2021-10-04",
        "unites": ["MATIN", "MIDI"],
    }
    sauts = compter_sauts(monkeypatch)
    avant = sv.reservations.sur_la_boucle
    reponse = client.post(
        f"/planning/{enfant}/{accueil}/reservations", data=formulaire, follow_redirects=False
    )
    monkeypatch.undo()
    assert reponse.status_code == 303, reponse.text
    assert (sauts, sv.reservations.sur_la_boucle - avant, sum(sv.reservations.en_fil.values())) == ([], 1, 0)
    assert "2 présences réservées" in client.get(reponse.headers["location"]).text


def test_des_unites_incompatibles_sont_une_erreur_a_cote_du_champ(web: Any) -> None:
    client, portail = web
    famille, enfant, accueil, page = formulaire_du_jour(client, portail)

    reponse = client.post(
        f"/planning/{enfant}/{accueil}/reservations",
        data={
            "csrf_token": valeur(page, "csrf_token"),
            "idempotency_key": valeur(page, "idempotency_key"),
            "jour": "2021-10-04",
            "unites": ["MIDI", "SOIR"],
            "recopier": "oui",
            "jusqu_au": "2021-10-01",
        },
    )

    assert reponse.status_code == 422
    assert "<title>Erreur : " in reponse.text
    texte = html.unescape(reponse.text)
    assert 'href="#champ-unites">Présences : MIDI et SOIR ne se réservent pas le même jour' in texte
    assert "Recopier jusqu'au : choisissez une date après le lundi 4 octobre 2021" in texte
    # What was ticked stays ticked.
    assert re.search(r'value="MIDI" id="[^"]+" checked', reponse.text)
    lu = portail.services.lectures.mois_enfant(
        famille.famille_id, enfant, date(2021, 10, 1), portail.services.portail.horloge()
    )
    assert lu is not None and not lu.etats


def test_l_enfant_ou_la_reservation_d_une_autre_famille_repond_404(web: Any) -> None:
    client, portail = web
    autre = portail.famille("autre@example.fr", nom="Durand", enfants=("Zoé",))
    portail.famille("claire@example.fr")
    accueil = creer_accueil(portail.services)
    reserver(portail.services, autre.famille_id, autre.enfants[0], accueil, (date(2021, 10, 4), "MATIN"))
    connecter(client, "claire@example.fr")

    for url in (
        f"/planning/{autre.enfants[0]}",
        f"/planning/{autre.enfants[0]}/{accueil}?mois=2021-10&jour=2021-10-04",
        f"/planning/{autre.enfants[0]}/{accueil}/resultat?cle=abc",
    ):
        reponse = client.get(url)
        assert reponse.status_code == 404, url
        assert "Zoé" not in reponse.text
    page = client.get("/planning")
    reponse = client.post(
        f"/planning/{autre.enfants[0]}/{accueil}/annulations",
        data={"csrf_token": valeur(page.text, "csrf_token"), "jour": "2021-10-04", "unite": "MATIN"},
    )
    assert reponse.status_code == 404
    assert "Zoé" not in client.get("/planning").text


def test_deux_enfants_aux_memes_jours_ont_chacun_les_liens_de_leur_calendrier(web: Any) -> None:
    """A day's cell is rendered once and shared by every calendar showing the same day in the same
    states: each page's links still lead to its own child's calendar, and a booking shows at once."""
    client, portail = web
    famille = portail.famille("claire@example.fr", enfants=("Léa", "Hugo"))
    accueil = creer_accueil(portail.services)
    connecter(client, "claire@example.fr")
    pages = {
        enfant: client.get(f"/planning/{enfant}/{accueil}?mois=2021-10&jour=2021-10-04").text
        for enfant in famille.enfants
    }
    for enfant, page in pages.items():
        liens = re.findall(r'<a id="jour-[^"]+" href="([^"]+)"', page)
        assert len(liens) >= 10, liens
        assert all(lien.startswith(f"/planning/{enfant}/{accueil}?mois=2021-10&amp;jour=") for lien in liens)
    lea, hugo = famille.enfants
    reserver(portail.services, famille.famille_id, hugo, accueil, (date(2021, 10, 5), "MATIN"))
    apres = client.get(f"/planning/{hugo}/{accueil}?mois=2021-10").text
    cellule = re.search(r'<a id="jour-2021-10-05".*?</a>', apres, re.S)
    assert cellule is not None and "MATIN réservé" in html.unescape(cellule.group(0))
    cellule_lea = re.search(
        r'<a id="jour-2021-10-05".*?</a>', client.get(f"/planning/{lea}/{accueil}?mois=2021-10").text, re.S
    )
    assert cellule_lea is not None and "MATIN libre" in html.unescape(cellule_lea.group(0))


def test_le_calendrier_se_lit_sur_la_boucle_sans_fil(web: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The calendar page's reads are statements awaited on the event loop, none handed to a
    worker thread: the child and the accueil when this process does not keep them, and the month
    (which says whether the family has offers to read). Kept, only the month is read."""
    client, portail = web
    famille = portail.famille("claire@example.fr")
    accueil = creer_accueil(portail.services)
    enfant = famille.enfants[0]
    connecter(client, "claire@example.fr")
    chemin = f"/planning/{enfant}/{accueil}?mois=2021-10&jour=2021-10-04"
    assert client.get(chemin).status_code == 200
    sv = portail.services
    assert sv.lecteur_async is not None
    sauts = compter_sauts(monkeypatch)
    sv.portail.cache.retirer([enfant, accueil])
    with instructions(sv) as froid:
        page = client.get(chemin)
    assert page.status_code == 200 and "Présences du lundi 4 octobre 2021" in html.unescape(page.text)
    with instructions(sv) as chaud:
        assert client.get(chemin).status_code == 200
    assert (len(froid), len(chaud), sauts) == (3, 1, []), (froid, chaud, sauts)

    # Nothing taken from the pool of the worker threads' connections either.
    datastore = sv.portail.recorder.datastore  # type: ignore[attr-defined]
    prises: list[str] = []
    origine = datastore.get_connection

    def prendre(*args: Any, **kwargs: Any) -> Any:
        prises.append(threading.current_thread().name)
        return origine(*args, **kwargs)

    monkeypatch.setattr(datastore, "get_connection", prendre)
    sv.portail.cache.retirer([enfant, accueil])
    assert client.get(chemin).status_code == 200
    assert prises == []


def test_le_calendrier_montre_la_place_proposee_tant_qu_elle_est_ouverte(web: Any) -> None:
    """The month's statement says whether the family has a place offered: the calendar then shows
    it, with its deadline, until it expires."""
    client, portail = web
    sv = portail.services
    attente = attente_de_claire(portail)
    premiere, claire, accueil, jour = attente.premiere, attente.claire, attente.accueil, attente.jour
    chemin = f"/planning/{claire.enfants[0]}/{accueil}?mois=2021-10"
    connecter(client, "claire@example.fr")
    assert "Places proposées depuis la liste d'attente" not in html.unescape(client.get(chemin).text)

    annuler(sv, premiere.famille_id, premiere.enfants[0], accueil, (jour, "SOIR"))
    sv.apres_ecriture()
    page = html.unescape(client.get(chemin).text)
    assert "Places proposées depuis la liste d'attente" in page
    assert "le 5 octobre 2021, SOIR" in page and "Répondre avant le 28/09/2021 à 10:00" in page

    portail.horloge.maintenant = MAINTENANT + timedelta(hours=25)
    assert "Places proposées depuis la liste d'attente" not in html.unescape(client.get(chemin).text)


def test_un_processus_qui_demarre_lit_les_enfants_d_avance(
    web: Any, settings: Settings, base: BaseDeDonnees, horloge: Any
) -> None:
    """A registration morning on an api process just started: the commune's children are read
    into memory before the parents come, so a child's first calendar page reads the accueil and
    the month, not the child."""
    _, portail = web
    famille = portail.famille("claire@example.fr")
    accueil = creer_accueil(portail.services)
    enfant = famille.enfants[0]
    application = creer_app(settings, horloge=horloge, base=base)
    with TestClient(app=application) as autre:
        sv = application.state.services
        sessions = sv.comptes.sessions
        assert sessions is not None
        fin = time.monotonic() + 15
        while sessions.prechauffages == 0 and time.monotonic() < fin:
            time.sleep(0.02)
        assert sv.portail.garde(enfant)
        connecter(autre, "claire@example.fr")
        with instructions(sv) as envoyees:
            page = autre.get(f"/planning/{enfant}/{accueil}?mois=2021-10&jour=2021-10-04")
        assert page.status_code == 200 and "Présences du lundi 4 octobre 2021" in html.unescape(page.text)
        assert len(envoyees) == 2, envoyees


def test_la_lecture_d_avance_des_enfants_s_arrete_a_sa_borne_ou_quand_on_l_arrete(web: Any) -> None:
    _, portail = web
    sv = portail.services
    enfants = [
        *portail.famille("claire@example.fr").enfants,
        *portail.famille("bruno@example.fr", nom="Durand", enfants=("Zoé", "Tom")).enfants,
    ]
    sv.portail.cache.retirer(enfants)
    assert sv.familles.lire_enfants_d_avance(continuer=lambda: False) == 0
    assert not any(sv.portail.garde(e) for e in enfants)
    assert sv.familles.lire_enfants_d_avance(maximum=1) == 1
    assert sum(sv.portail.garde(e) for e in enfants) == 1
    assert sv.familles.lire_enfants_d_avance(par_lot=1) >= len(enfants)
    assert all(sv.portail.garde(e) for e in enfants)


def test_un_lot_d_enfants_illisible_ne_prive_pas_les_suivants_de_leur_lecture_d_avance(
    web: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, portail = web
    sv = portail.services
    enfants = portail.famille("claire@example.fr", enfants=("Léa", "Hugo")).enfants
    sv.portail.cache.retirer(enfants)
    vraie_lecture = sv.portail.garder_d_avance
    appels: list[int] = []

    def garder_d_avance(lot: Any) -> None:
        appels.append(len(lot))
        if len(appels) == 1:
            raise MapperDeserialisationError("enregistrement altéré")
        vraie_lecture(lot)

    monkeypatch.setattr(sv.portail, "garder_d_avance", garder_d_avance)
    assert sv.familles.lire_enfants_d_avance(par_lot=1) == 1
    assert appels == [1, 1]
    assert sum(sv.portail.garde(e) for e in enfants) == 1
