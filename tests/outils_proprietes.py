"""An accueil of one SOIR unit and families to book it, for the property tests."""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

import msgspec

from outils_services import inscrire_famille
from portail.application.catalogue import SaisieAccueil, SaisieRegle, SaisieUnite
from portail.application.contexte import Contexte
from portail.domain.reservation import DemandeReservation, Resultat
from portail.settings import Settings
from portail.store.idempotence import DemandeIdempotente

JOURS = [date(2021, 10, 4), date(2021, 10, 5), date(2021, 10, 7)]
CTX = Contexte("proprietes", role="parent")
MOMENT = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)


def _accueil(services, capacite: int, liste_attente: str = "automatique") -> object:
    regle = SaisieRegle(ancrage="jour", heure_limite=time(18, 0), decalage_jours=1)
    saisie = SaisieAccueil(
        etablissement="PERISCOLAIRE",
        mode_accueil="Garderie",
        periode_libelle="2021-2022",
        periode_debut=date(2021, 9, 2),
        periode_fin=date(2022, 7, 6),
        jours=(1, 2, 4, 5),
        unites=(SaisieUnite("SOIR", "Soir", time(16, 30), time(18, 30), capacite),),
        regle_reservation=regle,
        regle_annulation=regle,
        liste_attente=liste_attente,
    )
    return services.catalogue.creer_accueil(Contexte.systeme("test"), saisie)


def _familles(services, n: int) -> list[tuple[object, object]]:
    enfants = []
    for i in range(n):
        famille_id = inscrire_famille(services, CTX)
        enfant_id = services.familles.ajouter_enfant(
            CTX, famille_id, "Martin", f"Enfant {i}", date(2014, 1, 1)
        )
        enfants.append((famille_id, enfant_id))
    return enfants


CAPACITE = 2
ENFANTS = 6
FILS = 4
OPERATIONS = 40
"""Per process: enough for every day to fill, empty and fill again."""


def _horloge() -> datetime:
    return MOMENT


def processus_reservant(
    url: str,
    schema: str,
    reglages: dict[str, Any],
    accueil_id: uuid.UUID,
    enfants: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]],
    graine: int,
    cles: list[str],
    sortie: Any,
    ensemble: Any,
) -> None:
    """One api process: books and cancels from FILS threads; sends back what it acknowledged."""
    from portail.bootstrap import construire_services
    from portail.store.database import BaseDeDonnees

    services = construire_services(
        Settings(**reglages), BaseDeDonnees(url, schema), _horloge, projections=False
    )
    services.portail.ecouter_journal()
    # Both processes ready before either books: their commands overlap.
    ensemble.wait(timeout=60)
    hasard = random.Random(graine)
    plan = [
        (hasard.randrange(ENFANTS), hasard.random() < 0.65, hasard.choice(JOURS), hasard.choice(cles))
        for _ in range(OPERATIONS)
    ]
    accuses: list[dict[str, Any]] = []
    erreurs: list[str] = []
    depart = threading.Barrier(FILS)

    def travailler(numero: int) -> None:
        depart.wait()
        for indice, reserver, jour, cle in plan[numero::FILS]:
            compte_id, famille_id, enfant_id = enfants[indice]
            ctx = Contexte(f"p{graine}", compte_id, "parent")
            demande = {"enfant": str(enfant_id), "reserver": reserver, "jour": jour.isoformat()}

            def commande(
                demande: DemandeIdempotente,
                ctx: Contexte = ctx,
                famille_id: uuid.UUID = famille_id,
                enfant_id: uuid.UUID = enfant_id,
                reserver: bool = reserver,
                jour: date = jour,
            ) -> list[Resultat]:
                # The key and its answer are written by the booking's own save, as over HTTP.
                avec_cle = replace(ctx, idempotence=demande)
                demandes = [DemandeReservation(jour, "SOIR")]
                if reserver:
                    return services.reservations.reserver(
                        avec_cle, famille_id, enfant_id, accueil_id, demandes
                    )
                return services.reservations.annuler(
                    avec_cle, famille_id, enfant_id, accueil_id, demandes, None
                )

            try:
                # The same key for the same request may come from the other process too.
                reponse = services.idempotence.servir(
                    compte_id,
                    f"{cle}-{indice}-{reserver}-{jour}",
                    msgspec.json.encode(demande),
                    lambda resultats: msgspec.json.encode([r.statut.value for r in resultats]),
                    commande,
                )
            except Exception as erreur:  # a conflict that kept failing
                erreurs.append(f"{type(erreur).__name__}: {erreur}")
                continue
            accuses.append(
                {
                    "enfant_id": str(enfant_id),
                    "compte_id": str(compte_id),
                    "reserver": reserver,
                    "jour": jour.isoformat(),
                    "cle": f"{cle}-{indice}-{reserver}-{jour}",
                    "statuts": msgspec.json.decode(reponse.corps),
                }
            )

    fils = [threading.Thread(target=travailler, args=(n,)) for n in range(FILS)]
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    services.portail.close()
    sortie.put({"accuses": accuses, "erreurs": erreurs})
