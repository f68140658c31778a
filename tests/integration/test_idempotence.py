"""Idempotency keys: the first answer is written with the command's save and replayed afterwards;
another body under the same key is refused; a claim left by an earlier version is taken over; a
failed command frees its key."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
import psycopg
import pytest
from psycopg import sql

from outils_proprietes import CTX, JOURS, MOMENT, _accueil, _familles
from portail.domain.reservation import DemandeReservation, Resultat
from portail.store.idempotence import (
    EN_COURS,
    CleReutilisee,
    DemandeEnCours,
    DemandeIdempotente,
    Reponse,
    ReponsePerdue,
)


def _encoder(resultats: list[Resultat]) -> bytes:
    return ",".join(r.statut.value for r in resultats).encode()


def _reservation_comptee(services: Any, appels: list[int]) -> Callable[..., list[Resultat]]:
    """A booking of one child's SOIR on an accueil of 5 places, as an idempotent command; each run
    is counted in `appels`."""
    accueil_id = _accueil(services, 5)
    [(famille_id, enfant_id)] = _familles(services, 1)

    def reserver(demande: DemandeIdempotente, jour: date = JOURS[0]) -> list[Resultat]:
        appels.append(1)
        return services.reservations.reserver(
            replace(CTX, idempotence=demande),
            famille_id,
            enfant_id,
            accueil_id,
            [DemandeReservation(jour, "SOIR")],
        )

    return reserver


def test_cle_d_idempotence_rejouee_refusee_et_reprise(services, base, horloge) -> None:
    horloge.maintenant = MOMENT
    idem = services.idempotence
    compte = uuid.uuid4()
    appels: list[int] = []
    reserver = _reservation_comptee(services, appels)

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


def test_reponse_construite_apres_l_enregistrement(services, base, horloge) -> None:
    """A creating command's save writes its key `EN_COURS`; the answer built afterwards replaces
    it. Meanwhile the same key is "in progress" (409, retry); a row left `EN_COURS` for more than a
    minute is an answer lost, and the command is never run again."""
    horloge.maintenant = MOMENT
    idem = services.idempotence
    [(famille_id, _)] = _familles(services, 1)
    compte = uuid.uuid4()
    executions: list[UUID] = []

    def ajouter(demande: DemandeIdempotente) -> dict[str, str]:
        enfant_id = services.familles.ajouter_enfant(
            replace(CTX, idempotence=demande), famille_id, "Martin", "Léon", date(2016, 1, 1)
        )
        executions.append(enfant_id)
        with pytest.raises(DemandeEnCours) as en_cours:
            idem.servir(compte, "k", b"corps", msgspec.json.encode, _jamais, 201)
        assert en_cours.value.reessayer_dans == 1
        return {"id": str(enfant_id)}

    reponse = idem.servir(compte, "k", b"corps", msgspec.json.encode, ajouter, 201)
    assert reponse == Reponse(201, msgspec.json.encode({"id": str(executions[0])}))
    assert idem.servir(compte, "k", b"corps", msgspec.json.encode, _jamais, 201) == reponse
    assert len(services.familles.foyer(famille_id).enfants) == 2

    table = sql.SQL("{}.portail_idempotence").format(sql.Identifier(base.schema))
    with psycopg.connect(base.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET statut = %s, corps = '', cree_le = now() - interval '2 minutes'").format(
                table
            ),
            (EN_COURS,),
        )
    with pytest.raises(ReponsePerdue):
        idem.servir(compte, "k", b"corps", msgspec.json.encode, _jamais, 201)
    assert len(executions) == 1


def _jamais(_demande: DemandeIdempotente) -> Any:
    raise AssertionError("la commande ne doit pas s'exécuter de nouveau")


def test_une_cle_en_cours_dans_le_processus_attend_la_premiere(services, base, horloge) -> None:
    """Requests with the same key at once in one process: the command runs once, the others wait
    for it and answer with its stored answer (racing it would fail its save, and every save of
    the process decided on top of it)."""
    import threading

    horloge.maintenant = MOMENT
    idem = services.idempotence
    compte = uuid.uuid4()
    appels: list[int] = []
    reserver = _reservation_comptee(services, appels)
    depart = threading.Barrier(4)
    reponses: list[Reponse] = []

    def demande() -> None:
        depart.wait()
        reponses.append(idem.servir(compte, "cle-simultanee", b"corps", _encoder, reserver))

    fils = [threading.Thread(target=demande) for _ in range(4)]
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    assert len(appels) == 1
    assert [r.corps for r in reponses] == [b"reserve"] * 4
    assert idem._en_cours == {}
