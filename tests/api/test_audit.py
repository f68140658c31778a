"""Auditors read the log: filtered and paged, field-by-field history with who/when/why, exports;
erased families show as erased, never in clear."""

from __future__ import annotations

import csv
import io
import json

from outils_http import MOT_DE_PASSE, compte_personnel, nouvelle_famille

NOM = "Audibertine"


def _scenario(client):
    parent = nouvelle_famille(client, "audit@example.fr", nom=NOM)
    parent.patch("/api/moi", json={"telephone": "0699887766"}, headers={"X-Motif": "nouveau%20num%C3%A9ro"})
    enfant = parent.post(
        "/api/enfants", json={"nom": NOM, "prenom": "Zélie", "date_naissance": "2017-02-02"}
    ).json()["id"]
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    regie.put(
        f"/api/regie/familles/{parent.famille_id}/quotient-familial",
        json={"valeur": 680, "valable_du": "2026-01-01", "source": "caf"},
        headers={"X-Motif": "attestation%20CAF"},
    )
    autre = nouvelle_famille(client, "autre@example.fr", nom="Autre")
    autre.patch("/api/foyer", json={"situation_familiale": "marie"})
    return parent, enfant, regie


def test_journal_filtre_par_famille_avec_curseur(client) -> None:
    parent, enfant, regie = _scenario(client)
    auditeur = compte_personnel(client, "auditeur@mairie.fr", "auditeur")
    page = auditeur.get("/api/audit/evenements", params={"famille_id": parent.famille_id, "limite": 3}).json()
    assert len(page["evenements"]) == 3
    assert page["suivant"] is not None
    tous = list(page["evenements"])
    while page["suivant"] is not None:
        page = auditeur.get(
            "/api/audit/evenements",
            params={"famille_id": parent.famille_id, "apres": page["suivant"], "limite": 3},
        ).json()
        tous.extend(page["evenements"])
    positions = [e["position"] for e in tous]
    assert positions == sorted(positions)
    types = {e["type"] for e in tous}
    # The family, its child, its account: all under the family filter; the other family is not.
    assert {"Famille.Creee", "Enfant.Inscrit", "Compte.Cree", "Famille.QuotientFamilialEnregistre"} <= types
    assert all(e["agregat"]["id"] != "" for e in tous)
    qf = next(e for e in tous if e["type"] == "Famille.QuotientFamilialEnregistre")
    assert qf["acteur"]["role"] == "regisseur"
    assert qf["acteur"]["compte_id"] == regie.compte_id
    assert qf["motif"] == "attestation CAF"
    assert qf["donnees"]["quotient"]["valeur"] == 680
    par_enfant = auditeur.get("/api/audit/evenements", params={"enfant_id": enfant}).json()["evenements"]
    assert {e["type"] for e in par_enfant} == {"Enfant.Inscrit"}
    par_acteur = auditeur.get("/api/audit/evenements", params={"acteur": regie.compte_id}).json()[
        "evenements"
    ]
    assert [e["type"] for e in par_acteur] == ["Famille.QuotientFamilialEnregistre"]
    par_type = auditeur.get("/api/audit/evenements", params={"type": "Famille.ResponsableModifie"}).json()[
        "evenements"
    ]
    assert len(par_type) == 1
    assert (
        auditeur.get("/api/audit/evenements", params={"du": "2000-01-01", "au": "2000-12-31"}).json()[
            "evenements"
        ]
        == []
    )


def test_historique_avant_apres_qui_quand_pourquoi(client) -> None:
    parent, _, _ = _scenario(client)
    auditeur = compte_personnel(client, "auditeur@mairie.fr", "auditeur")
    historique = auditeur.get(f"/api/audit/agregats/{parent.famille_id}/historique").json()
    assert historique["agregat"] == {"type": "Famille", "id": parent.famille_id}
    changement = next(c for c in historique["changements"] if c["type"] == "Famille.ResponsableModifie")
    assert changement["motif"] == "nouveau numéro"
    assert changement["acteur"]["role"] == "parent"
    champ = next(c for c in changement["champs"] if c["champ"] == "responsable")
    assert champ["avant"]["telephone"] == "0612345678"
    assert champ["apres"]["telephone"] == "0699887766"
    assert (
        auditeur.get("/api/audit/agregats/00000000-0000-0000-0000-000000000000/historique").status_code == 404
    )


def test_exports_jsonl_et_csv(client) -> None:
    parent, _, _ = _scenario(client)
    auditeur = compte_personnel(client, "auditeur@mairie.fr", "auditeur")
    jsonl = auditeur.get("/api/audit/export", params={"format": "jsonl", "famille_id": parent.famille_id})
    assert jsonl.status_code == 200
    lignes = [json.loads(ligne) for ligne in jsonl.text.splitlines()]
    attendu = auditeur.get(
        "/api/audit/evenements", params={"famille_id": parent.famille_id, "limite": 500}
    ).json()
    assert [ligne["position"] for ligne in lignes] == [e["position"] for e in attendu["evenements"]]
    en_csv = auditeur.get("/api/audit/export", params={"format": "csv", "famille_id": parent.famille_id})
    rangees = list(csv.reader(io.StringIO(en_csv.text)))
    assert rangees[0][:3] == ["position", "horodatage", "agregat_type"]
    assert len(rangees) == len(lignes) + 1


def test_famille_effacee_jamais_en_clair(client) -> None:
    parent, _, _ = _scenario(client)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    assert admin.delete(f"/api/admin/familles/{parent.famille_id}").status_code == 204
    auditeur = compte_personnel(client, "auditeur@mairie.fr", "auditeur")
    evenements = auditeur.get(
        "/api/audit/evenements", params={"famille_id": parent.famille_id, "limite": 500}
    ).json()
    creee = next(e for e in evenements["evenements"] if e["type"] == "Famille.Creee")
    assert creee["efface"] is True
    assert creee["donnees"]["responsable"] == "[effacé]"
    export = auditeur.get("/api/audit/export", params={"format": "jsonl"}).text
    historique = auditeur.get(f"/api/audit/agregats/{parent.famille_id}/historique").text
    for texte in (export, historique, json.dumps(evenements)):
        assert NOM not in texte
        assert "0699887766" not in texte
        assert "nouveau numéro" not in texte
    # Amounts and dates stay for the accounts.
    qf = next(e for e in evenements["evenements"] if e["type"] == "Famille.QuotientFamilialEnregistre")
    assert qf["donnees"]["quotient"]["valeur"] == 680


def test_routes_d_audit_reservees(client) -> None:
    parent, _, _ = _scenario(client)
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    for url in (
        "/api/audit/evenements",
        f"/api/audit/agregats/{parent.famille_id}/historique",
        "/api/audit/export",
    ):
        assert parent.get(url).status_code == 403
        assert agent.get(url).status_code == 403


def test_empreintes_de_mot_de_passe_jamais_montrees(client) -> None:
    parent = nouvelle_famille(client, "empreinte@example.fr", nom="Empreinte")
    assert parent.put(
        "/api/moi/mot-de-passe", json={"ancien": MOT_DE_PASSE, "nouveau": "Autre-Secret-42"}
    ).status_code in (200, 204)
    assert (
        client.post("/api/auth/mot-de-passe-oublie", json={"email": "empreinte@example.fr"}).status_code
        == 202
    )
    auditeur = compte_personnel(client, "auditeur@mairie.fr", "auditeur")
    evenements = auditeur.get("/api/audit/evenements", params={"type": "Compte", "limite": 500}).json()
    changement = next(e for e in evenements["evenements"] if e["type"] == "Compte.MotDePasseModifie")
    assert changement["donnees"]["mot_de_passe_hash"] == "[masqué]"
    textes = [
        json.dumps(evenements),
        auditeur.get("/api/audit/export", params={"format": "jsonl"}).text,
        auditeur.get("/api/audit/export", params={"format": "csv"}).text,
    ]
    for texte in textes:
        assert "$argon2" not in texte
    demande = next(e for e in evenements["evenements"] if e["type"] == "Compte.ReinitialisationDemandee")
    assert demande["donnees"]["jeton_empreinte"] == "[masqué]"
