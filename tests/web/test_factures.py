"""Mes factures in a real browser: the list, an invoice explained child by child under first
names, its PDF, paying it by card through the test provider, the payment in the history; another
family's invoice out of reach."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from outils_planning import MAINTENANT, facture_d_octobre
from outils_web import PortailWeb, connecter, verifier_page

pytestmark = pytest.mark.postgres


def test_lire_une_facture_ouvrir_son_pdf_et_la_payer_par_carte(page: Any, portail_web: PortailWeb) -> None:
    portail_web.horloge.maintenant = MAINTENANT
    famille = portail_web.famille("claire@example.fr", enfants=("Léa", "Hugo"))
    facture_id = facture_d_octobre(
        portail_web.services, portail_web.horloge, famille.famille_id, famille.enfants
    )
    connecter(page, "claire@example.fr")

    page.get_by_role("link", name=re.compile("Mes factures")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes factures")
    expect(page.get_by_text("Vous devez 20,00 €.")).to_be_visible()
    ligne = page.get_by_role("row", name=re.compile("^PF2021"))
    expect(ligne).to_contain_text("octobre 2021")
    expect(ligne).to_contain_text("À payer")
    verifier_page(page)

    ligne.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Facture n°\s*PF2021"))
    expect(page.get_by_role("heading", name="Léa — 10,00 €")).to_be_visible()
    expect(page.get_by_role("heading", name="Hugo — 10,00 €")).to_be_visible()
    detail = page.get_by_role("region", name="Le détail, enfant par enfant")
    expect(detail).to_contain_text("4 octobre 2021 — PERISCOLAIRE")
    expect(detail.locator(".explication").first).not_to_be_empty()
    assert str(famille.enfants[0]) not in page.content()
    expect(
        page.get_by_text(re.compile("www.payfip.gouv.fr : identifiant de la collectivité 012345"))
    ).to_be_visible()
    verifier_page(page)

    pdf = page.request.get(
        page.get_by_role("link", name="Télécharger la facture (PDF)").get_attribute("href")
    )
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    page.get_by_role("button", name="Payer 20,00 € par carte bancaire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiement par carte")
    verifier_page(page)
    page.get_by_label(re.compile("^Numéro de carte")).fill("1234")
    page.get_by_role("button", name="Payer 20,00 €").click()
    expect(page.get_by_role("alert")).to_contain_text("carte refusée")
    page.get_by_label(re.compile("^Numéro de carte")).fill("4970 1010 1010 1010")
    page.get_by_role("button", name="Payer 20,00 €").click()

    expect(page).to_have_url(re.compile(f"/factures/{facture_id}"))
    expect(page.get_by_role("status")).to_have_text("Votre paiement est enregistré. Merci !")
    expect(page.get_by_text("Payée", exact=True)).to_be_visible()
    page.get_by_role("link", name="← Toutes mes factures").click()
    expect(page.get_by_text("Vous êtes à jour : rien à payer.")).to_be_visible()
    expect(
        page.get_by_role("region", name="Mes règlements").get_by_role(
            "row", name=re.compile("Carte bancaire")
        )
    ).to_contain_text("20,00 €")
    verifier_page(page)


def test_la_facture_d_une_autre_famille_repond_404(page: Any, portail_web: PortailWeb) -> None:
    portail_web.horloge.maintenant = MAINTENANT
    autre = portail_web.famille("autre@example.fr", nom="Durand", enfants=("Zoé",))
    facture_id = facture_d_octobre(portail_web.services, portail_web.horloge, autre.famille_id, autre.enfants)
    portail_web.famille("claire@example.fr")
    connecter(page, "claire@example.fr")

    for url in (f"/factures/{facture_id}", f"/api/factures/{facture_id}/pdf"):
        reponse = page.goto(url)
        assert reponse.status == 404, url
        assert "Zoé" not in page.content()
    page.goto("/factures")
    expect(page.get_by_text("Vous n'avez encore reçu aucune facture.")).to_be_visible()
    reponse = page.request.post(
        f"/factures/{facture_id}/paiement",
        form={"csrf_token": page.locator("input[name=csrf_token]").first.get_attribute("value")},
        max_redirects=0,
    )
    assert reponse.status == 404
