"""What a front-end developer reads in a refusal: the parameter at fault, the format expected, the
values allowed, and the specific reason of a 403."""

from __future__ import annotations

from outils_http import MOT_DE_PASSE, compte_personnel, inscription


def test_un_parametre_obligatoire_manquant_est_nomme(client) -> None:
    regie = compte_personnel(client, "regie@example.fr", "regisseur")
    reponse = regie.get("/api/regie/brouillons")
    assert reponse.status_code == 400
    corps = reponse.json()
    assert corps["detail"] == "Paramètre obligatoire manquant : mois."
    assert corps["erreurs"] == [{"champ": "mois", "message": "paramètre obligatoire"}]


def test_un_mois_mal_ecrit_donne_le_format_attendu(client) -> None:
    regie = compte_personnel(client, "regie@example.fr", "regisseur")
    reponse = regie.get("/api/regie/brouillons", params={"mois": "12-2026"})
    assert reponse.status_code == 400
    assert reponse.json()["erreurs"] == [
        {"champ": "mois", "message": "format attendu : AAAA-MM, par exemple 2026-09"}
    ]


def test_une_valeur_refusee_d_un_parametre_liste_les_valeurs_permises(client) -> None:
    agent = compte_personnel(client, "agent@example.fr", "agent")
    reponse = agent.get("/api/agent/documents", params={"statut": "perdu"})
    assert reponse.status_code == 400
    [erreur] = reponse.json()["erreurs"]
    assert erreur == {
        "champ": "statut",
        "message": "valeur non autorisée (valeurs permises : depose, refuse, valide)",
    }


def test_une_valeur_refusee_du_corps_liste_les_valeurs_permises(client) -> None:
    corps = inscription("parent@example.fr")
    corps["responsable"]["civilite"] = "Dr"
    reponse = client.post("/api/inscription", json=corps)
    assert reponse.status_code == 422
    [erreur] = reponse.json()["erreurs"]
    assert erreur == {
        "champ": "responsable.civilite",
        "message": "valeur non autorisée (valeurs permises : M, Mme)",
    }


def test_le_refus_anti_csrf_garde_sa_raison(client) -> None:
    client.post("/api/inscription", json=inscription("cookie@example.fr"))
    connexion = client.post(
        "/api/auth/connexion", json={"email": "cookie@example.fr", "mot_de_passe": MOT_DE_PASSE}
    )
    assert connexion.status_code == 200
    reponse = client.patch("/api/foyer", json={"situation_familiale": "marie"})
    assert reponse.status_code == 403
    assert "anti-CSRF" in reponse.json()["detail"]
