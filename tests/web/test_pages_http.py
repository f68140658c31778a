"""The pages over HTTP without a browser: headers, the forms' CSRF field, errors as pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from portail.settings import Settings
from portail.store.database import BaseDeDonnees
from portail.web.app import CSP_PAGES, creer_app

from outils_http import MOT_DE_PASSE, nouvelle_famille

pytestmark = pytest.mark.postgres

CHAMP_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web(settings: Settings, base: BaseDeDonnees, horloge: Any) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(app=creer_app(settings, horloge=horloge, base=base)) as c:
        yield c


def jeton(html: str) -> str:
    trouve = CHAMP_CSRF.search(html)
    assert trouve, "pas de champ csrf_token dans la page"
    return trouve.group(1)


def se_connecter(web: TestClient, email: str) -> None:  # type: ignore[type-arg]
    formulaire = web.get("/connexion")
    reponse = web.post(
        "/connexion",
        data={"csrf_token": jeton(formulaire.text), "email": email, "mot_de_passe": MOT_DE_PASSE},
        follow_redirects=False,
    )
    assert reponse.status_code == 303, reponse.text
    assert reponse.headers["location"] == "/"


def test_les_pages_ont_une_csp_sans_script_en_ligne_et_l_api_garde_la_sienne(web: TestClient) -> None:  # type: ignore[type-arg]
    page = web.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP_PAGES
    assert "unsafe-inline" not in CSP_PAGES and "script-src 'self'" in CSP_PAGES
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and " style=" not in page.text
    assert (
        web.get("/api/moi").headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    htmx = web.get("/static/htmx-2.0.11.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text


def test_un_formulaire_sans_son_champ_csrf_est_refuse(web: TestClient) -> None:  # type: ignore[type-arg]
    nouvelle_famille(web, "claire@example.fr")
    web.cookies.clear()
    web.get("/connexion")
    sans = web.post("/connexion", data={"email": "claire@example.fr", "mot_de_passe": MOT_DE_PASSE})
    assert sans.status_code == 403
    assert "Ce formulaire a expiré" in sans.text and sans.headers["content-type"].startswith("text/html")
    faux = web.post(
        "/connexion", data={"csrf_token": "faux", "email": "claire@example.fr", "mot_de_passe": MOT_DE_PASSE}
    )
    assert faux.status_code == 403

    se_connecter(web, "claire@example.fr")
    # With a session, the hidden field must be the session's own CSRF value.
    assert web.post("/deconnexion", data={"csrf_token": "faux"}).status_code == 403
    accueil = web.get("/")
    assert "Bonjour Claire" in accueil.text
    sortie = web.post("/deconnexion", data={"csrf_token": jeton(accueil.text)}, follow_redirects=False)
    assert sortie.status_code == 303
    assert "Connexion" in web.get("/").text


def test_le_champ_csrf_vaut_aussi_pour_l_api_en_formulaire(web: TestClient) -> None:  # type: ignore[type-arg]
    nouvelle_famille(web, "claire@example.fr")
    web.cookies.clear()
    se_connecter(web, "claire@example.fr")
    csrf = jeton(web.get("/").text)
    refuse = web.post("/api/auth/deconnexion", data={"csrf_token": "faux"})
    assert refuse.status_code == 403
    assert web.post("/api/auth/deconnexion", data={"csrf_token": csrf}).status_code == 204


def test_une_page_inconnue_est_une_page_404_en_francais(web: TestClient) -> None:  # type: ignore[type-arg]
    reponse = web.get("/nulle-part")
    assert reponse.status_code == 404
    assert reponse.headers["content-type"].startswith("text/html")
    assert 'lang="fr"' in reponse.text and "Revenir à l'accueil" in reponse.text
    assert web.get("/api/nulle-part").headers["content-type"] == "application/problem+json"


def test_mauvais_mot_de_passe_reaffiche_le_formulaire_avec_l_erreur(web: TestClient) -> None:  # type: ignore[type-arg]
    nouvelle_famille(web, "claire@example.fr")
    web.cookies.clear()
    formulaire = web.get("/connexion")
    reponse = web.post(
        "/connexion",
        data={"csrf_token": jeton(formulaire.text), "email": "claire@example.fr", "mot_de_passe": "non"},
    )
    assert reponse.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in reponse.text
    assert 'value="claire@example.fr"' in reponse.text


def test_une_page_ne_montre_jamais_les_donnees_d_une_autre_famille(web: TestClient) -> None:  # type: ignore[type-arg]
    from portail.application.contexte import Contexte

    autre = nouvelle_famille(web, "autre@example.fr", nom="Bernard", prenom="Paul")
    sv = web.app.state.services
    ctx = Contexte.systeme("test")
    famille_autre = UUID(str(autre.famille_id))
    enfant = sv.familles.ajouter_enfant(ctx, famille_autre, "Bernard", "Zoé", date(2016, 2, 3))
    sv.documents.deposer(ctx, famille_autre, enfant, "certificat_medical", "zoe-bernard.pdf", b"%PDF-1.4\n")
    sv.familles.signer_mandat(ctx, famille_autre, "Paul Bernard", "FR7630006000011234567890189", None)
    sv.apres_ecriture()
    nouvelle_famille(web, "claire@example.fr")
    web.cookies.clear()
    se_connecter(web, "claire@example.fr")
    for chemin in (
        "/",
        "/profil",
        "/foyer",
        "/enfants",
        "/documents",
        "/quotient-prelevement",
        "/actualites",
    ):
        page = web.get(chemin)
        assert page.status_code == 200, chemin
        for trace in ("Bernard", "BERNARD", "Zoé", "zoe-bernard", "autre@example.fr", "0189"):
            assert trace not in page.text, (chemin, trace)
    fiche = web.get(f"/enfants/{enfant}")
    assert fiche.status_code == 404 and "Zoé" not in fiche.text
