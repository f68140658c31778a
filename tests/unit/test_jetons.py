"""Session tokens: a signature checked once is not checked again, and nothing else is relaxed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from portail.application.jetons import JetonRefuse, Jetons

MAINTENANT = datetime(2027, 7, 1, 8, 30, tzinfo=UTC)


def test_un_jeton_lu_deux_fois_donne_les_memes_revendications() -> None:
    jetons = Jetons("secret")
    compte = uuid.uuid4()
    emis = jetons.emettre(compte, MAINTENANT, timedelta(minutes=120))
    premiere = jetons.lire(emis.jeton, MAINTENANT)
    seconde = jetons.lire(emis.jeton, MAINTENANT + timedelta(minutes=1))
    assert premiere == seconde
    assert seconde["sub"] == str(compte)
    assert seconde["csrf"] == emis.csrf


def test_un_jeton_deja_lu_expire_a_son_heure() -> None:
    jetons = Jetons("secret")
    emis = jetons.emettre(uuid.uuid4(), MAINTENANT, timedelta(minutes=10))
    jetons.lire(emis.jeton, MAINTENANT)
    with pytest.raises(JetonRefuse):
        jetons.lire(emis.jeton, MAINTENANT + timedelta(minutes=10))


def test_une_signature_alteree_reste_refusee_meme_apres_le_vrai() -> None:
    jetons = Jetons("secret")
    emis = jetons.emettre(uuid.uuid4(), MAINTENANT, timedelta(minutes=10))
    jetons.lire(emis.jeton, MAINTENANT)
    entete, charge, signature = emis.jeton.split(".")
    altere = f"{entete}.{charge}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(JetonRefuse):
        jetons.lire(altere, MAINTENANT)
    # Signed with another secret: refused too.
    with pytest.raises(JetonRefuse):
        Jetons("autre").lire(emis.jeton, MAINTENANT)


def test_la_memoire_des_jetons_verifies_est_bornee() -> None:
    jetons = Jetons("secret")
    jetons.VERIFIES_MAX = 3  # type: ignore[misc]
    emis = [jetons.emettre(uuid.uuid4(), MAINTENANT, timedelta(minutes=10)) for _ in range(5)]
    for e in emis:
        jetons.lire(e.jeton, MAINTENANT)
    assert len(jetons._verifies) <= 3
    # Forgotten or not, each still reads.
    assert all(jetons.lire(e.jeton, MAINTENANT)["csrf"] == e.csrf for e in emis)
