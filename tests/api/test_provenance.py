"""Cross-site writes: a JSON route reads JSON only (415 otherwise), and a write whose Origin or
Referer names another site is refused (403), login and registration included."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from litestar.testing import TestClient

from portail.api.app import create_app
from portail.settings import Settings

from outils_http import MOT_DE_PASSE, inscription, nouvelle_famille

CONNEXION = {"email": "claire@example.fr", "mot_de_passe": MOT_DE_PASSE}

# What a page of another site can make a browser send without asking (no CORS preflight).
CORPS_DE_FORMULAIRE = {
    "text/plain": {"content-type": "text/plain"},
    "form-urlencoded": {"content-type": "application/x-www-form-urlencoded"},
    "multipart": {"content-type": "multipart/form-data; boundary=x"},
    "sans type": {},
}


def _probleme(reponse, statut: int) -> dict:
    assert reponse.status_code == statut, reponse.text
    assert reponse.headers["content-type"].startswith("application/problem+json")
    return reponse.json()


@pytest.mark.parametrize("nature", list(CORPS_DE_FORMULAIRE))
def test_connexion_et_inscription_refusent_un_corps_qui_n_est_pas_declare_json(client, nature) -> None:
    entetes = CORPS_DE_FORMULAIRE[nature]
    client.post("/api/inscription", json=inscription("claire@example.fr"))
    connexion = client.post("/api/auth/connexion", content=json.dumps(CONNEXION).encode(), headers=entetes)
    probleme = _probleme(connexion, 415)
    assert probleme["type"].endswith("/type-non-supporte")
    assert "JSON" in probleme["detail"] and "é" in probleme["detail"]
    assert "set-cookie" not in connexion.headers
    corps = json.dumps(inscription("autre@example.fr")).encode()
    _probleme(client.post("/api/inscription", content=corps, headers=entetes), 415)
    # Nothing was registered: the address is still free.
    assert client.post("/api/inscription", json=inscription("autre@example.fr")).status_code == 201


def test_une_route_json_en_session_refuse_un_autre_type_et_accepte_le_json(client) -> None:
    session = nouvelle_famille(client, "foyer@example.fr")
    corps = json.dumps({"situation_familiale": "marie"}).encode()
    for entetes in CORPS_DE_FORMULAIRE.values():
        _probleme(session.patch("/api/foyer", content=corps, headers=entetes), 415)
    avec_charset = session.patch(
        "/api/foyer", content=corps, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert avec_charset.status_code == 200
    # Without any body there is nothing to declare: the route's own validation answers.
    assert session.patch("/api/foyer").status_code == 422


def test_ecritures_envoyees_depuis_un_autre_site_refusees(client) -> None:
    assert client.post("/api/inscription", json=inscription("claire@example.fr")).status_code == 201
    for entete in (
        {"origin": "https://attaquant.example"},
        {"origin": "null"},
        {"origin": "http://127.0.0.1:8001"},
        {"referer": "https://attaquant.example/piege.html"},
    ):
        connexion = client.post("/api/auth/connexion", json=CONNEXION, headers=entete)
        probleme = _probleme(connexion, 403)
        assert "autre site" in probleme["detail"]
        assert "set-cookie" not in connexion.headers
        _probleme(client.post("/api/inscription", json=inscription("x@example.fr"), headers=entete), 403)
    # A session by cookie, with its CSRF header right, is refused too from another site.
    reponse = client.post("/api/auth/connexion", json=CONNEXION)
    csrf = reponse.json()["csrf"]
    ecriture = client.patch(
        "/api/foyer",
        json={"situation_familiale": "marie"},
        headers={"x-csrftoken": csrf, "origin": "https://attaquant.example"},
    )
    _probleme(ecriture, 403)
    assert client.get("/api/foyer").json()["situation_familiale"] != "marie"


def test_ecritures_du_portail_lui_meme_et_des_clients_sans_origine_acceptees(client) -> None:
    assert client.post("/api/inscription", json=inscription("claire@example.fr")).status_code == 201
    # The default public URL is http://127.0.0.1:8000: any loopback name on that port is ours.
    for entete in (
        {"origin": "http://127.0.0.1:8000"},
        {"origin": "http://localhost:8000"},
        {"origin": "http://[::1]:8000"},
        {"referer": "http://localhost:8000/connexion?suite=/foyer"},
        {},
    ):
        assert client.post("/api/auth/connexion", json=CONNEXION, headers=entete).status_code == 200
    csrf = client.cookies.get("csrftoken")
    ecriture = client.patch(
        "/api/foyer",
        json={"situation_familiale": "marie"},
        headers={"x-csrftoken": csrf, "origin": "http://localhost:8000"},
    )
    assert ecriture.status_code == 200, ecriture.text
    # Our pages' own form posts carry their origin: the policy is not `no-referrer`.
    assert ecriture.headers["referrer-policy"] == "same-origin"


def test_origine_publique_hors_boucle(settings: Settings, base, horloge) -> None:
    reglages = replace(settings, url_publique="https://portail.mairie.fr")
    with TestClient(app=create_app(reglages, horloge=horloge, base=base)) as client:
        client.post("/api/inscription", json=inscription("claire@example.fr"))
        for origine, statut in (
            ("https://portail.mairie.fr", 200),
            ("https://portail.mairie.fr:443", 200),
            ("https://PORTAIL.mairie.fr", 200),
            ("http://portail.mairie.fr", 403),
            ("https://portail.mairie.fr.attaquant.example", 403),
            ("http://localhost:8000", 403),
        ):
            reponse = client.post("/api/auth/connexion", json=CONNEXION, headers={"origin": origine})
            assert reponse.status_code == statut, origine


def test_origines_acceptees() -> None:
    from portail.api.provenance import origines_acceptees

    boucle = origines_acceptees("http://127.0.0.1:8000")
    assert ("http", "localhost", 8000) in boucle
    assert ("http", "::1", 8000) in boucle
    assert ("http", "localhost", 8001) not in boucle
    publique = origines_acceptees("https://portail.mairie.fr", ["https://app.mairie.fr"])
    assert publique == {("https", "portail.mairie.fr", 443), ("https", "app.mairie.fr", 443)}
