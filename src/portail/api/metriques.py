"""Prometheus metrics: requests per route (count and latency), projection lag, write conflicts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from portail.bootstrap import Services

SECONDES = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _Etat(Collector):
    """Read at scrape time from the running services."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        portail = self.services.portail
        fin = portail.recorder.max_notification_id() or 0
        retard = GaugeMetricFamily(
            "portail_projections_retard", "Événements du journal pas encore appliqués aux vues"
        )
        retard.add_metric([], max(0, fin - self.services.suivi.position))
        yield retard
        position = GaugeMetricFamily(
            "portail_journal_position", "Dernière position du journal des événements"
        )
        position.add_metric([], fin)
        yield position
        conflits = CounterMetricFamily(
            "portail_conflits", "Écritures concurrentes rejouées (concurrence optimiste)"
        )
        conflits.add_metric([], portail.conflits)
        yield conflits
        persistants = CounterMetricFamily(
            "portail_conflits_persistants", "Commandes abandonnées après trop de conflits"
        )
        persistants.add_metric([], portail.conflits_persistants)
        yield persistants
        reservations = self.services.reservations
        boucle = CounterMetricFamily(
            "portail_reservations_boucle", "Réservations servies sur la boucle d'événements"
        )
        boucle.add_metric([], reservations.sur_la_boucle)
        yield boucle
        en_fil = CounterMetricFamily(
            "portail_reservations_en_fil",
            "Réservations que la boucle a confiées à un fil, par motif",
            labels=["motif"],
        )
        for motif in ("lecture", "verrou", "residence", "connexion"):
            en_fil.add_metric([motif], reservations.en_fil[motif])
        yield en_fil


class Metriques:
    def __init__(self) -> None:
        self.registre = CollectorRegistry()
        self.requetes = Histogram(
            "portail_requetes_secondes",
            "Durée des requêtes HTTP par route",
            ["methode", "route", "statut"],
            buckets=SECONDES,
            registry=self.registre,
        )

    def suivre(self, services: Services) -> None:
        self.registre.register(_Etat(services))

    def observer(self, methode: str, route: str, statut: int, secondes: float) -> None:
        self.requetes.labels(methode, route, str(statut)).observe(secondes)

    def texte(self) -> bytes:
        return generate_latest(self.registre)


def route_de(scope: Any) -> str:
    """The route's template (`/api/enfants/{enfant_id}`), never the ids themselves."""
    return str(scope.get("path_template") or "inconnue")
