"""Access routes: registration, login and its throttling, logout, CSRF, password reset, staff accounts."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from portail.settings import Settings

from outils_http import MOT_DE_PASSE, compte_personnel, connecter, inscription, nouvelle_famille


def test_inscription_cree_compte_et_famille_puis_connexion(client) -> None:
    reponse = client.post("/api/inscription", json=inscription("claire@example.fr"))
    assert reponse.status_code == 201
    corps = reponse.json()
    session = connecter(client, "Claire@Example.fr")
    assert session.compte_id == corps["compte_id"]
    assert session.famille_id == corps["famille_id"]
    moi = session.get("/api/moi").json()
    assert moi["compte"]["email"] == "claire@example.fr"
    assert moi["compte"]["roles"] == ["parent"]
    assert moi["responsable"]["nom"] == "Martin"
    assert moi["responsable"]["telephone"] == "0612345678"


def test_inscription_email_deja_pris_409(client) -> None:
    assert client.post("/api/inscription", json=inscription("deux@example.fr")).status_code == 201
    reponse = client.post("/api/inscription", json=inscription("DEUX@example.fr", nom="Autre"))
    assert reponse.status_code == 409
    assert reponse.headers["content-type"].startswith("application/problem+json")


def test_inscription_invalide_nomme_chaque_champ_et_n_enregistre_rien(client) -> None:
    corps = inscription("pas-un-email")
    corps["mot_de_passe"] = "court"
    corps["responsable"]["nom"] = "   "
    corps["responsable"]["telephone"] = "12"
    corps["responsable"]["adresse"]["code_postal"] = "ABCDE"
    reponse = client.post("/api/inscription", json=corps)
    assert reponse.status_code == 422
    probleme = reponse.json()
    champs = {e["champ"] for e in probleme["erreurs"]}
    assert champs == {
        "email",
        "mot_de_passe",
        "responsable.nom",
        "responsable.telephone",
        "responsable.adresse.code_postal",
    }
    assert all(e["message"] for e in probleme["erreurs"])
    # Nothing was recorded: the same address, now valid, registers.
    corps_valide = inscription("pas-un-email@example.fr")
    assert client.post("/api/inscription", json=corps_valide).status_code == 201


def test_champ_inconnu_refuse_en_422(client) -> None:
    corps = inscription("inconnu@example.fr")
    corps["pirate"] = True
    reponse = client.post("/api/inscription", json=corps)
    assert reponse.status_code == 422
    assert reponse.json()["erreurs"] == [{"champ": "pirate", "message": "champ inconnu"}]


def test_json_illisible_donne_un_probleme_400(client) -> None:
    reponse = client.post(
        "/api/inscription", content=b"{pas du json", headers={"content-type": "application/json"}
    )
    assert reponse.status_code == 400
    assert reponse.headers["content-type"].startswith("application/problem+json")


def _sans_correlation(corps: dict) -> dict:
    return {k: v for k, v in corps.items() if k != "correlation_id"}


def test_mauvais_mot_de_passe_et_compte_inconnu_donnent_la_meme_reponse(client) -> None:
    nouvelle_famille(client, "existe@example.fr")
    mauvais = client.post(
        "/api/auth/connexion", json={"email": "existe@example.fr", "mot_de_passe": "Faux-2026!"}
    )
    inconnu = client.post(
        "/api/auth/connexion", json={"email": "absent@example.fr", "mot_de_passe": "Faux-2026!"}
    )
    assert mauvais.status_code == inconnu.status_code == 401
    assert _sans_correlation(mauvais.json()) == _sans_correlation(inconnu.json())


def test_cinq_echecs_bloquent_le_compte_meme_avec_le_bon_mot_de_passe(client, horloge) -> None:
    nouvelle_famille(client, "bloque@example.fr")
    for _ in range(5):
        r = client.post(
            "/api/auth/connexion", json={"email": "bloque@example.fr", "mot_de_passe": "Faux-2026!"}
        )
        assert r.status_code == 401
    bloque = client.post(
        "/api/auth/connexion", json={"email": "bloque@example.fr", "mot_de_passe": MOT_DE_PASSE}
    )
    assert bloque.status_code == 429
    attente = int(bloque.headers["retry-after"])
    assert 0 < attente <= 15 * 60
    horloge.avancer(seconds=attente + 1)
    assert (
        client.post(
            "/api/auth/connexion", json={"email": "bloque@example.fr", "mot_de_passe": MOT_DE_PASSE}
        ).status_code
        == 200
    )


def test_seuls_les_echecs_comptent(client) -> None:
    nouvelle_famille(client, "reussit@example.fr")
    for _ in range(8):
        connecter(client, "reussit@example.fr")


def test_cinquante_echecs_d_une_adresse_ip_bloquent(client) -> None:
    for i in range(50):
        r = client.post(
            "/api/auth/connexion", json={"email": f"x{i}@example.fr", "mot_de_passe": "Faux-2026!"}
        )
        assert r.status_code == 401
    nouvelle_famille_reponse = client.post("/api/inscription", json=inscription("ip@example.fr"))
    assert nouvelle_famille_reponse.status_code == 201
    r = client.post("/api/auth/connexion", json={"email": "ip@example.fr", "mot_de_passe": MOT_DE_PASSE})
    assert r.status_code == 429
    assert "retry-after" in r.headers


def test_deconnexion_revoque_le_jeton(client) -> None:
    session = nouvelle_famille(client, "sortie@example.fr")
    assert session.get("/api/foyer").status_code == 200
    assert session.post("/api/auth/deconnexion").status_code == 204
    assert session.get("/api/foyer").status_code == 401


def test_session_par_cookie_exige_le_jeton_csrf(client) -> None:
    client.post("/api/inscription", json=inscription("cookie@example.fr"))
    reponse = client.post(
        "/api/auth/connexion",
        json={"email": "cookie@example.fr", "mot_de_passe": MOT_DE_PASSE, "se_souvenir_de_moi": True},
    )
    entete = reponse.headers["set-cookie"]
    assert "HttpOnly" in entete
    assert "Max-Age=2592000" in entete
    csrf = reponse.json()["csrf"]
    assert client.cookies.get("csrftoken") == csrf
    # Safe methods pass with the cookie alone.
    assert client.get("/api/foyer").status_code == 200
    sans = client.patch("/api/foyer", json={"situation_familiale": "marie"})
    assert sans.status_code == 403
    faux = client.patch("/api/foyer", json={"situation_familiale": "marie"}, headers={"X-CSRFToken": "faux"})
    assert faux.status_code == 403
    avec = client.patch("/api/foyer", json={"situation_familiale": "marie"}, headers={"X-CSRFToken": csrf})
    assert avec.status_code == 200
    assert avec.json()["situation_familiale"] == "marie"


def test_sans_se_souvenir_le_cookie_est_de_session(client) -> None:
    client.post("/api/inscription", json=inscription("session@example.fr"))
    reponse = client.post(
        "/api/auth/connexion", json={"email": "session@example.fr", "mot_de_passe": MOT_DE_PASSE}
    )
    cookie_session = next(
        c for c in reponse.headers.get_list("set-cookie") if c.startswith("portail_session=")
    )
    assert "Max-Age" not in cookie_session
    assert "HttpOnly" in cookie_session


def _lien(dossier: Path) -> str:
    messages = sorted(dossier.glob("*.eml"))
    assert messages, "aucun courriel envoyé"
    message = email.message_from_bytes(messages[-1].read_bytes(), policy=email.policy.default)
    texte = message.get_body().get_content()  # type: ignore[union-attr]
    trouve = re.search(r"reinitialisation\?token=([A-Za-z0-9_.\-]+)", texte)
    assert trouve
    return trouve.group(1)


def test_reinitialisation_du_mot_de_passe(client, settings: Settings, horloge) -> None:
    ancienne = nouvelle_famille(client, "oubli@example.fr")
    inconnu = client.post("/api/auth/mot-de-passe-oublie", json={"email": "personne@example.fr"})
    connu = client.post("/api/auth/mot-de-passe-oublie", json={"email": "oubli@example.fr"})
    assert inconnu.status_code == connu.status_code == 202
    assert inconnu.content == connu.content
    assert settings.mail_dir is not None
    messages = list(settings.mail_dir.glob("*.eml"))
    assert len(messages) == 1
    assert "To: oubli@example.fr" in messages[0].read_text()
    jeton = _lien(settings.mail_dir)
    horloge.avancer(seconds=1)
    assert (
        client.post(
            "/api/auth/reinitialisation", json={"token": jeton, "mot_de_passe": "Nouveau-Secret-9"}
        ).status_code
        == 204
    )
    # Single use, old sessions closed, new password works, old one no longer does.
    reutilise = client.post(
        "/api/auth/reinitialisation", json={"token": jeton, "mot_de_passe": "Encore-Autre-9"}
    )
    assert reutilise.status_code == 422
    assert ancienne.get("/api/foyer").status_code == 401
    horloge.avancer(seconds=1)
    connecter(client, "oubli@example.fr", "Nouveau-Secret-9")
    assert (
        client.post(
            "/api/auth/connexion", json={"email": "oubli@example.fr", "mot_de_passe": MOT_DE_PASSE}
        ).status_code
        == 401
    )


def test_lien_de_reinitialisation_expire_apres_30_minutes(client, settings: Settings, horloge) -> None:
    nouvelle_famille(client, "expire@example.fr")
    client.post("/api/auth/mot-de-passe-oublie", json={"email": "expire@example.fr"})
    assert settings.mail_dir is not None
    jeton = _lien(settings.mail_dir)
    horloge.avancer(minutes=31)
    reponse = client.post(
        "/api/auth/reinitialisation", json={"token": jeton, "mot_de_passe": "Nouveau-Secret-9"}
    )
    assert reponse.status_code == 422
    assert "expiré" in reponse.json()["detail"]


def test_jeton_de_reinitialisation_forge_refuse(client) -> None:
    for jeton in ("n-importe-quoi", "0" * 32 + ".abc", ""):
        r = client.post(
            "/api/auth/reinitialisation", json={"token": jeton, "mot_de_passe": "Nouveau-Secret-9"}
        )
        assert r.status_code == 422


def test_changement_de_mot_de_passe_ferme_les_autres_sessions(client, horloge) -> None:
    session = nouvelle_famille(client, "change@example.fr")
    mauvais = session.put(
        "/api/moi/mot-de-passe", json={"ancien": "Faux-2026!", "nouveau": "Nouveau-Secret-9"}
    )
    assert mauvais.status_code == 422
    assert mauvais.json()["erreurs"][0]["champ"] == "ancien"
    horloge.avancer(seconds=1)
    assert (
        session.put(
            "/api/moi/mot-de-passe", json={"ancien": MOT_DE_PASSE, "nouveau": "Nouveau-Secret-9"}
        ).status_code
        == 204
    )
    assert session.get("/api/foyer").status_code == 401
    horloge.avancer(seconds=1)
    connecter(client, "change@example.fr", "Nouveau-Secret-9")


def test_changement_d_email_libere_l_ancienne_adresse(client, settings: Settings) -> None:
    session = nouvelle_famille(client, "avant@example.fr")
    reponse = session.put("/api/moi/email", json={"email": "apres@example.fr", "mot_de_passe": MOT_DE_PASSE})
    assert reponse.status_code == 202
    assert reponse.json()["email_en_attente"] == "apres@example.fr"
    assert settings.mail_dir is not None
    messages = [
        email.message_from_bytes(m.read_bytes(), policy=email.policy.default)
        for m in settings.mail_dir.glob("*.eml")
    ]
    lien = next(m for m in messages if m["To"] == "apres@example.fr")
    texte = lien.get_body().get_content()  # type: ignore[union-attr]
    trouve = re.search(r"confirmation-email\?token=([A-Za-z0-9_.\-]+)", texte)
    assert trouve
    assert client.post("/api/auth/confirmation-email", json={"token": trouve.group(1)}).status_code == 204
    connecter(client, "apres@example.fr")
    # The old address is free again for a new family, the new one is taken.
    assert client.post("/api/inscription", json=inscription("avant@example.fr")).status_code == 201
    assert client.post("/api/inscription", json=inscription("apres@example.fr")).status_code == 409


def test_admin_cree_depuis_l_environnement_et_comptes_du_personnel(settings: Settings, base, horloge) -> None:
    from dataclasses import replace

    from litestar.testing import TestClient

    from portail.api.app import create_app

    reglages = replace(settings, admin_email="admin@mairie.fr", admin_password="Admin-Mairie-2026")
    with TestClient(app=create_app(reglages, horloge=horloge, base=base)) as client:
        admin = connecter(client, "admin@mairie.fr", "Admin-Mairie-2026")
        cree = admin.post(
            "/api/admin/comptes",
            json={"email": "agent@mairie.fr", "mot_de_passe": "Agent-Mairie-2026", "roles": ["agent"]},
        )
        assert cree.status_code == 201
        agent = connecter(client, "agent@mairie.fr", "Agent-Mairie-2026")
        assert agent.get("/api/moi").json()["compte"]["roles"] == ["agent"]
        # A parent account is made by registration, never by an administrator.
        parent = admin.post(
            "/api/admin/comptes",
            json={"email": "p@mairie.fr", "mot_de_passe": "Agent-Mairie-2026", "roles": ["parent"]},
        )
        assert parent.status_code == 422
        assert (
            agent.post(
                "/api/admin/comptes",
                json={"email": "x@mairie.fr", "mot_de_passe": "Agent-Mairie-2026", "roles": ["agent"]},
            ).status_code
            == 403
        )
    # Later starts create no other administrator, even with another address configured.
    with TestClient(app=create_app(reglages, horloge=horloge, base=base)) as client:
        connecter(client, "admin@mairie.fr", "Admin-Mairie-2026")
    autre = replace(reglages, admin_email="autre-admin@mairie.fr")
    with TestClient(app=create_app(autre, horloge=horloge, base=base)) as client:
        r = client.post(
            "/api/auth/connexion",
            json={"email": "autre-admin@mairie.fr", "mot_de_passe": "Admin-Mairie-2026"},
        )
        assert r.status_code == 401


def test_routes_protegees_sans_session_401_problem_json(client) -> None:
    for methode, url in [
        ("GET", "/api/moi"),
        ("GET", "/api/foyer"),
        ("POST", "/api/enfants"),
        ("GET", "/api/prelevement"),
    ]:
        r = client.request(methode, url, json={})
        assert r.status_code == 401, url
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["x-correlation-id"]
        assert r.headers["x-content-type-options"] == "nosniff"


def test_personnel_sans_famille_n_accede_pas_aux_pages_famille(client) -> None:
    agent = compte_personnel(client, "agent2@mairie.fr", "agent")
    assert agent.get("/api/foyer").status_code == 403
    assert agent.get("/api/enfants").status_code == 403
