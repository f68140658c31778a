"""The bounded queue of booking commands: admitted up to the bound, then told when to come back."""

from __future__ import annotations

from outils_horloge import HorlogeManuelle
from portail.api.admission import ATTENTE_MAX_S, CHEMINS_COMMANDES, FileBornee


def test_admis_jusqu_a_la_borne_puis_une_attente() -> None:
    file = FileBornee(3, HorlogeManuelle(100.0))
    assert [file.entrer() for _ in range(3)] == [None, None, None]
    attente = file.entrer()
    assert attente is not None and 1 <= attente <= ATTENTE_MAX_S
    assert file.en_cours == 3 and file.refusees == 1
    file.sortir()
    assert file.entrer() is None


def test_l_attente_suit_le_debit_mesure() -> None:
    horloge = HorlogeManuelle(100.0)
    file = FileBornee(100, horloge)
    # 100 commands ended in the last seconds: 20 per second.
    for _ in range(100):
        file.entrer()
    for _ in range(100):
        file.sortir()
    for _ in range(100):
        file.entrer()
    assert file.debit() == 20.0
    # 100 ahead at 20/s: 5 s, spread up to 7.5 s.
    assert all(5 <= file.attente() <= 8 for _ in range(50))
    # Seconds later, with nothing ended since, the rate is the floor of one per second.
    horloge.t += 10
    assert file.attente() == ATTENTE_MAX_S


def test_zero_ne_borne_rien() -> None:
    file = FileBornee(0, HorlogeManuelle(100.0))
    assert all(file.entrer() is None for _ in range(1000))


def test_les_routes_comptees() -> None:
    comptees = [
        "/api/enfants/e/reservations",
        "/api/enfants/e/reservations/recopier",
        "/api/enfants/e/annulations",
        "/planning/e/a/reservations",
        "/planning/e/a/annulations",
    ]
    libres = ["/api/enfants/e/planning", "/api/enfants/e/absences", "/planning/e/a", "/api/offres/o/accepter"]
    assert all(CHEMINS_COMMANDES.match(c) for c in comptees)
    assert not any(CHEMINS_COMMANDES.match(c) for c in libres)
