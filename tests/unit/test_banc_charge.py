"""The load generator's statistics: percentiles, error counting, request encoding."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

# `bench/` is not a package on the tests' path; the generator is loaded from its file (it needs
# only the standard library and httptools).
_spec = importlib.util.spec_from_file_location(
    "bench_charge", Path(__file__).resolve().parents[2] / "bench" / "charge.py"
)
assert _spec is not None and _spec.loader is not None
charge = importlib.util.module_from_spec(_spec)
sys.modules["bench_charge"] = charge
_spec.loader.exec_module(charge)
Mesure, centile, encoder, resumer = charge.Mesure, charge.centile, charge.encoder, charge.resumer


def test_centile_au_rang_le_plus_proche() -> None:
    valeurs = [float(v) for v in range(1, 101)]
    assert centile(valeurs, 50) == 50.0
    assert centile(valeurs, 99) == 99.0
    assert centile(valeurs, 100) == 100.0
    assert centile([7.0], 99) == 7.0
    assert centile([], 50) == 0.0


def test_resume_compte_erreurs_exceptions_et_reessais() -> None:
    mesures = [
        Mesure(0, 200, du=0.0, fin=0.010),
        Mesure(1, 200, du=0.5, fin=0.520, tentatives=2, intermediaires=[409]),
        Mesure(2, 409, du=1.0, fin=1.030, probleme="Demande déjà en cours"),
        Mesure(3, 0, du=1.5, fin=2.0, exception="TimeoutError"),
    ]
    r = resumer(mesures, duree=2.0, abandonnees=1)
    assert r["requetes"] == 4
    assert r["statuts"] == {"200": 2, "409": 1}
    # Non-2xx answers, requests with no answer and abandoned ones are all errors.
    assert r["erreurs"] == 3
    assert r["exceptions"] == {"TimeoutError": 1}
    assert r["problemes"] == {"409 Demande déjà en cours": 1}
    assert r["statuts_intermediaires"] == {"409": 1}
    assert r["reessais"] == 1
    # Latency counts from when the request was due: 10, 20, 30 and 500 ms.
    assert r["latence_ms"]["p50"] == pytest.approx(20.0)
    assert r["latence_ms"]["max"] == pytest.approx(500.0)
    # Four requests between the first due time (0 s) and the last answer (2 s).
    assert r["debit_obtenu"] == 2.0


def test_encodage_requete_http11() -> None:
    requete = encoder(
        "127.0.0.1",
        8000,
        {
            "methode": "POST",
            "chemin": "/api/x",
            "entetes": {"Idempotency-Key": "k"},
            "corps": {"a": 1},
            "a": 1.5,
        },
    )
    entete, corps = requete.brut.split(b"\r\n\r\n", 1)
    lignes = entete.decode().split("\r\n")
    assert lignes[0] == "POST /api/x HTTP/1.1"
    assert "Host: 127.0.0.1:8000" in lignes
    assert "Idempotency-Key: k" in lignes
    assert "Content-Length: 7" in lignes
    assert corps == b'{"a":1}'
    assert requete.a == 1.5
    get = encoder("127.0.0.1", 8000, {"chemin": "/health"})
    assert get.brut == b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"
