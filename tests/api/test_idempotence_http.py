"""`Idempotency-Key` on every route that creates: the same key and body sent again get the first
answer and create nothing; the same key with another body is a 409."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from outils_http import compte_personnel, nouvelle_famille
from outils_reservation import accueil_periscolaire, ajouter_enfant, reserver

CLE = {"Idempotency-Key": "b7a2c3d4-essai"}


def _deux_fois(session, url: str, **kw):
    """Each call its own key: one key sent to two routes is two requests (409)."""
    cle = {"Idempotency-Key": str(uuid.uuid4())}
    premiere = session.post(url, headers=cle, **kw)
    seconde = session.post(url, headers=cle, **kw)
    assert premiere.status_code in (200, 201), premiere.text
    assert seconde.status_code == premiere.status_code
    assert seconde.json() == premiere.json()
    return premiere.json()


def test_un_paiement_envoye_deux_fois_avec_la_meme_cle_est_enregistre_une_fois(client) -> None:
    famille = nouvelle_famille(client, "paiement@example.fr")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    corps = {"famille_id": famille.famille_id, "montant_cents": 2500, "mode": "cheque", "reference": "CHQ 1"}
    premier = regie.post("/api/regie/reglements", headers=CLE, json=corps)
    second = regie.post("/api/regie/reglements", headers=CLE, json=corps)
    assert (premier.status_code, second.status_code) == (201, 201)
    assert second.json() == premier.json()
    assert famille.get("/api/solde").json()["solde_cents"] == -2500
    autre = regie.post("/api/regie/reglements", headers=CLE, json={**corps, "montant_cents": 2600})
    assert autre.status_code == 409
    assert autre.json()["title"] == "Clé d'idempotence déjà utilisée"
    assert famille.get("/api/solde").json()["solde_cents"] == -2500
    # Without a key, each request is a payment of its own, as before.
    regie.post("/api/regie/reglements", json=corps)
    assert famille.get("/api/solde").json()["solde_cents"] == -5000


def test_un_enfant_envoye_deux_fois_avec_la_meme_cle_est_cree_une_fois(client) -> None:
    famille = nouvelle_famille(client, "enfant@example.fr")
    corps = {"nom": "Martin", "prenom": "Léon", "date_naissance": "2016-01-01"}
    cree = famille.post("/api/enfants", headers=CLE, json=corps).json()
    assert famille.post("/api/enfants", headers=CLE, json=corps).json() == cree
    assert [e["id"] for e in famille.get("/api/enfants").json()] == [cree["id"]]
    # The key is the account's: another family may use the same one.
    autre = nouvelle_famille(client, "autre@example.fr", nom="Autre")
    assert autre.post("/api/enfants", headers=CLE, json=corps).json()["id"] != cree["id"]


def test_chaque_post_qui_cree_prend_la_cle_une_fois(client, horloge) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    famille = nouvelle_famille(client, "cle@example.fr")
    enfant = ajouter_enfant(famille)
    accueil = _deux_fois(admin, "/api/admin/accueils", json=accueil_periscolaire())["id"]
    _deux_fois(admin, f"/api/admin/accueils/{accueil}/fermetures", json={"date": "2021-10-08"})
    compte = _deux_fois(
        admin,
        "/api/admin/comptes",
        json={"email": "agent@mairie.fr", "mot_de_passe": "Agent-Mairie-2026", "roles": ["agent"]},
    )
    assert compte["id"]
    actualite = {"titre": "Rentrée", "contenu": "Bonne rentrée à tous."}
    _deux_fois(admin, "/api/admin/actualites", json=actualite)
    assert len(famille.get("/api/actualites").json()) == 1
    reserver(famille, enfant, accueil, ("2021-10-04", "MATIN"))
    absence = {"accueil_id": accueil, "date": "2021-10-04", "unites": ["MATIN"], "motif": "Malade"}
    _deux_fois(famille, f"/api/enfants/{enfant}/absences", json=absence)
    semaine = {"accueil_id": accueil, "semaine_du": "2021-10-04", "jusqu_au": "2021-10-17"}
    _deux_fois(famille, f"/api/enfants/{enfant}/reservations/recopier", json=semaine)
    annulation = {"accueil_id": accueil, "presences": [{"date": "2021-10-11", "unite": "MATIN"}]}
    _deux_fois(famille, f"/api/enfants/{enfant}/annulations", json=annulation)
    document = _deux_fois(
        famille,
        "/api/documents",
        files={"fichier": ("certificat.pdf", b"%PDF-1.4 certificat", "application/pdf")},
        data={"type": "certificat_medical", "enfant_id": enfant},
    )
    assert [d["id"] for d in famille.get("/api/documents").json()] == [document["id"]]
    reglement = {"famille_id": famille.famille_id, "montant_cents": 1000, "mode": "cheque"}
    regie.post("/api/regie/reglements", json=reglement)
    url_famille = f"/api/regie/familles/{famille.famille_id}"
    _deux_fois(regie, f"{url_famille}/remboursements", json={"montant_cents": 400, "mode": "virement"})
    ajustement = {"nature": "ajustement_positif", "montant_cents": 300, "motif": "Repas oublié"}
    _deux_fois(regie, f"{url_famille}/ajustements", json=ajustement)
    assert famille.get("/api/solde").json()["solde_cents"] == -1000 + 400 + 300
    campagne = _deux_fois(regie, "/api/regie/campagnes", json={"periode": "2021-09"})
    assert campagne["id"]


def test_une_cle_trop_longue_est_refusee(client) -> None:
    famille = nouvelle_famille(client, "longue@example.fr")
    corps = {"nom": "Martin", "prenom": "Léon", "date_naissance": "2016-01-01"}
    reponse = famille.post("/api/enfants", headers={"Idempotency-Key": "x" * 201}, json=corps)
    assert reponse.status_code == 400
    assert famille.get("/api/enfants").json() == []


def test_le_document_openapi_annonce_la_cle_sur_chaque_post_qui_cree(client) -> None:
    document = client.get("/schema/openapi.json").json()
    sans_cle = []
    for chemin, operations in document["paths"].items():
        operation = operations.get("post")
        if operation is None or chemin == "/api/inscription":
            continue
        cree = "201" in operation["responses"] or chemin.endswith(
            ("/reservations", "/reservations/recopier", "/annulations")
        )
        entetes = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if cree and ("Idempotency-Key" not in entetes or "409" not in operation["responses"]):
            sans_cle.append(chemin)
    assert sans_cle == []
