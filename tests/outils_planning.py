"""Helpers for the tests of Mon planning's pages: the seed guide's PERISCOLAIRE accueil written
through the services, at a fixed instant of its période, and bookings made the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from portail.application.catalogue import SaisieAccueil, SaisieRegle, SaisieUnite, definir_tarifs
from portail.application.contexte import Contexte
from portail.bootstrap import Services
from portail.domain.reservation import DemandeReservation, Resultat
from portail.domain.tarifs import Grille, ModeTarif, Residence

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


REGIE = {
    "nom": "Régie périscolaire de Nantes",
    "prefixe_factures": "PF",
    "ics": "FR72ZZZ123456",
    "iban": "FR7630006000011234567890189",
    "adresse": "Hôtel de ville, 44000 Nantes",
    "ordre_cheques": "Régie périscolaire de Nantes",
    "payfip_client": "012345",
}


def facture_d_octobre(services: Services, horloge: Any, famille_id: UUID, enfants: list[UUID]) -> UUID:
    """October 2021 billed: MATIN (1,50 €) and MIDI (3,50 €) booked on Monday 4 and Tuesday 5 for
    each child, the campaign prepared and issued on 2 November; the family's invoice."""
    systeme = Contexte.systeme("test")
    services.catalogue.definir_parametres(systeme, "Nantes", "44000", REGIE, 0)
    accueil = creer_accueil(services)
    grilles = [
        Grille(unite=u, residence=Residence.TOUS, mode=ModeTarif.FORFAIT, prix_cents=p)
        for u, p in (("MATIN", 150), ("MIDI", 350))
    ]
    definir_tarifs(services.portail, systeme, accueil, date(2021, 9, 1), grilles)
    for enfant in enfants:
        reserver(
            services,
            famille_id,
            enfant,
            accueil,
            *((jour, u) for jour in (date(2021, 10, 4), date(2021, 10, 5)) for u in ("MATIN", "MIDI")),
        )
    horloge.maintenant = datetime(2021, 11, 2, 9, 0, tzinfo=UTC)
    campagne, _ = services.facturation.preparer(systeme, "2021-10", None)
    services.facturation.emettre(systeme, campagne.id)
    services.apres_ecriture()
    factures = services.lectures.factures(famille_id)
    assert len(factures) == 1
    return UUID(str(factures[0]["facture_id"]))
