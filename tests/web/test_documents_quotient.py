"""Mes documents, Quotient familial et prélèvement, Actualités, and the accueil's attention list,
in a real browser."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from portail.application.contexte import Contexte

from outils_web import PortailWeb, connecter, verifier_page

pytestmark = pytest.mark.postgres

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_mes_documents_depot_puis_refus_avec_son_motif(
    page: Any, portail_web: PortailWeb, tmp_path: Any
) -> None:
    famille = portail_web.famille("claire@example.fr")
    connecter(page, "claire@example.fr")
    page.get_by_role("link", name=re.compile("^Mes documents")).click()
    expect(page.get_by_text("Vous n'avez transmis aucun document.")).to_be_visible()
    verifier_page(page)

    texte = tmp_path / "note.txt"
    texte.write_text("pas un PDF")
    page.get_by_label("Type de document").select_option("certificat_medical")
    page.get_by_label(re.compile("^Fichier")).set_input_files(str(texte))
    page.get_by_role("button", name="Transmettre").click()
    expect(page.get_by_role("alert")).to_contain_text("seuls les PDF, JPEG et PNG sont acceptés")

    certificat = tmp_path / "certificat.pdf"
    certificat.write_bytes(PDF)
    page.get_by_label("Type de document").select_option("certificat_medical")
    page.get_by_label("Enfant concerné").select_option(label="Léa")
    page.get_by_label(re.compile("^Fichier")).set_input_files(str(certificat))
    page.get_by_role("button", name="Transmettre").click()
    expect(page.get_by_role("status")).to_contain_text("Votre document est déposé")
    expect(page.get_by_text("En cours de vérification")).to_be_visible()
    expect(page.get_by_text("certificat.pdf")).to_be_visible()

    sv = portail_web.services
    (ligne,) = sv.lectures.documents(famille.famille_id)
    sv.documents.refuser(Contexte.systeme("test"), ligne["document_id"], "Le certificat n'est pas signé.")
    sv.apres_ecriture()
    page.goto("/")
    expect(page.get_by_text(re.compile("Un document déposé le .* a été refusé"))).to_be_visible()
    page.get_by_role("link", name="Voir le motif").click()
    expect(page.get_by_text("Motif du refus : Le certificat n'est pas signé.")).to_be_visible()
    verifier_page(page)


def test_quotient_et_mandat_sepa_signer_puis_revoquer(page: Any, portail_web: PortailWeb) -> None:
    famille = portail_web.famille("claire@example.fr")
    portail_web.services.familles.enregistrer_quotient(
        Contexte.systeme("test"), famille.famille_id, 742, date(2021, 9, 1), "caf"
    )
    connecter(page, "claire@example.fr")
    page.get_by_role("link", name=re.compile("^Quotient familial")).click()
    expect(page.get_by_text("742 €")).to_be_visible()
    expect(page.get_by_text("Caisse d'allocations familiales (CAF)")).to_be_visible()
    verifier_page(page)

    page.get_by_label(re.compile("^IBAN")).fill("FR76 3000 6000 0112 3456 7890 180")
    page.get_by_label(re.compile("^J'autorise")).check()
    page.get_by_role("button", name="Signer le mandat").click()
    expect(page.get_by_role("alert")).to_contain_text("IBAN")
    expect(page.locator("#champ-iban")).to_have_attribute("aria-invalid", "true")
    verifier_page(page)

    page.get_by_label(re.compile("^IBAN")).fill("FR7630006000011234567890189")
    page.get_by_label(re.compile("^J'autorise")).check()
    page.get_by_role("button", name="Signer le mandat").click()
    expect(page.get_by_role("status")).to_have_text("Votre mandat de prélèvement est signé.")
    expect(page.get_by_text("FR76 **** **** 0189")).to_be_visible()
    page.get_by_role("button", name="Révoquer le mandat").click()
    expect(page.get_by_role("status")).to_have_text("Votre mandat de prélèvement est révoqué.")
    expect(page.get_by_role("button", name="Signer le mandat")).to_be_visible()


def test_actualites(page: Any, portail_web: PortailWeb) -> None:
    portail_web.famille("claire@example.fr")
    portail_web.services.documents.publier(
        Contexte.systeme("test"), "Fermeture du centre", "Le centre est fermé le 1er mai.", []
    )
    portail_web.services.apres_ecriture()
    connecter(page, "claire@example.fr")
    page.get_by_role("link", name=re.compile("^Actualités")).click()
    expect(page.get_by_role("heading", name="Fermeture du centre")).to_be_visible()
    verifier_page(page)


def test_les_pages_sans_javascript_enregistrent_aussi(page_sans_js: Any, portail_web: PortailWeb) -> None:
    portail_web.famille("claire@example.fr")
    page = page_sans_js
    connecter(page, "claire@example.fr")
    page.goto("/quotient-prelevement")
    page.get_by_label(re.compile("^IBAN")).fill("FR7630006000011234567890189")
    page.get_by_role("button", name="Signer le mandat").click()
    expect(page.get_by_role("alert")).to_contain_text("Autorisation de prélèvement")
    page.get_by_label(re.compile("^J'autorise")).check()
    page.get_by_role("button", name="Signer le mandat").click()
    expect(page.get_by_role("status")).to_have_text("Votre mandat de prélèvement est signé.")
