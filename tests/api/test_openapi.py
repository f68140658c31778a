"""The OpenAPI document describes every route of the contract built so far, with its problems."""

from __future__ import annotations

ROUTES = {
    ("post", "/api/auth/connexion"),
    ("post", "/api/auth/deconnexion"),
    ("post", "/api/auth/mot-de-passe-oublie"),
    ("post", "/api/auth/reinitialisation"),
    ("post", "/api/inscription"),
    ("post", "/api/admin/comptes"),
    ("get", "/api/moi"),
    ("patch", "/api/moi"),
    ("put", "/api/moi/email"),
    ("put", "/api/moi/mot-de-passe"),
    ("get", "/api/foyer"),
    ("patch", "/api/foyer"),
    ("put", "/api/foyer/autre-responsable"),
    ("get", "/api/enfants"),
    ("post", "/api/enfants"),
    ("get", "/api/enfants/{enfant_id}"),
    ("patch", "/api/enfants/{enfant_id}"),
    ("put", "/api/enfants/{enfant_id}/sante"),
    ("put", "/api/enfants/{enfant_id}/personnes-autorisees"),
    ("put", "/api/enfants/{enfant_id}/autorisations"),
    ("get", "/api/quotient-familial"),
    ("get", "/api/prelevement"),
    ("put", "/api/prelevement"),
    ("delete", "/api/prelevement"),
    ("put", "/api/regie/familles/{famille_id}/quotient-familial"),
    ("put", "/api/admin/parametres"),
    ("post", "/api/admin/accueils"),
    ("post", "/api/admin/accueils/{accueil_id}/fermetures"),
    ("get", "/api/accueils"),
    ("get", "/api/enfants/{enfant_id}/planning"),
    ("post", "/api/enfants/{enfant_id}/reservations"),
    ("post", "/api/enfants/{enfant_id}/reservations/recopier"),
    ("post", "/api/enfants/{enfant_id}/annulations"),
    ("post", "/api/enfants/{enfant_id}/absences"),
    ("get", "/api/offres"),
    ("post", "/api/offres/{offre_id}/acceptation"),
    ("post", "/api/offres/{offre_id}/refus"),
    ("get", "/api/agent/pointage"),
    ("post", "/api/agent/pointage"),
    ("get", "/health"),
    ("get", "/ready"),
}


def test_openapi_decrit_les_routes_et_leurs_problemes(client) -> None:
    reponse = client.get("/schema/openapi.json")
    assert reponse.status_code == 200
    document = reponse.json()
    presentes = {(m, chemin) for chemin, ops in document["paths"].items() for m in ops if m != "parameters"}
    assert presentes >= ROUTES
    for methode, chemin in ROUTES:
        if chemin.startswith("/api") and chemin not in {"/api/auth/mot-de-passe-oublie"}:
            reponses = document["paths"][chemin][methode]["responses"]
            problemes = [c for c, r in reponses.items() if c.startswith("4")]
            assert problemes, (methode, chemin)
            for code in problemes:
                assert "application/problem+json" in reponses[code]["content"], (methode, chemin, code)


def test_chemin_inconnu_et_methode_interdite_en_problem_json(client) -> None:
    inconnu = client.get("/api/nulle-part")
    assert inconnu.status_code == 404
    assert inconnu.headers["content-type"].startswith("application/problem+json")
    assert inconnu.json()["detail"] == "Cette ressource n'existe pas."
    interdit = client.delete("/api/inscription")
    assert interdit.status_code == 405
    assert interdit.headers["content-type"].startswith("application/problem+json")


def test_la_cle_d_idempotence_est_documentee(client) -> None:
    document = client.get("/schema/openapi.json").json()
    parametres = document["paths"]["/api/enfants/{enfant_id}/reservations"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in parametres)
