"""The invoice a parent downloads: each line's child, the month in words, how to pay (PayFiP,
cheque, the régie's counter, or the direct debit of a mandate), the régie's SIRET, the recourse
paragraph, page numbers; a credit note cites the invoice it corrects. And the régie's new settings."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from uuid import UUID

import pypdf

from portail.application.impression import facture_imprimee
from portail.application.pdf import facture_pdf

from outils_http import compte_personnel, connecter, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, reserver

PERIODE = {"libelle": "2025-2026", "debut": "2025-09-01", "fin": "2026-07-04"}
GRILLES = {
    "valable_du": "2025-09-01",
    "grilles": [
        {"unite": "MIDI", "residence": "tous", "mode": "forfait", "prix_cents": 305},
        {"unite": "SOIR", "residence": "tous", "mode": "forfait", "prix_cents": 180},
    ],
}
REGIE = {
    "nom": "Régie périscolaire de Nantes",
    "prefixe_factures": "F",
    "ics": "FR72ZZZ123456",
    "iban": "FR1420041010050500013M02606",
    "siret": "214 401 093 00015",
    "adresse": "2 rue de l'Hôtel de Ville, 44000 Nantes",
    "horaires": "du lundi au vendredi, 8h30–12h",
    "ordre_cheques": "Régie périscolaire de Nantes",
    "payfip_client": "012345",
}


def texte_pdf(contenu: bytes) -> list[str]:
    """Each page's text, with the non-breaking spaces babel puts in amounts made plain."""
    pages = pypdf.PdfReader(io.BytesIO(contenu)).pages
    return [
        " ".join(page.extract_text().replace("\xa0", " ").replace("\u202f", " ").split()) for page in pages
    ]


def _commune(client, horloge):
    horloge.maintenant = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    reponse = admin.put(
        "/api/admin/parametres", json={"commune": {"nom": "Nantes", "code_postal": "44000"}, "regie": REGIE}
    )
    assert reponse.status_code == 200, reponse.text
    accueil = creer_accueil(admin, periode=PERIODE, zone_scolaire=None, hors_vacances_scolaires=False)
    assert regie.put(f"/api/admin/accueils/{accueil}/tarifs", json=GRILLES).status_code == 200
    return accueil


def _emettre(client, periode: str) -> str:
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    campagne = regie.post("/api/regie/campagnes", json={"periode": periode}).json()
    assert regie.post(f"/api/regie/campagnes/{campagne['id']}/emission").status_code == 200
    return str(campagne["id"])


def _pdf(parent, numero: str | None = None) -> list[str]:
    factures = parent.get("/api/factures").json()
    facture = next(f for f in factures if f["numero"] == numero) if numero else factures[0]
    reponse = parent.get(f"/api/factures/{facture['id']}/pdf")
    assert reponse.status_code == 200
    return texte_pdf(reponse.content)


def test_facture_lisible_par_un_parent(client, horloge) -> None:
    accueil = _commune(client, horloge)
    cheque = nouvelle_famille(client, "cheque@example.fr")
    lea = ajouter_enfant(cheque, prenom="Léa")
    hugo = ajouter_enfant(cheque, prenom="Hugo", naissance="2016-03-02")
    reserver(cheque, lea, accueil, ("2025-11-03", "MIDI"), ("2025-11-04", "SOIR"))
    reserver(cheque, hugo, accueil, ("2025-11-03", "MIDI"))
    mandat = nouvelle_famille(client, "sepa@example.fr", nom="Lefèvre")
    mandat.put("/api/prelevement", json={"titulaire": "Élise Lefèvre", "iban": "FR7630006000011234567890189"})
    rum = mandat.get("/api/prelevement").json()["rum"]
    reserver(mandat, ajouter_enfant(mandat, prenom="Zoé"), accueil, ("2025-11-03", "MIDI"))
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    _emettre(client, "2025-11")

    cheque = connecter(client, "cheque@example.fr")
    numero = cheque.get("/api/factures").json()[0]["numero"]
    pages = _pdf(cheque)
    texte = " ".join(pages)
    assert len(pages) == 1
    assert f"Facture n° {numero}" in texte
    assert "Période : novembre 2025" in texte
    # Each line names its child, and the accueil's label is printed whole.
    assert "03/11/2025 Léa PERISCOLAIRE – Garderie et Restauration, MIDI 1 3,05 € 3,05 €" in texte
    assert "04/11/2025 Léa PERISCOLAIRE – Garderie et Restauration, SOIR" in texte
    assert "03/11/2025 Hugo PERISCOLAIRE – Garderie et Restauration, MIDI" in texte
    assert "Régie périscolaire de Nantes" in texte
    assert "SIRET 214 401 093 00015" in texte
    assert "Reste à payer : 7,90 €" in texte
    assert "Merci de régler 7,90 € avant le 02/01/2026" in texte
    reference = numero.replace("-", "")
    assert f"payfip.gouv.fr : identifiant de la collectivité 012345, référence {reference}" in texte
    assert "par chèque à l'ordre de « Régie périscolaire de Nantes »" in texte
    assert "au guichet de la régie, 2 rue de l'Hôtel de Ville, 44000 Nantes — du lundi au vendredi" in texte
    assert "Voies et délais de recours" in texte
    assert "dans un délai de deux mois" in texte
    assert "article L1617-5 du code général des collectivités territoriales" in texte
    assert "page 1/1" in texte
    assert "prélev" not in texte

    pages = _pdf(connecter(client, "sepa@example.fr"))
    texte = " ".join(pages)
    assert "03/11/2025 Zoé" in texte
    # The due date is the debit date, as in the campaign's SEPA file.
    assert (
        "Par prélèvement SEPA : 3,05 € seront prélevés le 02/01/2026 sur le compte FR76 **** **** 0189"
        in texte
    )
    assert f"Référence unique du mandat (RUM) : {rum}" in texte
    assert "identifiant créancier SEPA (ICS) : FR72ZZZ123456" in texte
    assert "à l'ordre de" not in texte
    assert "page 1/1" in texte


def test_l_avoir_cite_la_facture_qu_il_corrige(client, horloge) -> None:
    accueil = _commune(client, horloge)
    parent = nouvelle_famille(client, "avoir@example.fr")
    lea = ajouter_enfant(parent, prenom="Léa")
    reserver(parent, lea, accueil, ("2025-11-03", "MIDI"), ("2025-11-06", "MIDI"))
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    campagne = _emettre(client, "2025-11")
    # A strike day closed after issue: the corrective campaign gives a credit note.
    horloge.maintenant = datetime(2025, 12, 10, 9, 0, tzinfo=UTC)
    admin = connecter(client, "admin@mairie.fr", "Motdepasse-2026")
    admin.post(f"/api/admin/accueils/{accueil}/fermetures", json={"date": "2025-11-06", "motif": "Grève"})
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    correction = regie.post(f"/api/regie/campagnes/{campagne}/correction", json={}).json()
    assert correction["totaux"]["montant_cents"] == -305
    assert regie.post(f"/api/regie/campagnes/{correction['id']}/emission").status_code == 200

    texte = " ".join(_pdf(connecter(client, "avoir@example.fr"), "F2025-000002"))
    assert "Avoir n° F2025-000002" in texte
    assert "Avoir sur la facture n° F2025-000001 du 02/12/2025." in texte
    assert "Motif : régularisation de novembre 2025" in texte
    assert "06/11/2025 Léa PERISCOLAIRE – Garderie et Restauration, MIDI -1 3,05 € -3,05 €" in texte
    assert "Montant de l'avoir : -3,05 €" in texte
    assert "Comment payer" not in texte
    assert "Voies et délais de recours" in texte
    # The invoice corrected cites nothing.
    assert "Avoir sur" not in " ".join(_pdf(connecter(client, "avoir@example.fr"), "F2025-000001"))


def test_apres_effacement_la_facture_s_imprime_sans_prenom(client, horloge) -> None:
    accueil = _commune(client, horloge)
    parent = nouvelle_famille(client, "efface@example.fr")
    reserver(parent, ajouter_enfant(parent, prenom="Léa"), accueil, ("2025-11-03", "MIDI"))
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    _emettre(client, "2025-11")
    facture_id = UUID(connecter(client, "efface@example.fr").get("/api/factures").json()[0]["id"])
    # Paid first: a family that still owes money is not erased.
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    paiement = {"famille_id": parent.famille_id, "montant_cents": 305, "mode": "cheque"}
    assert regie.post("/api/regie/reglements", json=paiement).status_code == 201
    admin = connecter(client, "admin@mairie.fr", "Motdepasse-2026")
    assert admin.delete(f"/api/admin/familles/{parent.famille_id}").status_code == 204

    # The régie may still print what it issued: the names are gone, the lines stay.
    imprimee = facture_imprimee(client.app.state.services.facturation, facture_id, 305)
    texte = " ".join(texte_pdf(facture_pdf(imprimee)))
    assert "03/11/2025 Enfant PERISCOLAIRE – Garderie et Restauration, MIDI" in texte
    assert "Léa" not in texte
    assert "Martin" not in texte
    assert "prélev" not in texte


def test_parametres_de_la_regie_pour_la_facture(client) -> None:
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    commune = {"nom": "Nantes", "code_postal": "44000"}
    lus = admin.put("/api/admin/parametres", json={"commune": commune, "regie": REGIE}).json()["regie"]
    assert lus["siret"] == "21440109300015"
    assert (lus["adresse"], lus["horaires"], lus["ordre_cheques"], lus["payfip_client"]) == (
        REGIE["adresse"],
        REGIE["horaires"],
        REGIE["ordre_cheques"],
        "012345",
    )
    assert admin.get("/api/admin/parametres").json()["regie"] == lus
    # Without them the régie is as before: they are optional.
    minimale = {k: REGIE[k] for k in ("nom", "prefixe_factures", "ics", "iban")}
    lus = admin.put("/api/admin/parametres", json={"commune": commune, "regie": minimale}).json()["regie"]
    assert lus["siret"] is None and lus["payfip_client"] is None

    for siret, message in (
        ("21440109300016", "le SIRET n'est pas valide (clé de contrôle de Luhn)"),
        ("2144010930001", "le SIRET doit comporter 14 chiffres"),
        ("2144010930001A", "le SIRET doit comporter 14 chiffres"),
    ):
        reponse = admin.put(
            "/api/admin/parametres", json={"commune": commune, "regie": {**REGIE, "siret": siret}}
        )
        assert reponse.status_code == 422
        assert reponse.headers["content-type"].startswith("application/problem+json")
        assert {"champ": "regie.siret", "message": message} in reponse.json()["erreurs"]
    reponse = admin.put(
        "/api/admin/parametres",
        json={"commune": commune, "regie": {**REGIE, "payfip_client": "12AB", "ordre_cheques": " "}},
    )
    assert reponse.status_code == 422
    assert [e["champ"] for e in reponse.json()["erreurs"]] == ["regie.payfip_client"]
