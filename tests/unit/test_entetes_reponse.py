"""The headers every response leaves with (`api/intergiciels.entetes_reponse`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portail.api.intergiciels import entetes_reponse


class _Etat:
    def __init__(self, hsts: bool) -> None:
        self.hsts = hsts
        self.metriques = None


class _App:
    def __init__(self, hsts: bool) -> None:
        self.state = _Etat(hsts)


def _reponse(
    chemin: str, entetes: list[tuple[bytes, bytes]], hsts: bool = False
) -> list[tuple[bytes, bytes]]:
    scope: dict[str, Any] = {
        "type": "http",
        "path": chemin,
        "method": "GET",
        "headers": [],
        "app": _App(hsts),
    }
    message: dict[str, Any] = {"type": "http.response.start", "status": 200, "headers": entetes}
    asyncio.run(entetes_reponse(message, scope))  # type: ignore[arg-type]
    return [(bytes(n), bytes(v)) for n, v in message["headers"]]


def _valeurs(entetes: list[tuple[bytes, bytes]], nom: bytes) -> list[bytes]:
    return [v for n, v in entetes if n.lower() == nom]


def test_une_reponse_de_l_api_porte_nos_entetes_a_la_place_de_ceux_du_gestionnaire() -> None:
    entetes = _reponse(
        "/api/enfants",
        [
            (b"content-type", b"application/json"),
            (b"Cache-Control", b"max-age=600"),
            (b"content-security-policy", b"default-src *"),
            (b"x-correlation-id", b"ancien"),
        ],
    )
    assert _valeurs(entetes, b"content-type") == [b"application/json"]
    assert _valeurs(entetes, b"cache-control") == [b"no-store"]
    assert _valeurs(entetes, b"content-security-policy") == [b"default-src 'none'; frame-ancestors 'none'"]
    assert _valeurs(entetes, b"x-frame-options") == [b"DENY"]
    assert _valeurs(entetes, b"x-content-type-options") == [b"nosniff"]
    [correlation] = _valeurs(entetes, b"x-correlation-id")
    assert correlation != b"ancien" and len(correlation) == 32


@pytest.mark.parametrize(("hsts", "attendu"), [(False, []), (True, [b"max-age=31536000"])])
def test_une_page_garde_sa_politique_et_n_a_hsts_qu_en_https(hsts: bool, attendu: list[bytes]) -> None:
    politique = b"default-src 'self'; script-src 'self'"
    entetes = _reponse("/planning", [(b"content-security-policy", politique)], hsts=hsts)
    assert _valeurs(entetes, b"content-security-policy") == [politique]
    assert _valeurs(entetes, b"cache-control") == []
    assert _valeurs(entetes, b"referrer-policy") == [b"same-origin"]
    assert _valeurs(entetes, b"strict-transport-security") == attendu


def test_les_correlations_generees_sont_distinctes_et_de_32_chiffres_hexadecimaux() -> None:
    import re

    from portail.api.intergiciels import nouvelle_correlation

    ids = [nouvelle_correlation() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
