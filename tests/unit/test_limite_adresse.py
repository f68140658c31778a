"""The per-address request limit: fixed windows of a minute, a counter per address."""

from __future__ import annotations

from outils_horloge import HorlogeManuelle
from portail.api.limite import FENETRE_S, PURGE_TOUTES_LES, FenetresParAdresse


def test_au_dela_de_la_limite_refuse_jusqu_a_la_fin_de_la_fenetre() -> None:
    horloge = HorlogeManuelle(1000.0)
    fenetres = FenetresParAdresse(3, horloge)
    decomptes = [fenetres.compter("10.0.0.1") for _ in range(3)]
    assert [d.admis for d in decomptes] == [True, True, True]
    assert [d.restantes for d in decomptes] == [2, 1, 0]
    horloge.t += 20
    refus = fenetres.compter("10.0.0.1")
    assert not refus.admis
    assert refus.restantes == 0
    assert refus.reinitialisation_s == FENETRE_S - 20
    # Another address has its own window.
    assert fenetres.compter("10.0.0.2").admis
    # The window ends: counted again from zero.
    horloge.t += FENETRE_S - 20
    assert fenetres.compter("10.0.0.1").restantes == 2


def test_les_refus_ne_prolongent_pas_la_fenetre() -> None:
    horloge = HorlogeManuelle(1000.0)
    fenetres = FenetresParAdresse(1, horloge)
    assert fenetres.compter("a").admis
    for _ in range(100):
        horloge.t += 0.5
        assert not fenetres.compter("a").admis
    horloge.t = 1000.0 + FENETRE_S
    assert fenetres.compter("a").admis


def test_les_fenetres_finies_sont_oubliees() -> None:
    horloge = HorlogeManuelle(1000.0)
    fenetres = FenetresParAdresse(10, horloge)
    for i in range(PURGE_TOUTES_LES - 1):
        fenetres.compter(f"ancienne-{i}")
    horloge.t += FENETRE_S + 1
    fenetres.compter("nouvelle")
    # The sweep ran on the new address that reached the count: only live windows are left.
    assert len(fenetres) == 1
