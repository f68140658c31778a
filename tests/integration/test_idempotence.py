"""Idempotency keys: the first answer is written with the command's save and replayed afterwards;
another body under the same key is refused; a claim left by an earlier version is taken over; a
failed command frees its key."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace

import psycopg
import pytest
from psycopg import sql

from outils_proprietes import CTX, JOURS, MOMENT, _accueil, _familles
from portail.domain.reservation import DemandeReservation, Resultat
from portail.store.idempotence import CleReutilisee, DemandeIdempotente, Reponse


def _encoder(resultats: list[Resultat]) -> bytes:
    return ",".join(r.statut.value for r in resultats).encode()


def test_cle_d_idempotence_rejouee_refusee_et_reprise(services, base, horloge) -> None:
    horloge.maintenant = MOMENT
    idem = services.idempotence
    accueil_id = _accueil(services, 5)
    [(famille_id, enfant_id)] = _familles(services, 1)
    compte = uuid.uuid4()
    appels: list[int] = []

    def reserver(demande: DemandeIdempotente, jour=JOURS[0]) -> list[Resultat]:
        appels.append(1)
        return services.reservations.reserver(
            replace(CTX, idempotence=demande),
            famille_id,
            enfant_id,
            accueil_id,
            [DemandeReservation(jour, "SOIR")],
        )

    assert idem.servir(compte, "k1", b"corps", _encoder, reserver) == Reponse(200, b"reserve")
    # The same key and body: the stored answer, and the command does not run again.
    assert idem.servir(compte, "k1", b"corps", _encoder, reserver) == Reponse(200, b"reserve")
    assert appels == [1]
    with pytest.raises(CleReutilisee):
        idem.servir(compte, "k1", b"autre corps", _encoder, reserver)

    # A claim without an answer, left by an earlier version, is taken over by the booking's save.
    table = sql.SQL("{}.portail_idempotence").format(sql.Identifier(base.schema))
    with psycopg.connect(base.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (compte_id, cle, empreinte, statut, corps, cree_le) VALUES (%s, 'k2', %s, 0, '', now() - interval '2 minutes')"
            ).format(table),
            (compte, hashlib.sha256(b"corps").hexdigest()),
        )
    assert idem.servir(compte, "k2", b"corps", _encoder, lambda d: reserver(d, JOURS[1])) == Reponse(
        200, b"reserve"
    )
    assert idem.servir(compte, "k2", b"corps", _encoder, reserver) == Reponse(200, b"reserve")
    assert appels == [1, 1]

    # A failed command frees its key for a retry.
    def echoue(_demande: DemandeIdempotente) -> list[Resultat]:
        raise RuntimeError("panne")

    with pytest.raises(RuntimeError):
        idem.servir(compte, "k3", b"corps", _encoder, echoue)
    assert idem.servir(compte, "k3", b"corps", _encoder, lambda d: reserver(d, JOURS[2])) == Reponse(
        200, b"reserve"
    )
