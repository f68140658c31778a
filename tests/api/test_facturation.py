"""Billing through HTTP: tariffs, a monthly campaign, issue, parents' invoices, replay and
corrective campaigns."""

from __future__ import annotations

import io
import threading
import xml.etree.ElementTree as ET
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


def _personnel_et_accueil(client, horloge, **accueil):
    """An administrator, a régisseur and an accueil open all year, on 20 October 2025."""
    horloge.maintenant = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    accueil_id = creer_accueil(
        admin, periode=PERIODE, zone_scolaire=None, hors_vacances_scolaires=False, **accueil
    )
    return admin, regie, accueil_id


def _commune(client, horloge):
    admin, regie, accueil = _personnel_et_accueil(client, horloge)
    admin.put(
        "/api/admin/parametres",
        json={"commune": {"nom": "Nantes", "code_postal": "44000"}, "seuil_facturation_cents": 0},
    )
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
    # Issued 2 December: 30 days later is 1 January, when TARGET2 is closed.
    assert detail["echeance"] == "2026-01-02"
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


NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
REGIE_SEPA = {
    "nom": "Régie périscolaire de Nantes",
    "prefixe_factures": "PERI",
    "ics": "FR72ZZZ123456",
    "iban": "FR1420041010050500013M02606",
}


def _pain008(reponse) -> ET.Element:
    """The file, checked against the pain.008.001.02 XSD sepaxml ships."""
    import pathlib

    import sepaxml
    import xmlschema

    assert reponse.status_code == 200, reponse.text
    assert reponse.headers["content-type"].startswith("application/xml")
    schema = xmlschema.XMLSchema(
        str(pathlib.Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd")
    )
    schema.validate(reponse.text)
    return ET.fromstring(reponse.content)


def _debits(racine: ET.Element) -> list[tuple[str, str, str, str]]:
    """(sequence type, collection date, mandate id, amount) of each debit."""
    return [
        (
            lot.find("p:PmtTpInf/p:SeqTp", NS).text,
            lot.find("p:ReqdColltnDt", NS).text,
            tx.find("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", NS).text,
            tx.find("p:InstdAmt", NS).text,
        )
        for lot in racine.iterfind(".//p:PmtInf", NS)
        for tx in lot.iterfind("p:DrctDbtTxInf", NS)
    ]


def _champs(reponse) -> list[str]:
    assert reponse.status_code == 422, reponse.text
    return [e["champ"] for e in reponse.json()["erreurs"]]


def test_fichier_de_prelevement_sepa_valide_contre_le_xsd(client, horloge) -> None:
    admin, regie, accueil = _commune(client, horloge)
    commune = {"nom": "Nantes", "code_postal": "44000"}
    # The creditor identifier is checked (mod 97, as an IBAN), and the pre-notification delay.
    for ics in ("FR00ZZZ000000", "FR12ZZZ123456", "FR72 ZZZ 1234"):
        faux = admin.put(
            "/api/admin/parametres", json={"commune": commune, "regie": {**REGIE_SEPA, "ics": ics}}
        )
        assert _champs(faux) == ["regie.ics"]
    sans_delai = {**REGIE_SEPA, "delai_prenotification_jours": 0}
    assert (
        admin.put("/api/admin/parametres", json={"commune": commune, "regie": sans_delai}).status_code == 422
    )
    reponse = admin.put(
        "/api/admin/parametres", json={"commune": commune, "regie": {**REGIE_SEPA, "ics": "fr72 zzz 123456"}}
    )
    assert reponse.status_code == 200, reponse.text
    assert reponse.json()["regie"]["ics"] == "FR72ZZZ123456"
    assert reponse.json()["regie"]["delai_prenotification_jours"] == 14
    lu = admin.get("/api/admin/parametres").json()["regie"]
    assert (lu["ics"], lu["delai_prenotification_jours"]) == ("FR72ZZZ123456", 14)

    avec_mandat = nouvelle_famille(client, "sepa@example.fr", nom="Lefèvre")
    avec_mandat.put(
        "/api/prelevement", json={"titulaire": "Élise Lefèvre", "iban": "FR7630006000011234567890189"}
    )
    sans_mandat = nouvelle_famille(client, "cheque@example.fr")
    for parent in (avec_mandat, sans_mandat):
        reserver(parent, ajouter_enfant(parent), accueil, ("2025-11-03", "MATIN"), ("2025-11-04", "MATIN"))
    # Tuesday 2 December 2025.
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    campagne = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    url = f"/api/regie/campagnes/{campagne['id']}/prelevements.xml"
    assert regie.get(url).status_code == 422
    emission = regie.post(f"/api/regie/campagnes/{campagne['id']}/emission").json()
    assert emission["premier_numero"] == "PERI2025-000001"
    reponse = regie.get(url)
    racine = _pain008(reponse)
    assert reponse.headers["x-nombre-prelevements"] == "1"
    assert racine.find(".//p:GrpHdr/p:CtrlSum", NS).text == "2.40"
    assert racine.find(".//p:Dbtr/p:Nm", NS).text == "Elise Lefevre"
    assert racine.find(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", NS).text == "FR72ZZZ123456"
    # By default on the due date, already a business day (2 January); the mandate's first debit.
    [(sequence, le, mandat, montant)] = _debits(racine)
    assert (sequence, le, montant) == ("FRST", "2026-01-02", "2.40")
    assert mandat.startswith("PF-") and mandat.endswith("-001")

    # A date chosen: a TARGET2 business day after today.
    assert _debits(_pain008(regie.get(url, params={"date": "2025-12-03"})))[0][1] == "2025-12-03"
    for trop_tot in ("2025-12-02", "2025-11-28"):
        refus = regie.get(url, params={"date": trop_tot})
        assert _champs(refus) == ["date"]
        assert "au plus tôt le 03/12/2025" in refus.json()["erreurs"][0]["message"]
    for ferme in (
        "2025-12-25",
        "2025-12-26",
        "2026-01-01",
        "2026-04-03",
        "2026-04-06",
        "2026-05-01",
        "2025-12-06",
    ):
        refus = regie.get(url, params={"date": ferme})
        assert _champs(refus) == ["date"]
        assert "n'est pas un jour ouvré TARGET2" in refus.json()["erreurs"][0]["message"]
    assert regie.get(url, params={"date": "demain"}).status_code == 400

    # The due date passed (Saturday 10 January): the first business day after today.
    horloge.maintenant = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    assert _debits(_pain008(regie.get(url)))[0][1] == "2026-01-12"
    # The file is for staff only.
    avec_mandat = connecter(client, "sepa@example.fr")
    assert avec_mandat.get(url).status_code == 403


def test_frst_rcur_selon_le_mandat_et_representation_d_un_rejet(client, horloge) -> None:
    admin, regie, accueil = _commune(client, horloge)
    admin.put(
        "/api/admin/parametres",
        json={"commune": {"nom": "Nantes", "code_postal": "44000"}, "regie": REGIE_SEPA},
    )
    parent = nouvelle_famille(client, "sepa@example.fr", nom="Lefèvre")
    parent.put("/api/prelevement", json={"titulaire": "Élise Lefèvre", "iban": "FR7630006000011234567890189"})
    famille_id = parent.famille_id
    reserver(parent, ajouter_enfant(parent), accueil, ("2025-11-03", "MATIN"), ("2025-12-01", "MATIN"))

    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    novembre = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    regie.post(f"/api/regie/campagnes/{novembre['id']}/emission")
    url_novembre = f"/api/regie/campagnes/{novembre['id']}/prelevements.xml"
    [(sequence, _, rum_1, _)] = _debits(_pain008(regie.get(url_novembre)))
    assert sequence == "FRST"
    # The bank collected it: recorded against the mandate (the family's latest by default).
    inconnu = {"famille_id": famille_id, "montant_cents": 120, "mode": "prelevement", "rum": "PF-AUTRE-001"}
    assert _champs(regie.post("/api/regie/reglements", json=inconnu)) == ["rum"]
    collecte = regie.post(
        "/api/regie/reglements", json={"famille_id": famille_id, "montant_cents": 120, "mode": "prelevement"}
    )
    assert collecte.status_code == 201, collecte.text

    # Monday 5 January 2026: December is issued, due 4 February; the mandate has been used.
    horloge.maintenant = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    decembre = regie.post("/api/regie/campagnes", json={"periode": "2025-12"}).json()
    regie.post(f"/api/regie/campagnes/{decembre['id']}/emission")
    url_decembre = f"/api/regie/campagnes/{decembre['id']}/prelevements.xml"
    assert _debits(_pain008(regie.get(url_decembre))) == [("RCUR", "2026-02-04", rum_1, "1.20")]

    # A new mandate (another account): its first debit is a FRST again.
    parent = connecter(client, "sepa@example.fr")
    parent.put("/api/prelevement", json={"titulaire": "Élise Lefèvre", "iban": "FR1420041010050500013M02606"})
    [(sequence, _, rum_2, _)] = _debits(_pain008(regie.get(url_decembre)))
    assert (sequence, rum_2[:-4]) == ("FRST", rum_1[:-4])
    assert rum_2.endswith("-002")

    # That FRST is collected, then rejected: the invoice reopens, the next debit is a FRST again.
    debit = regie.post(
        "/api/regie/reglements", json={"famille_id": famille_id, "montant_cents": 120, "mode": "prelevement"}
    ).json()
    assert regie.get(url_decembre).status_code == 422  # nothing owed
    cheque = regie.post(
        "/api/regie/reglements", json={"famille_id": famille_id, "montant_cents": 10, "mode": "cheque"}
    ).json()
    rejet = regie.post(
        f"/api/regie/reglements/{debit['id']}/rejet", json={"famille_id": famille_id, "motif": "AM04"}
    )
    assert rejet.json()["solde_cents"] == 110
    assert _debits(_pain008(regie.get(url_decembre)))[0][0] == "FRST"

    # Re-presented once, on a chosen business day after today.
    url = f"/api/regie/reglements/{debit['id']}/representation"
    for date_refusee in ("2026-01-03", "2026-01-05", "2026-01-10"):
        assert _champs(regie.post(url, json={"famille_id": famille_id, "date": date_refusee})) == ["date"]
    autre = regie.post(
        f"/api/regie/reglements/{cheque['id']}/representation", json={"famille_id": famille_id}
    )
    assert autre.status_code == 422
    assert autre.json()["detail"] == "Seul un prélèvement rejeté peut être représenté."
    assert regie.post(url, json={"famille_id": "00000000-0000-0000-0000-000000000000"}).status_code == 404
    assert regie.get(f"{url}.xml", params={"famille_id": famille_id}).status_code == 404
    representation = regie.post(url, json={"famille_id": famille_id, "date": "2026-01-20"})
    assert representation.status_code == 201, representation.text
    # What the rejected debit paid and is still owed: the cheque covers the rest.
    assert representation.json() == {
        "id": debit["id"],
        "famille_id": famille_id,
        "date": "2026-01-20",
        "montant_cents": 110,
    }
    encore = regie.post(url, json={"famille_id": famille_id, "date": "2026-01-21"})
    assert encore.status_code == 409
    assert encore.json()["detail"] == "Ce prélèvement rejeté a déjà été représenté."
    fichier = regie.get(f"{url}.xml", params={"famille_id": famille_id})
    assert (
        fichier.headers["content-disposition"] == f'attachment; filename="representation-{debit["id"]}.xml"'
    )
    racine = _pain008(fichier)
    assert _debits(racine) == [("FRST", "2026-01-20", rum_2, "1.10")]
    assert racine.find(".//p:RmtInf/p:Ustrd", NS).text == "Representation PERI2026-000001"
    # The campaign's own file no longer debits the invoice: its re-presentation does.
    assert regie.get(url_decembre).status_code == 422
    assert _champs(regie.get(f"{url}.xml", params={"famille_id": famille_id, "date": "2026-01-05"})) == [
        "date"
    ]


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
    _admin, regie, accueil = _personnel_et_accueil(
        client,
        horloge,
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


GRILLES_RONCQ = {
    "valable_du": "2025-09-01",
    "grilles": [
        {
            "unite": "MIDI",
            "residence": "tous",
            "mode": "forfait",
            "prix_cents": 305,
            "non_reserve_majoration_cents": 250,
        },
        {
            "unite": "SOIR",
            "residence": "tous",
            "mode": "demi_heure",
            "tranches": [{"qf_min": 0, "qf_max": None, "prix_cents": 85}],
            "retards": [{"apres": "18:00", "montant_cents": 100}, {"apres": "18:30", "montant_cents": 300}],
        },
    ],
}


def test_majoration_sans_reservation_et_retard_factures_et_expliques(client, horloge) -> None:
    _admin, regie, accueil = _personnel_et_accueil(
        client,
        horloge,
        unites=[
            {"code": "MIDI", "libelle": "Restauration", "debut": "11:45", "fin": "13:30"},
            {"code": "SOIR", "libelle": "Accueil du soir", "debut": "16:30", "fin": "18:00"},
        ],
    )
    # A fee from before the closing time would charge every child picked up on time.
    tot = {
        "valable_du": "2025-09-01",
        "grilles": [
            {**GRILLES_RONCQ["grilles"][0], "non_reserve_cents": 1000},
            {**GRILLES_RONCQ["grilles"][1], "retards": [{"apres": "17:45", "montant_cents": 100}]},
        ],
    }
    refus = regie.put(f"/api/admin/accueils/{accueil}/tarifs", json=tot)
    assert refus.status_code == 422
    assert [e["champ"] for e in refus.json()["erreurs"]] == ["grilles[0].non_reserve_majoration_cents"]
    tot["grilles"][0].pop("non_reserve_cents")
    refus = regie.put(f"/api/admin/accueils/{accueil}/tarifs", json=tot)
    assert refus.status_code == 422
    assert [e["champ"] for e in refus.json()["erreurs"]] == ["grilles[1].retards[0].apres"]
    reponse = regie.put(f"/api/admin/accueils/{accueil}/tarifs", json=GRILLES_RONCQ)
    assert reponse.status_code == 200, reponse.text

    parent = nouvelle_famille(client, "roncq@example.fr")
    enfant = ajouter_enfant(parent)
    reserver(parent, enfant, accueil, ("2025-11-03", "MIDI"), ("2025-11-03", "SOIR"))
    horloge.maintenant = datetime(2025, 11, 4, 19, 0, tzinfo=UTC)
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    for jour, pointages in (
        (
            "2025-11-03",
            [
                {"unite": "MIDI", "statut": "present"},
                {"unite": "SOIR", "statut": "present", "arrivee": "16:30", "depart": "18:42"},
            ],
        ),
        ("2025-11-04", [{"unite": "MIDI", "statut": "present"}]),  # not booked
    ):
        pointe = agent.post(
            "/api/agent/pointage",
            json={
                "accueil_id": accueil,
                "date": jour,
                "pointages": [{"enfant_id": enfant, **p} for p in pointages],
            },
        )
        assert pointe.status_code == 200, pointe.text

    regie = connecter(client, "regie@mairie.fr", "Motdepasse-2026")
    campagne = regie.post("/api/regie/campagnes", json={"periode": "2025-11"})
    assert campagne.status_code == 201, campagne.text
    lignes = regie.get(f"/api/regie/campagnes/{campagne.json()['id']}/lignes").json()["lignes"]
    assert sorted(
        (ligne["date"], ligne["unite"], ligne["quantite"], ligne["montant_cents"], ligne["explication"])
        for ligne in lignes
        if not ligne["explication"].split(" : ", 1)[1].startswith(("présent", "présence non réservée"))
    ) == [
        (
            "2025-11-03",
            "SOIR",
            1,
            300,
            "03/11/2025 Accueil du soir : retard, départ à 18:42 après 18:30 : 3,00 €",
        ),
        (
            "2025-11-04",
            "MIDI",
            1,
            250,
            "04/11/2025 Restauration : majoration pour présence sans réservation (2,50 €)",
        ),
    ]
    # 3,05 € + 5 half-hours (16:30–18:42) at 0,85 € + 3,00 € late; 3,05 € + 2,50 € unbooked.
    assert campagne.json()["totaux"] == {
        "familles": 1,
        "lignes": 5,
        "montant_cents": 305 + 425 + 300 + 305 + 250,
    }
