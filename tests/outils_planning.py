"""Helpers for the tests of Mon planning's pages: the seed guide's PERISCOLAIRE accueil written
through the services, at a fixed instant of its période, and bookings made the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from portail.application.catalogue import SaisieAccueil, SaisieRegle, SaisieUnite
from portail.application.contexte import Contexte
from portail.bootstrap import Services
from portail.domain.reservation import DemandeReservation, Resultat

MAINTENANT = datetime(2021, 9, 27, 8, 0, tzinfo=UTC)
"""A Monday of the accueil's période: bookings from the next day on are on time."""

VEILLE_18H = SaisieRegle("jour", time(18, 0), decalage_jours=1)

PERISCOLAIRE = SaisieAccueil(
    etablissement="PERISCOLAIRE",
    mode_accueil="Garderie et Restauration",
    periode_libelle="Année scolaire 2021-2022",
    periode_debut=date(2021, 9, 2),
    periode_fin=date(2022, 7, 6),
    jours=(1, 2, 4, 5),
    unites=(
        SaisieUnite("MATIN", "Accueil du matin", time(7, 15), time(8, 20), 30),
        SaisieUnite("MIDI", "Restauration", time(11, 30), time(13, 30), 120, incompatibles=("SOIR",)),
        SaisieUnite("SOIR", "Accueil du soir", time(16, 30), time(18, 30), 30),
    ),
    regle_reservation=VEILLE_18H,
    regle_annulation=VEILLE_18H,
    zone_scolaire="A",
    hors_vacances_scolaires=True,
)


def creer_accueil(services: Services, **modifs: Any) -> UUID:
    accueil_id = services.catalogue.creer_accueil(Contexte.systeme("test"), replace(PERISCOLAIRE, **modifs))
    services.apres_ecriture()
    return accueil_id


def reserver(
    services: Services, famille_id: UUID, enfant_id: UUID, accueil_id: UUID, *presences: tuple[date, str]
) -> list[Resultat]:
    return _commande(services.reservations.reserver, famille_id, enfant_id, accueil_id, presences, services)


def annuler(
    services: Services, famille_id: UUID, enfant_id: UUID, accueil_id: UUID, *presences: tuple[date, str]
) -> list[Resultat]:
    def annulation(*arguments: Any) -> list[Resultat]:
        return services.reservations.annuler(*arguments, None)

    return _commande(annulation, famille_id, enfant_id, accueil_id, presences, services)


def _commande(
    commande: Callable[..., list[Resultat]],
    famille_id: UUID,
    enfant_id: UUID,
    accueil_id: UUID,
    presences: tuple[tuple[date, str], ...],
    services: Services,
) -> list[Resultat]:
    demandes = [DemandeReservation(jour, unite) for jour, unite in presences]
    resultats = commande(Contexte.systeme("test"), famille_id, enfant_id, accueil_id, demandes)
    services.apres_ecriture()
    return resultats
