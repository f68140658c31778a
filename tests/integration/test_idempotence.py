"""Idempotency keys: a retry while the first request runs is told to wait; the first answer is
replayed afterwards; another body under the same key is refused; a crashed claim is taken over."""

from __future__ import annotations

import hashlib
import threading
import uuid

import psycopg
import pytest
from psycopg import sql

from portail.store.idempotence import CleReutilisee, DemandeEnCours, Reponse


def test_cle_d_idempotence_en_cours_rejouee_et_reprise(services, base) -> None:
    idem = services.idempotence
    compte = uuid.uuid4()
    dedans = threading.Event()
    relache = threading.Event()
    appels: list[int] = []

    def lente() -> Reponse:
        appels.append(1)
        dedans.set()
        relache.wait(5)
        return Reponse(200, b'{"ok":1}')

    premier = threading.Thread(target=lambda: idem.executer(compte, "k1", b"corps", lente))
    premier.start()
    assert dedans.wait(5)
    with pytest.raises(DemandeEnCours):
        idem.executer(compte, "k1", b"corps", lente)
    relache.set()
    premier.join()
    assert idem.executer(compte, "k1", b"corps", lente) == Reponse(200, b'{"ok":1}')
    assert appels == [1]
    with pytest.raises(CleReutilisee):
        idem.executer(compte, "k1", b"autre corps", lente)

    # A claim left by a process that died is taken over once it is old enough.
    table = sql.SQL("{}.portail_idempotence").format(sql.Identifier(base.schema))
    with psycopg.connect(base.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (compte_id, cle, empreinte, statut, corps, cree_le) VALUES (%s, 'k2', %s, 0, '', now() - interval '2 minutes')"
            ).format(table),
            (compte, hashlib.sha256(b"corps").hexdigest()),
        )
    assert idem.executer(compte, "k2", b"corps", lambda: Reponse(200, b"repris")) == Reponse(200, b"repris")

    # A failed command frees its key for a retry.
    def echoue() -> Reponse:
        raise RuntimeError("panne")

    with pytest.raises(RuntimeError):
        idem.executer(compte, "k3", b"corps", echoue)
    assert idem.executer(compte, "k3", b"corps", lambda: Reponse(200, b"ok")) == Reponse(200, b"ok")
