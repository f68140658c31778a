"""Mon profil, Mon foyer, Mes enfants in a real browser: view, edit, errors beside their field
and summarised at the top; another family's child is out of reach."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from outils_web import PortailWeb, connecter, verifier_page

pytestmark = pytest.mark.postgres


def test_mon_profil_erreur_puis_modification(page: Any, portail_web: PortailWeb) -> None:
    portail_web.famille("claire@example.fr")
    connecter(page, "claire@example.fr")
    page.get_by_role("link", name=re.compile("^Mon profil")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon profil")
    expect(page.get_by_text("claire@example.fr")).to_be_visible()
    verifier_page(page)

    page.get_by_label(re.compile("^Téléphone \\(")).fill("pas un numéro")
    page.get_by_label("Profession", exact=True).fill("Infirmière")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page).to_have_title(re.compile("^Erreur : "))
    expect(page.get_by_role("alert")).to_contain_text("Téléphone")
    telephone = page.locator("#champ-telephone")
    expect(telephone).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Profession", exact=True)).to_have_value("Infirmière")
    verifier_page(page)

    telephone.fill("02 40 00 00 00")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Vos modifications sont enregistrées.")
    expect(page.get_by_label("Profession", exact=True)).to_have_value("Infirmière")
    expect(page.locator("#champ-telephone")).to_have_value("0240000000")


def test_mon_foyer_situation_adresse_et_autre_responsable(page: Any, portail_web: PortailWeb) -> None:
    portail_web.famille("claire@example.fr")
    connecter(page, "claire@example.fr")
    page.goto("/foyer")
    verifier_page(page)
    page.get_by_label("Situation familiale").select_option("pacse")
    page.locator("#champ-adresse-code_postal").fill("4400")
    page.get_by_role("button", name="Enregistrer").first.click()
    expect(page.get_by_role("alert")).to_contain_text("Code postal")
    expect(page.get_by_label("Situation familiale")).to_have_value("pacse")
    page.locator("#champ-adresse-code_postal").fill("44100")
    page.get_by_role("button", name="Enregistrer").first.click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_text("Situation familiale : Pacsé(e)")).to_be_visible()

    page.locator("#champ-autre_responsable-civilite").select_option("M")
    page.locator("#champ-autre_responsable-nom").fill("Martin")
    page.locator("#champ-autre_responsable-prenom").fill("Hugo")
    page.locator("#champ-autre_responsable-lien").fill("père")
    page.get_by_role("button", name="Ajouter l'autre responsable").click()
    expect(page.get_by_text("M MARTIN Hugo (père)")).to_be_visible()
    verifier_page(page)
    page.get_by_role("button", name="Retirer l'autre responsable").click()
    expect(page.get_by_text("Aucun autre responsable n'est renseigné.")).to_be_visible()


def test_mes_enfants_ajout_sante_personnes_autorisations(page: Any, portail_web: PortailWeb) -> None:
    portail_web.famille("claire@example.fr", enfants=())
    connecter(page, "claire@example.fr")
    page.goto("/enfants")
    expect(page.get_by_text("Aucun enfant n'est encore inscrit")).to_be_visible()
    verifier_page(page)
    page.get_by_label(re.compile("^Prénom")).fill("Jules")
    page.get_by_role("button", name="Ajouter l'enfant").click()
    expect(page.get_by_role("alert")).to_contain_text("Date de naissance")
    page.get_by_label(re.compile("^Nom")).fill("Martin")
    page.get_by_label(re.compile("^Date de naissance")).fill("2018-05-12")
    page.get_by_label("Classe").select_option("CE1")
    page.get_by_role("button", name="Ajouter l'enfant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jules MARTIN")
    expect(page.get_by_role("status")).to_have_text("L'enfant est ajouté à votre foyer.")
    fiche = page.url.split("?")[0]
    verifier_page(page)

    sante = page.locator("form[action$='/sante']")
    sante.get_by_label("Allergies").fill("arachide\nkiwi")
    sante.get_by_label(re.compile("^Projet d'accueil")).check()
    sante.get_by_label("Détail du PAI").fill("Trousse d'urgence dans le sac")
    sante.get_by_label("Médecin traitant").fill("Dr Leroy")
    sante.get_by_label("Régime alimentaire").select_option("sans_porc")
    sante.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_be_visible()
    sante = page.locator("form[action$='/sante']")
    expect(sante.get_by_label("Allergies")).to_have_value("arachide\nkiwi")
    expect(sante.get_by_label(re.compile("^Projet d'accueil"))).to_be_checked()
    expect(sante.get_by_label("Régime alimentaire")).to_have_value("sans_porc")

    # A PAI detail without the PAI box: refused beside the field, the box stays unchecked.
    sante.get_by_label(re.compile("^Projet d'accueil")).uncheck()
    sante.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text("Détail du PAI")
    expect(
        page.locator("form[action$='/sante']").get_by_label(re.compile("^Projet d'accueil"))
    ).not_to_be_checked()

    page.goto(fiche)
    personnes = page.locator("form[action$='/personnes-autorisees']")
    personnes.locator("#champ-personnes-0-prenom").fill("Odile")
    personnes.locator("#champ-personnes-0-nom").fill("Martin")
    personnes.locator("#champ-personnes-0-telephone").fill("pas un numéro")
    personnes.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#champ-personnes-0-telephone")).to_have_attribute("aria-invalid", "true")
    page.locator("#champ-personnes-0-telephone").fill("06 99 88 77 66")
    page.locator("form[action$='/personnes-autorisees']").get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.locator("#champ-personnes-0-prenom")).to_have_value("Odile")

    autorisations = page.locator("form[action$='/autorisations']")
    autorisations.get_by_label(re.compile("^Droit à l'image")).check()
    autorisations.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_label(re.compile("^Droit à l'image"))).to_be_checked()
    expect(page.get_by_label(re.compile("^L'enfant peut partir seul"))).not_to_be_checked()
    verifier_page(page)


def test_l_enfant_d_une_autre_famille_est_introuvable(page: Any, portail_web: PortailWeb) -> None:
    portail_web.famille("claire@example.fr")
    autre = portail_web.famille("autre@example.fr", nom="Bernard", prenom="Paul", enfants=("Zoé",))
    connecter(page, "claire@example.fr")
    reponse = page.goto(f"/enfants/{autre.enfants[0]}")
    assert reponse is not None and reponse.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Ressource introuvable")
    assert "Zoé" not in page.content() and "BERNARD" not in page.content().upper()
    page.goto("/enfants")
    assert "Zoé" not in page.content()
