"""`PORTAIL_REQUETES_PAR_MINUTE_IP` through the app: counted answers carry the RateLimit headers,
the request over the limit is a French 429 problem with Retry-After, probes are not counted."""

from __future__ import annotations

from dataclasses import replace

from litestar.testing import TestClient

from portail.web.app import creer_app


def test_la_limite_par_adresse(settings, base, horloge) -> None:
    reglages = replace(settings, requetes_par_minute_ip=3)
    with TestClient(app=creer_app(reglages, horloge=horloge, base=base)) as client:
        for _ in range(5):
            assert client.get("/health").status_code == 200  # probes: not counted
        reponses = [client.get("/connexion") for _ in range(3)]
        assert [r.status_code for r in reponses] == [200, 200, 200]
        assert [r.headers["RateLimit-Remaining"] for r in reponses] == ["2", "1", "0"]
        assert reponses[0].headers["RateLimit-Policy"] == "3; w=60"
        assert reponses[0].headers["RateLimit-Limit"] == "3"
        page = client.get("/connexion")
        assert page.status_code == 429
        assert page.headers["content-type"].startswith("text/html")
        assert "Retry-After" in page.headers
        refus = client.get("/api/actualites")
        assert refus.status_code == 429
        assert refus.headers["content-type"].startswith("application/problem+json")
        assert refus.json()["title"] == "Trop de requêtes"
        assert 1 <= int(refus.headers["Retry-After"]) <= 60
        assert refus.headers["RateLimit-Remaining"] == "0"
