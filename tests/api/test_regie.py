"""The régie's back office through HTTP: the journal of invoices and pieces, reprints, credit notes,
write-offs and adjustments with a reason, refunds, receipts by mode and the accounting export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pypdf

from outils_http import compte_personnel, connecter, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, reserver

PERIODE = {"libelle": "2025-2026", "debut": "2025-09-01", "fin": "2026-07-04"}
MIDI = [{"code": "MIDI", "libelle": "Repas", "debut": "11:45", "fin": "13:30"}]


def _texte_pdf(reponse) -> str:
    assert reponse.status_code == 200, reponse.text
    assert reponse.headers["content-type"] == "application/pdf"
    pages = pypdf.PdfReader(io.BytesIO(reponse.content)).pages
    return "\n".join(p.extract_text() for p in pages).replace("\xa0", " ").replace("\u202f", " ")


def _commune(client, horloge, familles=("martin@example.fr",)):
    """Two accueils with their budget lines; each family's child has two mornings (1,20 € each) and
    one meal (3,05 €) in November 2025, invoiced on 2 December: 5,45 € per family."""
    horloge.maintenant = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    compte_personnel(client, "regie@mairie.fr", "regisseur")
    admin.put(
        "/api/admin/parametres",
        json={"commune": {"nom": "Nantes", "code_postal": "44000"}, "seuil_facturation_cents": 0},
    )
    garderie = creer_accueil(
        admin,
        periode=PERIODE,
        zone_scolaire=None,
        hors_vacances_scolaires=False,
        imputation_budgetaire="7066-251",
    )
    cantine = creer_accueil(
        admin,
        etablissement="RESTAURATION",
        periode=PERIODE,
        zone_scolaire=None,
        hors_vacances_scolaires=False,
        unites=MIDI,
        imputation_budgetaire="7067-252",
    )
    for accueil, unite, prix in ((garderie, "MATIN", 120), (cantine, "MIDI", 305)):
        admin.put(
            f"/api/admin/accueils/{accueil}/tarifs",
            json={
                "valable_du": "2025-09-01",
                "grilles": [{"unite": unite, "residence": "tous", "mode": "forfait", "prix_cents": prix}],
            },
        )
    parents = []
    enfants = []
    for i, email in enumerate(familles):
        parent = nouvelle_famille(client, email, nom=f"Famille{'ABC'[i]}")
        enfant = ajouter_enfant(parent)
        reserver(parent, enfant, garderie, ("2025-11-03", "MATIN"), ("2025-11-04", "MATIN"))
        reserver(parent, enfant, cantine, ("2025-11-06", "MIDI"))
        parents.append(parent)
        enfants.append(enfant)
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr")
    campagne = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    assert regie.post(f"/api/regie/campagnes/{campagne['id']}/emission").status_code == 200
    parents = [connecter(client, email) for email in familles]
    return regie, parents, enfants, campagne["id"]


def _journal(regie, **params):
    reponse = regie.get("/api/regie/factures", params=params)
    assert reponse.status_code == 200, reponse.text
    return reponse.json()


def test_journal_cherche_par_famille_enfant_numero_statut_periode_et_pagine(client, horloge) -> None:
    regie, parents, enfants, campagne_id = _commune(
        client, horloge, ("a@example.fr", "b@example.fr", "c@example.fr")
    )
    tout = _journal(regie)
    assert [f["numero"] for f in tout["factures"]] == ["F2025-000001", "F2025-000002", "F2025-000003"]
    assert tout["suivant"] is None
    premiere = tout["factures"][0]
    assert premiere["nature"] == "facture"
    assert premiere["campagne_id"] == campagne_id
    assert (premiere["montant_cents"], premiere["reste_a_payer_cents"], premiere["statut"]) == (
        545,
        545,
        "a_payer",
    )
    assert {f["payeur"] for f in tout["factures"]} == {
        "FamilleA Claire",
        "FamilleB Claire",
        "FamilleC Claire",
    }

    # Two pages of two, then one: by number, `suivant` is the cursor.
    page = _journal(regie, limite=2)
    assert [f["numero"] for f in page["factures"]] == ["F2025-000001", "F2025-000002"]
    assert page["suivant"] == "F2025-000002"
    suite = _journal(regie, limite=2, apres=page["suivant"])
    assert [f["numero"] for f in suite["factures"]] == ["F2025-000003"]
    assert suite["suivant"] is None

    famille_b = parents[1].famille_id
    assert [f["famille_id"] for f in _journal(regie, famille_id=famille_b)["factures"]] == [famille_b]
    assert [f["famille_id"] for f in _journal(regie, enfant_id=enfants[2])["factures"]] == [
        parents[2].famille_id
    ]
    assert [f["numero"] for f in _journal(regie, numero="F2025-000002")["factures"]] == ["F2025-000002"]
    assert len(_journal(regie, numero="F2025-00")["factures"]) == 3
    assert _journal(regie, numero="F2026")["factures"] == []
    assert len(_journal(regie, periode="2025-11")["factures"]) == 3
    assert _journal(regie, periode="2025-10")["factures"] == []

    regie.post(
        "/api/regie/reglements",
        json={"famille_id": famille_b, "montant_cents": 545, "mode": "cheque"},
    )
    numero_b = _journal(regie, famille_id=famille_b)["factures"][0]["numero"]
    assert [f["numero"] for f in _journal(regie, statut="payee")["factures"]] == [numero_b]
    assert len(_journal(regie, statut="a_payer")["factures"]) == 2
    assert regie.get("/api/regie/factures", params={"statut": "inconnu"}).status_code == 400
    assert regie.get("/api/regie/factures", params={"periode": "2025-13"}).status_code == 400

    # Staff only: a parent, an agent are refused.
    assert parents[0].get("/api/regie/factures").status_code == 403
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    assert agent.get("/api/regie/factures").status_code == 403
    admin = connecter(client, "admin@mairie.fr")
    assert len(_journal(admin)["factures"]) == 3


def test_la_regie_reimprime_le_pdf_qu_a_la_famille(client, horloge) -> None:
    regie, (parent,), _, _ = _commune(client, horloge)
    facture = parent.get("/api/factures").json()[0]
    pour_la_regie = _texte_pdf(regie.get(f"/api/regie/factures/{facture['id']}/pdf"))
    assert pour_la_regie == _texte_pdf(parent.get(f"/api/factures/{facture['id']}/pdf"))
    assert "Facture n° F2025-000001" in pour_la_regie
    assert "Mme Claire FamilleA" in pour_la_regie
    inconnue = regie.get("/api/regie/factures/00000000-0000-0000-0000-000000000000/pdf")
    assert inconnue.status_code == 404
    assert inconnue.headers["content-type"].startswith("application/problem+json")
    assert parent.get(f"/api/regie/factures/{facture['id']}/pdf").status_code == 403


def _ajuster(regie, famille_id, **corps):
    return regie.post(f"/api/regie/familles/{famille_id}/ajustements", json=corps)


def test_avoirs_manuels_numerotes_citant_leur_facture(client, horloge) -> None:
    regie, (parent, autre), _, _ = _commune(client, horloge, ("a@example.fr", "b@example.fr"))
    facture = parent.get("/api/factures").json()[0]
    geste = _ajuster(
        regie,
        parent.famille_id,
        nature="geste_commercial",
        montant_cents=145,
        facture_id=facture["id"],
        motif="Accueil du matin fermé sans prévenir",
    )
    assert geste.status_code == 201, geste.text
    assert geste.json()["numero"] == "F2025-000003"  # the invoice series: F2025-000001 and 2 were issued
    assert geste.json()["solde_cents"] == 400
    greve = _ajuster(
        regie,
        parent.famille_id,
        nature="greve",
        montant_cents=120,
        facture_id=facture["id"],
        motif="Grève du 4 novembre",
    ).json()
    assert (greve["numero"], greve["solde_cents"]) == ("F2025-000004", 280)

    pieces = {f["numero"]: f for f in _journal(regie, famille_id=parent.famille_id)["factures"]}
    assert (pieces[facture["numero"]]["reste_a_payer_cents"], pieces[facture["numero"]]["statut"]) == (
        280,
        "partiellement_payee",
    )
    avoir = pieces["F2025-000003"]
    assert (avoir["nature"], avoir["statut"], avoir["montant_cents"], avoir["facture_origine"]) == (
        "geste_commercial",
        "avoir",
        -145,
        facture["id"],
    )
    assert avoir["periode"] == "2025-11"
    assert [f["numero"] for f in _journal(regie, nature="greve")["factures"]] == ["F2025-000004"]
    assert parent.get("/api/solde").json()["solde_cents"] == 280
    # The family's invoice list keeps to invoices; the credit notes show in its balance.
    assert [f["numero"] for f in parent.get("/api/factures").json()] == [facture["numero"]]
    texte = _texte_pdf(regie.get(f"/api/regie/factures/{avoir['id']}/pdf"))
    assert "Avoir n° F2025-000003" in texte
    assert f"Se rapporte à la facture n° {facture['numero']}" in texte
    assert "-1,45 €" in texte

    # The reason is the audit reason too.
    admin = connecter(client, "admin@mairie.fr")
    evenements = admin.get(
        "/api/audit/evenements",
        params={"famille_id": parent.famille_id, "type": "Encours.AjustementEnregistre"},
    ).json()["evenements"]
    assert [(e["motif"], e["acteur"]["role"]) for e in evenements] == [
        ("Accueil du matin fermé sans prévenir", "regisseur"),
        ("Grève du 4 novembre", "regisseur"),
    ]
    assert evenements[0]["donnees"]["motif"] == "Accueil du matin fermé sans prévenir"

    # Beyond what the invoice billed (5,45 €, 2,65 € already credited): refused, nothing recorded.
    trop = _ajuster(
        regie,
        parent.famille_id,
        nature="geste_commercial",
        montant_cents=281,
        facture_id=facture["id"],
        motif="x",
    )
    assert trop.status_code == 409
    assert trop.headers["content-type"].startswith("application/problem+json")
    assert "2,80 €" in trop.json()["detail"]
    sans_facture = _ajuster(regie, parent.famille_id, nature="greve", montant_cents=100, motif="Grève")
    assert sans_facture.status_code == 422
    assert sans_facture.json()["erreurs"][0]["champ"] == "facture_id"
    sans_motif = _ajuster(
        regie, parent.famille_id, nature="greve", montant_cents=100, facture_id=facture["id"], motif="  "
    )
    assert sans_motif.status_code == 422
    assert sans_motif.json()["erreurs"][0]["champ"] == "motif"
    facture_autre = autre.get("/api/factures").json()[0]["id"]
    assert (
        _ajuster(
            regie, parent.famille_id, nature="greve", montant_cents=100, facture_id=facture_autre, motif="x"
        ).status_code
        == 404
    )
    inconnue = "00000000-0000-0000-0000-000000000000"
    assert (
        _ajuster(
            regie, inconnue, nature="greve", montant_cents=100, facture_id=facture["id"], motif="x"
        ).status_code
        == 404
    )
    # A credit note cannot cite a credit note.
    assert (
        _ajuster(
            regie, parent.famille_id, nature="greve", montant_cents=1, facture_id=avoir["id"], motif="x"
        ).status_code
        == 404
    )
    assert (
        _ajuster(
            parent, parent.famille_id, nature="greve", montant_cents=1, facture_id=facture["id"], motif="x"
        ).status_code
        == 403
    )
    # No number was lost to the refusals.
    suivant = _ajuster(
        regie,
        autre.famille_id,
        nature="geste_commercial",
        montant_cents=5,
        facture_id=facture_autre,
        motif="x",
    ).json()
    assert suivant["numero"] == "F2025-000005"


def test_admission_en_non_valeur_et_ajustement_positif(client, horloge) -> None:
    regie, (parent,), _, _ = _commune(client, horloge)
    facture = parent.get("/api/factures").json()[0]
    regie.post(
        "/api/regie/reglements",
        json={"famille_id": parent.famille_id, "montant_cents": 45, "mode": "especes"},
    )
    trop = _ajuster(
        regie,
        parent.famille_id,
        nature="admission_en_non_valeur",
        montant_cents=501,
        facture_id=facture["id"],
        motif="Délibération 2025-112",
    )
    assert trop.status_code == 409
    assert "5,00 €" in trop.json()["detail"]
    nv = _ajuster(
        regie,
        parent.famille_id,
        nature="admission_en_non_valeur",
        montant_cents=500,
        facture_id=facture["id"],
        motif="Délibération 2025-112",
    )
    assert nv.status_code == 201, nv.text
    assert (nv.json()["numero"], nv.json()["solde_cents"]) == ("ANV2025-000001", 0)
    journal = {f["numero"]: f for f in _journal(regie)["factures"]}
    assert (journal["F2025-000001"]["reste_a_payer_cents"], journal["F2025-000001"]["statut"]) == (
        0,
        "admise_en_non_valeur",
    )
    assert (journal["ANV2025-000001"]["nature"], journal["ANV2025-000001"]["montant_cents"]) == (
        "admission_en_non_valeur",
        -500,
    )
    assert [f["numero"] for f in _journal(regie, statut="admise_en_non_valeur")["factures"]] == [
        "F2025-000001"
    ]
    assert parent.get("/api/solde").json() == {
        "solde_cents": 0,
        "factures_ouvertes": 0,
        "avoirs_disponibles_cents": 0,
    }

    # An amount owed outside any campaign: numbered as an invoice, paid like one.
    positif = _ajuster(
        regie, parent.famille_id, nature="ajustement_positif", montant_cents=1500, motif="Badge perdu"
    )
    assert positif.status_code == 201, positif.text
    assert (positif.json()["numero"], positif.json()["solde_cents"]) == ("F2025-000002", 1500)
    piece = _journal(regie, numero="F2025-000002")["factures"][0]
    assert (piece["nature"], piece["statut"], piece["echeance"], piece["periode"]) == (
        "ajustement_positif",
        "a_payer",
        "2026-01-01",
        "2025-12",
    )
    assert "Facture n° F2025-000002" in _texte_pdf(regie.get(f"/api/regie/factures/{piece['id']}/pdf"))
    regie.post(
        "/api/regie/reglements",
        json={"famille_id": parent.famille_id, "montant_cents": 1000, "mode": "cheque"},
    )
    piece = _journal(regie, numero="F2025-000002")["factures"][0]
    assert (piece["reste_a_payer_cents"], piece["statut"]) == (500, "partiellement_payee")
    assert parent.get("/api/solde").json()["factures_ouvertes"] == 1


def test_remboursement_du_credit_refuse_au_dela(client, horloge) -> None:
    regie, (parent,), _, _ = _commune(client, horloge)
    regie.post(
        "/api/regie/reglements",
        json={"famille_id": parent.famille_id, "montant_cents": 1000, "mode": "cheque"},
    )
    assert parent.get("/api/solde").json()["avoirs_disponibles_cents"] == 455
    url = f"/api/regie/familles/{parent.famille_id}/remboursements"
    trop = regie.post(url, json={"montant_cents": 456, "mode": "virement", "reference": "VIR 12"})
    assert trop.status_code == 409
    assert trop.headers["content-type"].startswith("application/problem+json")
    assert trop.json()["type"].endswith("/conflit")
    assert trop.json()["detail"] == "Le remboursement (4,56 €) dépasse le crédit de la famille (4,55 €)."
    fait = regie.post(url, json={"montant_cents": 455, "mode": "virement", "reference": "VIR 12"})
    assert fait.status_code == 201, fait.text
    assert fait.json()["solde_cents"] == 0
    assert parent.get("/api/solde").json()["avoirs_disponibles_cents"] == 0
    assert regie.post(url, json={"montant_cents": 1, "mode": "virement"}).status_code == 409
    assert regie.post(url, json={"montant_cents": 1, "mode": "carte"}).status_code == 422
    inconnue = "/api/regie/familles/00000000-0000-0000-0000-000000000000/remboursements"
    assert regie.post(inconnue, json={"montant_cents": 1, "mode": "virement"}).status_code == 404
    assert parent.post(url, json={"montant_cents": 1, "mode": "virement"}).status_code == 403


def test_encaissements_par_mode_et_bordereau_de_cheques(client, horloge) -> None:
    regie, (a, b), _, _ = _commune(client, horloge, ("a@example.fr", "b@example.fr"))
    for famille, montant, mode, reference in (
        (a, 545, "cheque", "CHQ 0042"),
        (b, 300, "cheque", "CHQ 7781"),
        (b, 245, "especes", None),
    ):
        regie.post(
            "/api/regie/reglements",
            json={
                "famille_id": famille.famille_id,
                "montant_cents": montant,
                "mode": mode,
                "reference": reference,
            },
        )
    horloge.maintenant = datetime(2025, 12, 3, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr")
    regie.post(
        "/api/regie/reglements",
        json={"famille_id": a.famille_id, "montant_cents": 100, "mode": "cheque", "reference": "CHQ 0043"},
    )
    jour = regie.get("/api/regie/encaissements", params={"du": "2025-12-02", "au": "2025-12-02"})
    assert jour.status_code == 200, jour.text
    corps = jour.json()
    assert corps["totaux"] == [
        {"mode": "cheque", "nombre": 2, "montant_cents": 845},
        {"mode": "especes", "nombre": 1, "montant_cents": 245},
    ]
    assert corps["total_cents"] == 1090
    assert [
        (r["date"], r["payeur"], r["montant_cents"], r["mode"], r["reference"]) for r in corps["reglements"]
    ] == [
        ("2025-12-02", "FamilleA Claire", 545, "cheque", "CHQ 0042"),
        ("2025-12-02", "FamilleB Claire", 300, "cheque", "CHQ 7781"),
        ("2025-12-02", "FamilleB Claire", 245, "especes", None),
    ]
    cheques = regie.get(
        "/api/regie/encaissements", params={"du": "2025-12-01", "au": "2025-12-31", "mode": "cheque"}
    ).json()
    assert [r["reference"] for r in cheques["reglements"]] == ["CHQ 0042", "CHQ 7781", "CHQ 0043"]
    assert cheques["total_cents"] == 945
    texte = _texte_pdf(
        regie.get("/api/regie/encaissements/bordereau.pdf", params={"du": "2025-12-01", "au": "2025-12-31"})
    )
    assert "Bordereau de remise de chèques" in texte
    assert "CHQ 7781" in texte
    assert "3 règlement(s) — total : 9,45 €" in texte
    assert (
        regie.get("/api/regie/encaissements", params={"du": "2025-12-31", "au": "2025-12-01"}).status_code
        == 422
    )
    assert regie.get("/api/regie/encaissements", params={"du": "2025-12-01"}).status_code == 400
    a = connecter(client, "a@example.fr")
    assert (
        a.get("/api/regie/encaissements", params={"du": "2025-12-01", "au": "2025-12-31"}).status_code == 403
    )


def _export(regie, du="2025-01-01", au="2026-12-31"):
    reponse = regie.get("/api/regie/export-comptable.csv", params={"du": du, "au": au})
    assert reponse.status_code == 200, reponse.text
    assert reponse.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(reponse.text), delimiter=";"))


def test_export_comptable_par_imputation_protege_contre_les_formules(client, horloge) -> None:
    regie, (a, b), _, campagne_id = _commune(client, horloge, ("a@example.fr", "b@example.fr"))
    facture_a = a.get("/api/factures").json()[0]
    facture_b = b.get("/api/factures").json()[0]
    regie.post(
        "/api/regie/reglements",
        json={
            "famille_id": a.famille_id,
            "montant_cents": 1000,
            "mode": "cheque",
            "reference": "=HYPERLINK(1)",
        },
    )
    prelevement = regie.post(
        "/api/regie/reglements",
        json={"famille_id": b.famille_id, "montant_cents": 545, "mode": "prelevement"},
    ).json()
    regie.post(
        f"/api/regie/reglements/{prelevement['id']}/rejet",
        json={"famille_id": b.famille_id, "motif": "AM04"},
    )
    _ajuster(
        regie,
        b.famille_id,
        nature="greve",
        montant_cents=305,
        facture_id=facture_b["id"],
        motif="Grève",
    )
    regie.post(
        f"/api/regie/familles/{a.famille_id}/remboursements",
        json={"montant_cents": 455, "mode": "virement", "reference": "-VIR-1"},
    )
    lignes = _export(regie)
    assert list(lignes[0]) == [
        "date",
        "numero_piece",
        "type",
        "famille_id",
        "payeur",
        "montant_cents",
        "mode",
        "imputation_budgetaire",
        "campagne_id",
        "piece_origine",
        "reference",
    ]
    facture = [x for x in lignes if x["numero_piece"] == facture_a["numero"]]
    assert [(x["type"], x["montant_cents"], x["imputation_budgetaire"]) for x in facture] == [
        ("facture", "240", "7066-251"),
        ("facture", "305", "7067-252"),
    ]
    assert {x["campagne_id"] for x in facture} == {campagne_id}
    assert {x["payeur"] for x in facture} == {"FamilleA Claire"}
    par_type = {}
    for x in lignes:
        par_type.setdefault(x["type"], []).append(x)
    assert set(par_type) == {"facture", "avoir", "reglement", "rejet", "remboursement"}
    (avoir,) = par_type["avoir"]
    assert (avoir["montant_cents"], avoir["imputation_budgetaire"], avoir["piece_origine"]) == (
        "-305",
        "",
        facture_b["numero"],
    )
    assert avoir["campagne_id"] == campagne_id
    cheque = next(x for x in par_type["reglement"] if x["mode"] == "cheque")
    assert (cheque["montant_cents"], cheque["reference"]) == ("-1000", "'=HYPERLINK(1)")
    (rejet,) = par_type["rejet"]
    assert (rejet["montant_cents"], rejet["piece_origine"]) == ("545", prelevement["id"])
    (remboursement,) = par_type["remboursement"]
    assert (remboursement["montant_cents"], remboursement["mode"], remboursement["reference"]) == (
        "455",
        "virement",
        "'-VIR-1",
    )
    # Each family's entries add up to its balance.
    for parent in (a, b):
        total = sum(int(x["montant_cents"]) for x in lignes if x["famille_id"] == parent.famille_id)
        assert total == parent.get("/api/solde").json()["solde_cents"]
    assert _export(regie, "2025-12-03", "2025-12-31") == []
    assert (
        regie.get(
            "/api/regie/export-comptable.csv", params={"du": "2026-01-02", "au": "2026-01-01"}
        ).status_code
        == 422
    )
    assert (
        a.get("/api/regie/export-comptable.csv", params={"du": "2025-01-01", "au": "2025-12-31"}).status_code
        == 403
    )

    # An erased family: its entries stay, its name and references are gone.
    admin = connecter(client, "admin@mairie.fr")
    assert admin.delete(f"/api/admin/familles/{a.famille_id}").status_code in {200, 204}
    apres = [x for x in _export(regie) if x["famille_id"] == a.famille_id]
    assert len(apres) == len([x for x in lignes if x["famille_id"] == a.famille_id])
    assert {x["payeur"] for x in apres} == {""}
    assert {x["reference"] for x in apres} == {""}
    assert _journal(regie, famille_id=a.famille_id)["factures"][0]["payeur"] is None
    # Its ledger can no longer take a reason: a debt is written off before the erasure.
    assert (
        _ajuster(
            regie, a.famille_id, nature="ajustement_positif", montant_cents=100, motif="Après effacement"
        ).status_code
        == 422
    )
    # Its invoice can still be reprinted, without a recipient.
    assert f"Facture n° {facture_a['numero']}" in _texte_pdf(
        regie.get(f"/api/regie/factures/{facture_a['id']}/pdf")
    )


def test_la_reconstruction_des_vues_redonne_le_journal_et_l_export(client, horloge) -> None:
    regie, (a, b), _, _ = _commune(client, horloge, ("a@example.fr", "b@example.fr"))
    facture_a = a.get("/api/factures").json()[0]["id"]
    _ajuster(
        regie, a.famille_id, nature="geste_commercial", montant_cents=45, facture_id=facture_a, motif="Geste"
    )
    _ajuster(
        regie,
        a.famille_id,
        nature="admission_en_non_valeur",
        montant_cents=500,
        facture_id=facture_a,
        motif="ANV",
    )
    _ajuster(regie, b.famille_id, nature="ajustement_positif", montant_cents=700, motif="Rappel")
    regie.post(
        "/api/regie/reglements",
        json={"famille_id": b.famille_id, "montant_cents": 2000, "mode": "cheque", "reference": "CHQ 1"},
    )
    regie.post(
        f"/api/regie/familles/{b.famille_id}/remboursements", json={"montant_cents": 755, "mode": "cheque"}
    )
    admin = connecter(client, "admin@mairie.fr")
    admin.delete(f"/api/admin/familles/{b.famille_id}")
    journal, export = _journal(regie), _export(regie)
    encaissements = regie.get(
        "/api/regie/encaissements", params={"du": "2025-12-01", "au": "2025-12-31"}
    ).json()
    projecteur = client.app.state.services.projecteur
    projecteur.reconstruire()
    assert _journal(regie) == journal
    assert _export(regie) == export
    assert regie.get("/api/regie/encaissements", params={"du": "2025-12-01", "au": "2025-12-31"}).json() == (
        encaissements
    )


def test_un_parent_lit_ses_paiements_et_les_prenoms_sur_sa_facture(client, horloge) -> None:
    regie, (a, b), _, _ = _commune(client, horloge, ("a@example.fr", "b@example.fr"))
    for famille, montant, mode in ((a, 300, "cheque"), (a, 245, "especes"), (b, 545, "cheque")):
        reponse = regie.post(
            "/api/regie/reglements",
            json={"famille_id": famille.famille_id, "montant_cents": montant, "mode": mode},
        )
        assert reponse.status_code == 201, reponse.text

    paiements = a.get("/api/solde/paiements")
    assert paiements.status_code == 200, paiements.text
    assert sorted(
        (p["date"], p["nature"], p["montant_cents"], p["mode"], p["rejete"]) for p in paiements.json()
    ) == [
        ("2025-12-02", "reglement", 245, "especes", False),
        ("2025-12-02", "reglement", 300, "cheque", False),
    ]
    assert [p["montant_cents"] for p in b.get("/api/solde/paiements").json()] == [545]

    [facture] = a.get("/api/factures").json()
    lignes = a.get(f"/api/factures/{facture['id']}").json()["lignes"]
    assert {ligne["prenom"] for ligne in lignes} == {"Enfant 1"}
