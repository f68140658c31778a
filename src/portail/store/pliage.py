"""Billing's facts as they stood at a log position, folded from the log a few families at a time.

Billing reads four kinds of aggregate: the commune's parameters and its accueils (a few, folded
whole), and each family's `Famille`, `Enfant` and `Planning` streams. The latter are read by the
family column every event carries (`famille_id`, written by the save function), a batch of
families per statement, so memory holds one batch, never the commune. Nothing is kept between
calls: the same position always gives the same facts, whatever was folded before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from eventsourcing.domain import Aggregate as AggregateBase
from eventsourcing.persistence import StoredEvent

from portail.domain.accueil import Accueil
from portail.domain.commune import Parametres
from portail.domain.faits_comptables import FaitsComptables
from portail.domain.famille import Famille
from portail.settings import Settings
from portail.store import lecture

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate
    from eventsourcing.persistence import Mapper
    from eventsourcing.postgres import PostgresDatastore

log = structlog.get_logger()

TOPICS_FAMILLE = ("portail:Famille.", "portail:Enfant.", "portail:Planning.")
FAMILLES_PAR_LOT = 200
TOPIC_FAITS_CONSERVES = Famille.FaitsComptablesConserves.TOPIC


def _filtre_topics(prefixes: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f"topic LIKE '{p}%%'" for p in prefixes) + ")"


def topics_de(*classes: type[Aggregate]) -> list[str]:
    """Every event topic of these aggregate classes (an exact list: the topic index serves it)."""
    return sorted(
        str(getattr(v, "TOPIC"))  # noqa: B009 - not declared on the library's base class
        for cls in classes
        for v in vars(cls).values()
        if isinstance(v, type)
        and issubclass(v, AggregateBase.Event)
        and isinstance(getattr(v, "TOPIC", None), str)
    )


TOPICS_COMMUNS = topics_de(Accueil, Parametres)


TAILLE_PLIS: int = Settings.familles_pliees
"""Families kept folded by default (the setting's default). A family of the benchmark's
10,000-child commune (5,143 families) holds about 21 KiB folded (a school year of its children's
plannings, their pointed presences shared: `Presence.pointee`), so this is at most about 125 MB,
whatever the commune's size. Fewer than the commune's families, and the bookings of a morning
fold again, at every page, the families that fell out (at 10,000 children with 2,500 kept: half
of the worker's processor)."""


class FamillesPliees:
    """The runner's families folded at a position, kept to be folded on from there (a booking's
    family is priced again at every page that touches it): a bounded number, the least recently
    used first out, so memory does not grow with the commune."""

    def __init__(self, taille: int = TAILLE_PLIS) -> None:
        self.taille = taille
        self._entrees: OrderedDict[UUID, tuple[int, dict[UUID, Aggregate]]] = OrderedDict()

    def prendre(self, famille_id: UUID, position: int) -> tuple[int, dict[UUID, Aggregate]] | None:
        """The family as folded at a position not after `position` (taken out: it is folded on)."""
        entree = self._entrees.pop(famille_id, None)
        return entree if entree is not None and entree[0] <= position else None

    def poser(self, famille_id: UUID, position: int, etat: dict[UUID, Aggregate]) -> None:
        self._entrees[famille_id] = (position, etat)
        while len(self._entrees) > self.taille:
            self._entrees.popitem(last=False)

    def contient(self, famille_id: UUID) -> bool:
        return famille_id in self._entrees

    def __len__(self) -> int:
        return len(self._entrees)

    def vider(self) -> None:
        self._entrees.clear()


class Pliage:
    def __init__(self, datastore: PostgresDatastore, mapper: Mapper[UUID], table_evenements: str) -> None:
        self.ds = datastore
        self.mapper = mapper
        self.table = f"{datastore.schema}.{table_evenements}" if datastore.schema else table_evenements

    def _plier(self, lignes: Iterable[tuple[Any, ...]], etat: dict[UUID, Aggregate]) -> None:
        """Fold stored events in log order; an aggregate one of whose events cannot be read (an
        altered record) is left out from there on, and the audit chain names the record."""
        illisibles: set[UUID] = set()
        for position, originator_id, version, topic, state in lignes:
            if originator_id in illisibles:
                continue
            try:
                evenement = self.mapper.to_domain_event(
                    StoredEvent(originator_id, version, topic, bytes(state))
                )
                etat[originator_id] = evenement.mutate(etat.get(originator_id))  # type: ignore[attr-defined]
            except Exception as erreur:
                log.error("fait_de_facturation_illisible", position=position, topic=topic, erreur=str(erreur))
                illisibles.add(originator_id)
                etat.pop(originator_id, None)

    def communs(self, position: int) -> dict[UUID, Aggregate]:
        """The commune's parameters and accueils at `position`."""
        etat: dict[UUID, Aggregate] = {}
        lignes = lecture.tuples(
            self.ds,
            f"SELECT notification_id, originator_id, originator_version, topic, state FROM {self.table}"
            " WHERE topic = ANY(%s) AND notification_id <= %s ORDER BY notification_id",
            (TOPICS_COMMUNS, position),
            binaire=True,
        )
        self._plier(lignes, etat)
        return etat

    def familles_facturables(self, position: int) -> list[UUID]:
        """The families with a planning at `position` (only a planning bills), in id order."""
        lignes = lecture.tuples(
            self.ds,
            f"SELECT DISTINCT famille_id FROM {self.table} WHERE notification_id <= %s"
            " AND famille_id IS NOT NULL AND topic LIKE 'portail:Planning.%%' ORDER BY famille_id",
            (position,),
        )
        return [ligne[0] for ligne in lignes]

    def familles_recentes(self, position: int, limite: int) -> list[UUID]:
        """The families with a planning at `position`, the most recently booked first, at most
        `limite`: those the next bookings are likeliest to touch."""
        lignes = lecture.tuples(
            self.ds,
            f"SELECT famille_id FROM {self.table} WHERE notification_id <= %s AND famille_id IS NOT NULL"
            " AND topic LIKE 'portail:Planning.%%' GROUP BY famille_id ORDER BY max(notification_id) DESC LIMIT %s",
            (position, limite),
        )
        return [ligne[0] for ligne in lignes]

    def familles(
        self,
        position: int,
        famille_ids: Iterable[UUID],
        par_lot: int = FAMILLES_PAR_LOT,
        plis: FamillesPliees | None = None,
    ) -> Iterator[tuple[UUID, dict[UUID, Aggregate], FaitsComptables | None]]:
        """Each family's `Famille`, `Enfant` and `Planning` aggregates at `position`, a batch of
        families per statement, in the order given; and, for an erased family, the accounting
        facts recorded at its erasure (later than `position`, they hold for every earlier one).
        With `plis` (the runner's), a family kept there at an earlier position is folded on from
        it: only its later events are read."""
        ids = list(famille_ids)
        trousseau = getattr(self.mapper, "trousseau", None)
        for debut in range(0, len(ids), par_lot):
            lot = ids[debut : debut + par_lot]
            gardes = {f: plis.prendre(f, position) for f in lot} if plis is not None else {}
            # A family kept is read from where it was folded, the others from the start: one
            # family not kept must not bring back the whole history of the batch's other ones.
            gardees = [f for f in lot if gardes.get(f) is not None]
            a_plier = [f for f in lot if gardes.get(f) is None]
            depuis = min((g[0] for g in gardes.values() if g is not None), default=position)
            lignes = lecture.tuples(
                self.ds,
                f"SELECT notification_id, originator_id, originator_version, topic, state, famille_id"
                f" FROM {self.table} WHERE (famille_id = ANY(%(a_plier)s)"
                f" OR (famille_id = ANY(%(gardees)s) AND notification_id > %(depuis)s))"
                f" AND notification_id <= %(position)s"
                f" AND {_filtre_topics(TOPICS_FAMILLE)}",
                {"a_plier": a_plier, "gardees": gardees, "depuis": depuis, "position": position},
                binaire=True,
            )
            # Put in log order here: the rows come almost in that order (the table's), which
            # Python's sort takes in one pass, where PostgreSQL's would spill a batch read from
            # the start (10 MB for 200 families) to disk.
            lignes.sort(key=itemgetter(0))
            if trousseau is not None:
                trousseau.precharger({ligne[1] for ligne in lignes})
            par_famille: dict[UUID, list[tuple[Any, ...]]] = {f: [] for f in lot}
            for ligne in lignes:
                par_famille[ligne[5]].append(ligne[:5])
            conserves = self._faits_conserves(lot)
            for famille_id in lot:
                garde = gardes.get(famille_id)
                etat: dict[UUID, Aggregate] = garde[1] if garde is not None else {}
                deja = garde[0] if garde is not None else 0
                self._plier((e for e in par_famille[famille_id] if e[0] > deja), etat)
                if plis is not None:
                    plis.poser(famille_id, position, etat)
                yield famille_id, etat, conserves.get(famille_id)

    def _faits_conserves(self, famille_ids: list[UUID]) -> dict[UUID, FaitsComptables]:
        lignes = lecture.tuples(
            self.ds,
            f"SELECT originator_id, originator_version, topic, state FROM {self.table}"
            " WHERE famille_id = ANY(%s) AND topic = %s ORDER BY notification_id",
            (famille_ids, TOPIC_FAITS_CONSERVES),
            binaire=True,
        )
        faits: dict[UUID, FaitsComptables] = {}
        for originator_id, version, topic, state in lignes:
            evenement = self.mapper.to_domain_event(StoredEvent(originator_id, version, topic, bytes(state)))
            faits[originator_id] = evenement.faits  # type: ignore[attr-defined]
        return faits
