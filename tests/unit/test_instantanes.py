"""When a saved aggregate is snapshotted: every interval, then every ten intervals once it is past
ten (a summer day's `Capacite` grows with its waiting list; its snapshots must not cost the square
of its length)."""

from __future__ import annotations

from portail.application.portail import Portail, a_photographier
from portail.domain.capacite import Capacite
from portail.domain.planning import Planning


def test_un_jour_de_dix_mille_reservations_a_dix_neuf_instantanes() -> None:
    intervalle = Portail.snapshotting_intervals[Capacite]
    versions = [v for v in range(1, 10_001) if a_photographier(v, intervalle)]
    assert versions == [*range(100, 1_001, 100), *range(2_000, 10_001, 1_000)]


def test_les_ecarts_entre_instantanes_restent_bornes() -> None:
    for classe in (Capacite, Planning):
        intervalle = Portail.snapshotting_intervals[classe]
        versions = [v for v in range(1, 50 * intervalle) if a_photographier(v, intervalle)]
        ecarts = [b - a for a, b in zip([0, *versions], versions, strict=False)]
        # A cold load folds fewer than ten intervals of events after its snapshot.
        assert max(ecarts) <= 10 * intervalle
        assert versions[:10] == [intervalle * k for k in range(1, 11)]
