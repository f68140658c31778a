"""Entrance pages in a real browser: connexion, déconnexion, mot de passe oublié and the mail's
link, inscription; with and without JavaScript."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from outils_web import MOT_DE_PASSE, PortailWeb, connecter, verifier_page

pytestmark = pytest.mark.postgres


def test_connexion_mene_a_l_accueil_et_deconnexion(page: Any, portail_web: PortailWeb) -> None:
    portail_web.famille("claire@example.fr")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    verifier_page(page)

    connecter(page, "claire@example.fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire")
    for tuile in ("Mon profil", "Mon foyer", "Mes enfants", "Mon planning", "Mes factures", "Mes documents"):
        expect(page.get_by_role("link", name=re.compile(tuile))).to_be_visible()
    verifier_page(page)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté.")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


def _lien_du_courriel(portail_web: PortailWeb, destinataire: str, chemin: str = "/reinitialisation") -> str:
    limite = time.monotonic() + 15
    while time.monotonic() < limite:
        for courriel in portail_web.courriels():
            if courriel["To"] == destinataire:
                corps = courriel.get_body(preferencelist=("plain",))
                assert corps is not None
                trouve = re.search(rf"(http\S+{chemin}\?token=\S+)", corps.get_content())
                if trouve:
                    return trouve.group(1)
        time.sleep(0.1)
    raise AssertionError(f"aucun courriel avec un lien {chemin} reçu par {destinataire}")


def test_mot_de_passe_oublie_le_lien_du_courriel_mene_a_un_nouveau_mot_de_passe(
    page: Any, portail_web: PortailWeb
) -> None:
    portail_web.famille("claire@example.fr")
    page.goto("/")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Réinitialisation de votre mot de passe")
    verifier_page(page)
    page.get_by_label(re.compile("^Adresse e-mail")).fill("claire@example.fr")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_contain_text("un lien de réinitialisation")

    lien = _lien_du_courriel(portail_web, "claire@example.fr")
    assert lien.startswith(portail_web.url + "/reinitialisation?token=")
    page.goto(lien)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir un nouveau mot de passe")
    verifier_page(page)
    page.get_by_label(re.compile("^Nouveau mot de passe")).fill("Nouveau-Secret-2027")
    page.get_by_label(re.compile("^Confirmez")).fill("Autre-Chose-2027")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("alert")).to_contain_text("les deux mots de passe ne sont pas identiques")
    verifier_page(page)
    page.get_by_label(re.compile("^Nouveau mot de passe")).fill("Nouveau-Secret-2027")
    page.get_by_label(re.compile("^Confirmez")).fill("Nouveau-Secret-2027")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("status")).to_contain_text("Votre mot de passe est changé")

    # The test clock stands still: sessions opened at the instant of the change are void.
    portail_web.horloge.avancer(seconds=1)
    connecter(page, "claire@example.fr", "Nouveau-Secret-2027")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire")

    # The link is spent: used again, it is refused and a new one is offered.
    page.goto(lien)
    page.get_by_label(re.compile("^Nouveau mot de passe")).fill("Encore-Autre-2028")
    page.get_by_label(re.compile("^Confirmez")).fill("Encore-Autre-2028")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("alert")).to_contain_text("invalide ou a expiré")
    expect(page.get_by_role("link", name="Demander un nouveau lien")).to_be_visible()


def test_inscription_erreurs_a_cote_des_champs_puis_compte_cree(page: Any, portail_web: PortailWeb) -> None:
    page.goto("/inscription")
    verifier_page(page)
    page.get_by_label(re.compile("^Adresse e-mail")).fill("pas-une-adresse")
    page.get_by_label(re.compile("^Mot de passe")).fill("court")
    page.get_by_label(re.compile("^Nom")).fill("Durand")
    page.get_by_role("button", name="Créer mon compte").click()
    resume = page.get_by_role("alert")
    expect(resume).to_contain_text("Le formulaire contient")
    expect(resume.get_by_role("link", name=re.compile("^Code postal"))).to_be_visible()
    # Beside its field, linked to it for screen readers.
    code_postal = page.locator("#champ-responsable-adresse-code_postal")
    expect(code_postal).to_have_attribute("aria-invalid", "true")
    assert page.locator("#champ-responsable-nom").input_value() == "Durand"
    verifier_page(page)

    page.get_by_label(re.compile("^Adresse e-mail")).fill("nouvelle@example.fr")
    page.get_by_label(re.compile("^Mot de passe")).fill(MOT_DE_PASSE)
    page.get_by_label(re.compile("^Prénom")).fill("Nina")
    page.get_by_label(re.compile("^Téléphone")).fill("06 11 22 33 44")
    page.get_by_label(re.compile("^Adresse \\(")).fill("1 rue des Lilas")
    code_postal.fill("44000")
    page.get_by_label(re.compile("^Commune")).fill("Nantes")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Nina")
    expect(page.get_by_role("status")).to_contain_text("Votre compte est créé")


def test_connexion_sans_javascript(page_sans_js: Any, portail_web: PortailWeb) -> None:
    portail_web.famille("claire@example.fr")
    page = page_sans_js
    page.goto("/")
    page.get_by_label(re.compile("^Adresse e-mail")).fill("claire@example.fr")
    page.get_by_label(re.compile("^Mot de passe")).fill("faux")
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_role("alert")).to_contain_text("Adresse e-mail ou mot de passe incorrect.")
    page.get_by_label(re.compile("^Mot de passe")).fill(MOT_DE_PASSE)
    page.get_by_label(re.compile("^Se souvenir de moi")).check()
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire")
    # "Se souvenir de moi": the session cookie outlives the browser session.
    session = next(c for c in page.context.cookies() if c["name"] == "portail_session")
    assert session["expires"] > time.time() + 29 * 24 * 3600


def test_changer_d_adresse_e_mail_passe_par_le_lien_envoye_a_la_nouvelle(
    page: Any, portail_web: PortailWeb
) -> None:
    portail_web.famille("claire@example.fr")
    connecter(page, "claire@example.fr")
    page.goto("/profil")
    page.get_by_text("Modifier mon adresse e-mail").click()
    page.get_by_label(re.compile("^Nouvelle adresse e-mail")).fill("claire.martin@example.fr")
    page.get_by_label(re.compile("^Mot de passe actuel")).first.fill(MOT_DE_PASSE)
    page.get_by_role("button", name="Changer d'adresse e-mail").click()
    expect(page.get_by_role("status")).to_contain_text("Un lien de confirmation vient d'être envoyé")

    lien = _lien_du_courriel(portail_web, "claire.martin@example.fr", "/confirmation-email")
    page.goto(lien)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer la nouvelle adresse e-mail")
    verifier_page(page)
    page.get_by_role("button", name="Confirmer l'adresse").click()
    expect(page.get_by_role("status")).to_contain_text("Votre nouvelle adresse e-mail est confirmée")

    portail_web.horloge.avancer(seconds=1)
    connecter(page, "claire.martin@example.fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire")
