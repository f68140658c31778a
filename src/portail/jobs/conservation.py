"""Retention: families that left the commune's services long ago are erased (crypto-shredding),
their accounting records kept (amounts, dates, invoice numbers stay readable).

A family has *left* on a date when none of its children has a day booked, on a waiting list or
pointed from that date on, nothing about it was recorded since (its own changes, bookings,
pointages, invoices, payments: the auditors' index of the log), and none of its invoices still
owes money. The date is today minus `PORTAIL_RETENTION_ANNEES` years.

The selection reads the read models, which may be behind the ledger; the erasure itself refuses a
family that owes money (`SoldeNonRegle`): such a family is kept, and the run says why.
"""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID

import structlog

from portail.application.contexte import Contexte
from portail.domain.encours import SoldeNonRegle
from portail.domain.famille import Famille
from portail.domain.regles.calendrier import PARIS
from portail.jobs.outils import Outils

NOM = "conservation"
log = structlog.get_logger("portail.jobs")


def limite_conservation(aujourd_hui: date, annees: int) -> date:
    try:
        return aujourd_hui.replace(year=aujourd_hui.year - annees)
    except ValueError:  # 29 February
        return aujourd_hui.replace(year=aujourd_hui.year - annees, day=28)


class Effacees(list[UUID]):
    """The families a run erased; `gardees`: those it selected but kept, and why."""

    def __init__(self) -> None:
        super().__init__()
        self.gardees: dict[UUID, str] = {}


def effacer_familles_parties(outils: Outils) -> Effacees:
    limite = limite_conservation(outils.aujourd_hui(), outils.reglages.retention_annees)
    contexte = Contexte.systeme(NOM)
    effacees = Effacees()
    for famille_id in outils.echeances.familles_parties(limite, datetime.combine(limite, time(), PARIS)):
        # The read model may be behind an erasure made a moment ago: the aggregate decides.
        if outils.portail.charger(Famille, famille_id).effacee:
            continue

        def liberer(enfant_id: UUID, famille_id: UUID = famille_id) -> None:
            for accueil_id in outils.lectures.accueils_de_l_enfant(enfant_id):
                outils.reservations.liberer_avenir(contexte, famille_id, enfant_id, accueil_id)

        try:
            outils.effacer_famille(contexte, famille_id, liberer)
        except SoldeNonRegle as refus:
            log.warning("famille_gardee", famille_id=str(famille_id), motif=refus.detail)
            effacees.gardees[famille_id] = refus.detail
            continue
        log.info("famille_effacee", famille_id=str(famille_id), partie_avant=limite.isoformat())
        effacees.append(famille_id)
    return effacees
