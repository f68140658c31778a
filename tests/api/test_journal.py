"""Logs: one JSON object per line in production, each with the request's correlation id, and never
a name, e-mail, phone number, IBAN, password or token of the people using the portal."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import structlog
from litestar.testing import TestClient

from portail.api.app import create_app
from portail.api.intergiciels import correlation
from portail.journal import configurer

from outils_http import MOT_DE_PASSE, connecter, inscription

NOM = "Qwertzuiopa"
EMAIL = "qwertzuiopa@example.fr"
IBAN = "FR7630006000011234567890189"
TELEPHONE = "0677889900"


def test_journal_json_sans_donnees_personnelles(settings, base, horloge, capfd) -> None:
    reglages = replace(settings, log_format="json", log_level="DEBUG")
    with TestClient(app=create_app(reglages, horloge=horloge, base=base)) as client:
        corps = inscription(EMAIL, nom=NOM)
        corps["responsable"]["telephone"] = TELEPHONE
        assert client.post("/api/inscription", json=corps).status_code == 201
        client.post("/api/auth/connexion", json={"email": EMAIL, "mot_de_passe": "Mauvais-2026!"})
        session = connecter(client, EMAIL)
        session.put("/api/prelevement", json={"titulaire": f"Claire {NOM}", "iban": IBAN})
        session.put("/api/prelevement", json={"titulaire": f"Claire {NOM}", "iban": IBAN[:-1] + "0"})
        session.post("/api/enfants", json={"nom": NOM, "prenom": "Léon", "date_naissance": "2016-01-01"})
        client.post("/api/auth/mot-de-passe-oublie", json={"email": EMAIL})
        client.cookies.clear()
        client.get("/api/foyer?email=" + EMAIL, headers={"X-Correlation-ID": "trace-123"})
        jeton = session.jeton
    sortie = capfd.readouterr()
    texte = sortie.out + sortie.err
    lignes = [ligne for ligne in texte.splitlines() if ligne.strip()]
    requetes = [json.loads(ligne) for ligne in lignes if '"requete"' in ligne]
    assert len(requetes) >= 8
    assert all(r["correlation_id"] for r in requetes)
    assert any(r["correlation_id"] == "trace-123" and r["statut"] == 401 for r in requetes)
    for secret in (NOM, EMAIL, IBAN, TELEPHONE, MOT_DE_PASSE, jeton, "Léon"):
        assert secret not in texte, secret


def test_les_lignes_d_une_requete_portent_sa_correlation(capfd) -> None:
    """A line logged while a request is served carries its correlation id; a line logged after
    it does not."""
    configurer("json", "INFO")
    log = structlog.get_logger("essai")

    async def application(scope, receive, send) -> None:
        log.warning("dans_la_requete")

    async def servir() -> None:
        scope = {"type": "http", "headers": [(b"x-correlation-id", b"trace-456")], "state": {}}
        await correlation(application)(scope, None, None)

    asyncio.run(servir())
    log.warning("apres_la_requete")
    lignes = [json.loads(ligne) for ligne in capfd.readouterr().err.splitlines() if ligne.startswith("{")]
    par_evenement = {ligne["event"]: ligne for ligne in lignes}
    assert par_evenement["dans_la_requete"]["correlation_id"] == "trace-456"
    assert "correlation_id" not in par_evenement["apres_la_requete"]
