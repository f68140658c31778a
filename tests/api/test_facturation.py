"""Billing through HTTP: tariffs, a monthly campaign, issue, parents' invoices, replay and
corrective campaigns."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime

import pypdf

from outils_http import compte_personnel, connecter, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, reserver

GRILLES = {
    "valable_du": "2025-09-01",
    "grilles": [
        {
            "unite": "MIDI",
            "residence": "tous",
            "mode": "tranches_qf",
            "tranches": [
                {"qf_min": 0, "qf_max": 600, "prix_cents": 100},
                {"qf_min": 600, "qf_max": 1000, "prix_cents": 305},
                {"qf_min": 1000, "qf_max": 1500, "prix_cents": 310},
                {"qf_min": 1500, "qf_max": None, "prix_cents": 315},
            ],
            "fratrie": [{"rang": 3, "reduction_pourcent": 50}],
            "min_cents": 100,
        },
        {"unite": "MATIN", "residence": "tous", "mode": "forfait", "prix_cents": 120},
        {
            "unite": "SOIR",
            "residence": "tous",
            "mode": "taux_effort",
            "taux_pourcent": "0.36",
            "min_cents": 260,
            "max_cents": 450,
        },
    ],
}
PERIODE = {"libelle": "2025-2026", "debut": "2025-09-01", "fin": "2026-07-04"}


def _commune(client, horloge):
    horloge.maintenant = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    admin.put(
        "/api/admin/parametres",
        json={"commune": {"nom": "Nantes", "code_postal": "44000"}, "seuil_facturation_cents": 0},
    )
    accueil = creer_accueil(admin, periode=PERIODE, zone_scolaire=None, hors_vacances_scolaires=False)
    reponse = regie.put(f"/api/admin/accueils/{accueil}/tarifs", json=GRILLES)
    assert reponse.status_code == 200, reponse.text
    return admin, regie, accueil


def test_grille_avec_un_trou_refusee(client, horloge) -> None:
    _admin, regie, accueil = _commune(client, horloge)
    trou = {
        "valable_du": "2026-01-01",
        "grilles": [
            {
                "unite": "MIDI",
                "residence": "exterieur",
                "mode": "demi_heure",
                "tranches": [
                    {"qf_min": 0, "qf_max": 800, "prix_cents": 195},
                    {"qf_min": 860, "qf_max": 1500, "prix_cents": 200},
                    {"qf_min": 1500, "qf_max": None, "prix_cents": 205},
                ],
            }
        ],
    }
    reponse = regie.put(f"/api/admin/accueils/{accueil}/tarifs", json=trou)
    assert reponse.status_code == 422
    assert reponse.json()["erreurs"][0]["champ"] == "grilles[0].tranches"
    inconnue = {
        "valable_du": "2026-01-01",
        "grilles": [{"unite": "GOUTER", "residence": "tous", "mode": "forfait", "prix_cents": 50}],
    }
    assert regie.put(f"/api/admin/accueils/{accueil}/tarifs", json=inconnue).status_code == 422


def test_campagne_emission_factures_parents_rejeu_et_correction(client, horloge) -> None:
    _admin, regie, accueil = _commune(client, horloge)
    parent = nouvelle_famille(client, "famille@example.fr")
    regie.put(
        f"/api/regie/familles/{parent.famille_id}/quotient-familial",
        json={"valeur": 742, "valable_du": "2025-09-01", "source": "caf"},
    )
    enfants = [
        ajouter_enfant(parent, prenom=p, naissance=n)
        for p, n in (("Aîné", "2014-01-01"), ("Cadet", "2016-01-01"), ("Benjamin", "2018-01-01"))
    ]
    for enfant in enfants:
        reserver(
            parent, enfant, accueil, ("2025-11-03", "MIDI"), ("2025-11-04", "MIDI"), ("2025-11-04", "SOIR")
        )
    reserver(parent, enfants[0], accueil, ("2025-11-06", "MATIN"))

    campagne = regie.post("/api/regie/campagnes", json={"periode": "2025-11"})
    assert campagne.status_code == 201, campagne.text
    c = campagne.json()
    # MIDI: 2 × (3,05 + 3,05 + 1,53 for the third child); SOIR: 0,36 % × 742 = 2,67 € each; MATIN 1,20.
    attendu = 2 * (305 + 305 + 153) + 3 * 267 + 120
    assert c["totaux"] == {"familles": 1, "lignes": 10, "montant_cents": attendu}
    assert c["statut"] == "brouillon"
    lignes = regie.get(
        f"/api/regie/campagnes/{c['id']}/lignes", params={"famille_id": parent.famille_id}
    ).json()["lignes"]
    assert sum(ligne["montant_cents"] for ligne in lignes) == attendu
    soir = next(ligne for ligne in lignes if ligne["unite"] == "SOIR")
    assert "taux d'effort 0.36 % × QF 742 €" in soir["explication"]
    assert "QF 742 € (caf, depuis le 01/09/2025)" in soir["explication"]

    # Replay at the campaign's position gives the same digest, whatever happened since.
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    emission = regie.post(f"/api/regie/campagnes/{c['id']}/emission").json()
    assert emission == {
        "factures": 1,
        "premier_numero": "F2025-000001",
        "dernier_numero": "F2025-000001",
        "reportees": 0,
    }
    assert regie.post(f"/api/regie/campagnes/{c['id']}/emission").status_code == 422
    rejeu = regie.post("/api/regie/rejeu", json={"periode": "2025-11", "jusqu_a": c["position"]}).json()
    assert rejeu["empreinte"] == c["empreinte"]
    assert rejeu["totaux"]["montant_cents"] == attendu

    parent = connecter(client, "famille@example.fr")
    factures = parent.get("/api/factures").json()
    assert [
        (f["numero"], f["periode"], f["montant_cents"], f["reste_a_payer_cents"], f["statut"])
        for f in factures
    ] == [("F2025-000001", "2025-11", attendu, attendu, "a_payer")]
    detail = parent.get(f"/api/factures/{factures[0]['id']}").json()
    assert len(detail["lignes"]) == 10
    assert detail["echeance"] == "2026-01-01"
    autre = nouvelle_famille(client, "autre@example.fr")
    assert autre.get(f"/api/factures/{factures[0]['id']}").status_code == 404
    assert autre.get(f"/api/factures/{factures[0]['id']}/pdf").status_code == 404
    pdf = parent.get(f"/api/factures/{factures[0]['id']}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    texte = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    texte = texte.replace("\xa0", " ").replace("\u202f", " ")
    assert "Facture n° F2025-000001" in texte
    assert "Mme Claire Martin" in texte
    assert "3,05 €" in texte
    assert "taux d'effort 0.36 % × QF 742 €" in texte
    assert f"Total de la facture : {attendu // 100},{attendu % 100:02d} €".replace(",", ",") in texte.replace(
        "\u202f", " "
    ).replace("\xa0", " ")

    # A backdated QF never rewrites the issued invoice: a corrective campaign carries the difference.
    regie.put(
        f"/api/regie/familles/{parent.famille_id}/quotient-familial",
        json={"valeur": 1200, "valable_du": "2025-11-01", "source": "attestation"},
    )
    correction = regie.post(f"/api/regie/campagnes/{c['id']}/correction", json={})
    assert correction.status_code == 201, correction.text
    corr = correction.json()
    assert corr["campagne_origine"] == c["id"]
    frais = regie.post("/api/regie/rejeu", json={"periode": "2025-11", "jusqu_a": corr["position"]}).json()
    assert attendu + corr["totaux"]["montant_cents"] == frais["totaux"]["montant_cents"]
    lignes_corr = regie.get(f"/api/regie/campagnes/{corr['id']}/lignes").json()["lignes"]
    annulations = [ligne for ligne in lignes_corr if ligne["montant_cents"] < 0]
    assert annulations
    assert all(ligne["explication"].startswith("annulation de la ligne facturée") for ligne in annulations)
    assert (
        regie.post(f"/api/regie/campagnes/{corr['id']}/emission").json()["premier_numero"] == "F2025-000002"
    )
    assert parent.get(f"/api/factures/{factures[0]['id']}").json()["montant_cents"] == attendu
    # Nothing left to correct once the difference is issued.
    encore = regie.post(f"/api/regie/campagnes/{c['id']}/correction", json={}).json()
    assert encore["totaux"]["montant_cents"] == 0


def test_numeros_sans_trou_en_emission_concurrente(client, horloge) -> None:
    _admin, regie, accueil = _commune(client, horloge)
    parents = [nouvelle_famille(client, f"f{i}@example.fr") for i in range(3)]
    for parent in parents:
        reserver(parent, ajouter_enfant(parent), accueil, ("2025-11-03", "MATIN"), ("2025-12-01", "MATIN"))
    horloge.maintenant = datetime(2025, 12, 20, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    campagnes = [
        regie.post("/api/regie/campagnes", json={"periode": p}).json()["id"] for p in ("2025-11", "2025-12")
    ]
    resultats: list[dict] = []

    def emettre(campagne_id: str) -> None:
        resultats.append(regie.post(f"/api/regie/campagnes/{campagne_id}/emission").json())

    fils = [threading.Thread(target=emettre, args=(c,)) for c in campagnes]
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    numeros = sorted(
        n for r in resultats for n in range(int(r["premier_numero"][-6:]), int(r["dernier_numero"][-6:]) + 1)
    )
    assert numeros == list(range(1, 7))


def test_reglements_solde_avoir_et_prelevement_rejete(client, horloge) -> None:
    _admin, regie, accueil = _commune(client, horloge)
    parent = nouvelle_famille(client, "paie@example.fr")
    enfant = ajouter_enfant(parent)
    reserver(
        parent, enfant, accueil, ("2025-11-03", "MATIN"), ("2025-11-04", "MATIN"), ("2025-11-06", "MATIN")
    )
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    parent = connecter(client, "paie@example.fr")
    campagne = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    regie.post(f"/api/regie/campagnes/{campagne['id']}/emission")
    assert parent.get("/api/solde").json() == {
        "solde_cents": 360,
        "factures_ouvertes": 1,
        "avoirs_disponibles_cents": 0,
    }
    paiement = regie.post(
        "/api/regie/reglements",
        json={
            "famille_id": parent.famille_id,
            "montant_cents": 200,
            "mode": "cheque",
            "reference": "CHQ 0042",
        },
    )
    assert paiement.status_code == 201
    assert paiement.json()["solde_cents"] == 160
    facture = parent.get("/api/factures").json()[0]
    assert (facture["reste_a_payer_cents"], facture["statut"]) == (160, "partiellement_payee")
    prelevement = regie.post(
        "/api/regie/reglements",
        json={"famille_id": parent.famille_id, "montant_cents": 200, "mode": "prelevement"},
    ).json()
    assert parent.get("/api/solde").json() == {
        "solde_cents": -40,
        "factures_ouvertes": 0,
        "avoirs_disponibles_cents": 40,
    }
    assert parent.get("/api/factures").json()[0]["statut"] == "payee"
    rejet = regie.post(
        f"/api/regie/reglements/{prelevement['id']}/rejet",
        json={"famille_id": parent.famille_id, "motif": "AM04 provision insuffisante"},
    )
    assert rejet.status_code == 200
    assert rejet.json()["solde_cents"] == 160
    facture = parent.get("/api/factures").json()[0]
    assert (facture["reste_a_payer_cents"], facture["statut"]) == (160, "partiellement_payee")
    # A strike day closed after issue: the corrective campaign issues a credit note, set at once
    # against what is still owed.
    horloge.maintenant = datetime(2025, 12, 3, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    parent = connecter(client, "paie@example.fr")
    admin = connecter(client, "admin@mairie.fr", "Motdepasse-2026")
    assert (
        admin.post(
            f"/api/admin/accueils/{accueil}/fermetures", json={"date": "2025-11-06", "motif": "Grève"}
        ).status_code
        == 201
    )
    correction = regie.post(f"/api/regie/campagnes/{campagne['id']}/correction", json={}).json()
    assert correction["totaux"]["montant_cents"] == -120
    regie.post(f"/api/regie/campagnes/{correction['id']}/emission")
    factures = {f["numero"]: f for f in parent.get("/api/factures").json()}
    assert factures["F2025-000002"]["statut"] == "avoir"
    assert factures["F2025-000002"]["montant_cents"] == -120
    assert factures["F2025-000001"]["reste_a_payer_cents"] == 40
    assert parent.get("/api/solde").json() == {
        "solde_cents": 40,
        "factures_ouvertes": 1,
        "avoirs_disponibles_cents": 0,
    }


def test_fichier_de_prelevement_sepa_valide_contre_le_xsd(client, horloge) -> None:
    import pathlib
    import xml.etree.ElementTree as ET

    import sepaxml
    import xmlschema

    admin, regie, accueil = _commune(client, horloge)
    admin.put(
        "/api/admin/parametres",
        json={
            "commune": {"nom": "Nantes", "code_postal": "44000"},
            "regie": {
                "nom": "Régie périscolaire de Nantes",
                "prefixe_factures": "PERI",
                "ics": "FR12ZZZ123456",
                "iban": "FR1420041010050500013M02606",
            },
        },
    )
    avec_mandat = nouvelle_famille(client, "sepa@example.fr", nom="Lefèvre")
    avec_mandat.put(
        "/api/prelevement", json={"titulaire": "Élise Lefèvre", "iban": "FR7630006000011234567890189"}
    )
    sans_mandat = nouvelle_famille(client, "cheque@example.fr")
    for parent in (avec_mandat, sans_mandat):
        reserver(parent, ajouter_enfant(parent), accueil, ("2025-11-03", "MATIN"), ("2025-11-04", "MATIN"))
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    campagne = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    assert regie.get(f"/api/regie/campagnes/{campagne['id']}/prelevements.xml").status_code == 422
    emission = regie.post(f"/api/regie/campagnes/{campagne['id']}/emission").json()
    assert emission["premier_numero"] == "PERI2025-000001"
    reponse = regie.get(f"/api/regie/campagnes/{campagne['id']}/prelevements.xml")
    assert reponse.status_code == 200
    assert reponse.headers["content-type"].startswith("application/xml")
    assert reponse.headers["x-nombre-prelevements"] == "1"
    schema = xmlschema.XMLSchema(
        str(pathlib.Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd")
    )
    schema.validate(reponse.text)
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
    racine = ET.fromstring(reponse.content)
    assert racine.find(".//p:GrpHdr/p:CtrlSum", ns).text == "2.40"
    assert racine.find(".//p:DrctDbtTx/p:MndtRltdInf/p:MndtId", ns).text.startswith("PF-")
    assert racine.find(".//p:Dbtr/p:Nm", ns).text == "Elise Lefevre"
    assert racine.find(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", ns).text == "FR12ZZZ123456"
    assert racine.find(".//p:ReqdColltnDt", ns).text == "2026-01-01"
    # The file is for staff only.
    avec_mandat = connecter(client, "sepa@example.fr")
    assert avec_mandat.get(f"/api/regie/campagnes/{campagne['id']}/prelevements.xml").status_code == 403


def test_mois_sous_le_seuil_reporte_sur_la_facture_suivante(client, horloge) -> None:
    admin, regie, accueil = _commune(client, horloge)
    admin.put(
        "/api/admin/parametres",
        json={"commune": {"nom": "Nantes", "code_postal": "44000"}, "seuil_facturation_cents": 500},
    )
    parent = nouvelle_famille(client, "seuil@example.fr")
    enfant = ajouter_enfant(parent)
    reserver(
        parent, enfant, accueil, ("2025-11-03", "MATIN"), ("2025-11-04", "MATIN"), ("2025-11-06", "MATIN")
    )
    reserver(parent, enfant, accueil, ("2025-12-01", "MATIN"), ("2025-12-02", "MATIN"))
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    novembre = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    assert regie.post(f"/api/regie/campagnes/{novembre['id']}/emission").json() == {
        "factures": 0,
        "premier_numero": None,
        "dernier_numero": None,
        "reportees": 1,
    }
    assert regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).status_code == 422
    horloge.maintenant = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    decembre = regie.post("/api/regie/campagnes", json={"periode": "2025-12"}).json()
    assert decembre["totaux"]["montant_cents"] == 240
    emission = regie.post(f"/api/regie/campagnes/{decembre['id']}/emission").json()
    assert emission["factures"] == 1
    parent = connecter(client, "seuil@example.fr")
    facture = parent.get("/api/factures").json()[0]
    assert facture["montant_cents"] == 600  # December's 2,40 € and November's 3,60 € carried over
    jours = sorted(ligne["date"] for ligne in parent.get(f"/api/factures/{facture['id']}").json()["lignes"])
    assert jours == ["2025-11-03", "2025-11-04", "2025-11-06", "2025-12-01", "2025-12-02"]
    # Once carried, November is issued: a correction finds nothing to change.
    correction = regie.post(f"/api/regie/campagnes/{novembre['id']}/correction", json={}).json()
    assert correction["totaux"]["montant_cents"] == 0


def test_paiement_par_carte_avec_le_prestataire_de_test(client, horloge) -> None:
    _admin, regie, accueil = _commune(client, horloge)
    parent = nouvelle_famille(client, "carte@example.fr")
    reserver(parent, ajouter_enfant(parent), accueil, ("2025-11-03", "MATIN"))
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    parent = connecter(client, "carte@example.fr")
    campagne = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    regie.post(f"/api/regie/campagnes/{campagne['id']}/emission")
    facture = parent.get("/api/factures").json()[0]
    session = parent.post(f"/api/factures/{facture['id']}/paiement").json()
    assert session["montant_cents"] == 120
    refusee = client.post(
        f"/api/paiements/test/{session['session_id']}/carte", json={"numero": "4000 0000 0000 0002"}
    )
    assert refusee.json() == {"paye": False}
    assert client.post("/api/paiements/notification", json={"session_id": session["session_id"]}).json() == {
        "paye": False
    }
    assert parent.get("/api/solde").json()["solde_cents"] == 120
    client.post(f"/api/paiements/test/{session['session_id']}/carte", json={"numero": "4970 1010 1010 1010"})
    for _ in range(2):  # a provider may notify twice
        assert client.post(
            "/api/paiements/notification", json={"session_id": session["session_id"]}
        ).json() == {"paye": True}
    assert parent.get("/api/solde").json() == {
        "solde_cents": 0,
        "factures_ouvertes": 0,
        "avoirs_disponibles_cents": 0,
    }
    assert parent.get("/api/factures").json()[0]["statut"] == "payee"
    assert parent.post(f"/api/factures/{facture['id']}/paiement").status_code == 422
    assert client.post("/api/paiements/notification", json={"session_id": "inconnue"}).status_code == 404


def test_attestation_de_frais_de_garde_enfants_de_moins_de_six_ans_hors_repas(client, horloge) -> None:
    horloge.maintenant = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    accueil = creer_accueil(
        admin,
        periode=PERIODE,
        zone_scolaire=None,
        hors_vacances_scolaires=False,
        unites=[
            {"code": "MATIN", "libelle": "Matin", "debut": "07:15", "fin": "08:20"},
            {"code": "MIDI", "libelle": "Repas", "debut": "11:45", "fin": "13:30", "repas": True},
        ],
    )
    regie.put(
        f"/api/admin/accueils/{accueil}/tarifs",
        json={
            "valable_du": "2025-09-01",
            "grilles": [
                {"unite": "MATIN", "residence": "tous", "mode": "forfait", "prix_cents": 120},
                {"unite": "MIDI", "residence": "tous", "mode": "forfait", "prix_cents": 305},
            ],
        },
    )
    parent = nouvelle_famille(client, "garde@example.fr", nom="Garde")
    petit = ajouter_enfant(parent, prenom="Petit", naissance="2020-05-01", classe="MS")
    grand = ajouter_enfant(parent, prenom="Grand", naissance="2016-05-01", classe="CE2")
    for enfant in (petit, grand):
        reserver(
            parent, enfant, accueil, ("2025-11-03", "MATIN"), ("2025-11-03", "MIDI"), ("2025-11-04", "MATIN")
        )
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    parent = connecter(client, "garde@example.fr")
    campagne = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    regie.post(f"/api/regie/campagnes/{campagne['id']}/emission")
    # Nothing paid yet: nothing to certify.
    assert parent.get("/api/attestations/frais-de-garde", params={"annee": 2025}).json()["total_cents"] == 0
    regie.post(
        "/api/regie/reglements",
        json={"famille_id": parent.famille_id, "montant_cents": 2 * (120 + 305 + 120), "mode": "cheque"},
    )
    attestation = parent.get("/api/attestations/frais-de-garde", params={"annee": 2025}).json()
    assert attestation["total_cents"] == 240  # the under-six child's two mornings; the meal is not care
    assert [(e["prenom"], e["montant_cents"]) for e in attestation["enfants"]] == [("Petit", 240)]
    pdf = parent.get("/api/attestations/frais-de-garde/pdf", params={"annee": 2025})
    texte = (
        pypdf.PdfReader(io.BytesIO(pdf.content))
        .pages[0]
        .extract_text()
        .replace("\xa0", " ")
        .replace("\u202f", " ")
    )
    assert "Attestation de frais de garde 2025" in texte
    assert "Petit Peje, né(e) le 01/05/2020" in texte
    assert "2,40 €" in texte


def test_deux_brouillons_du_meme_mois_emis_en_meme_temps_un_seul_passe(client, horloge) -> None:
    _admin, regie, accueil = _commune(client, horloge)
    parent = nouvelle_famille(client, "double@example.fr")
    reserver(parent, ajouter_enfant(parent), accueil, ("2025-11-03", "MATIN"))
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    brouillons = [
        regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()["id"] for _ in range(2)
    ]
    statuts: list[int] = []

    def emettre(campagne_id: str) -> None:
        statuts.append(regie.post(f"/api/regie/campagnes/{campagne_id}/emission").status_code)

    fils = [threading.Thread(target=emettre, args=(c,)) for c in brouillons]
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    assert sorted(statuts) == [200, 422]
    parent = connecter(client, "double@example.fr")
    assert len(parent.get("/api/factures").json()) == 1
