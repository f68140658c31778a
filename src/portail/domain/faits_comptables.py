"""What billing needs to price a family again once its personal data are erased.

Billing reads three facts from encrypted fields: the family's residence (its address, against the
commune settings), each child's PAI (its fiche sanitaire) and its rank among its siblings (birth
dates). Once the family's key is deleted no fold of the log gives them back, so the erasure first
records them in clear (`Famille.FaitsComptablesConserves`) as they stood at every log position, and
`facturables` takes them from there whenever the family's own data can no longer be read. The
quotient familial needs no such record: it is stored in clear and stays readable.

A fact is kept as its history of changes: `(position, value)` from that log position on, until
the next change. A child's rank is kept as an order key among all the family's children (eldest
first, as billing ranks them), which gives the same rank among any subset of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from portail.domain.commune import ID_PARAMETRES
from portail.domain.facturation import EnfantFacture, FamilleFacturee, aine_d_abord

if TYPE_CHECKING:
    from portail.domain.commune import Parametres
    from portail.domain.enfant import Enfant
    from portail.domain.famille import Famille


@dataclass(frozen=True)
class Bascule:
    """A yes/no fact's value from a log position on."""

    position: int
    valeur: bool


@dataclass(frozen=True)
class Ordre:
    """A child's order key among its siblings from a log position on (1 = eldest)."""

    position: int
    ordre: int


@dataclass(frozen=True)
class FaitsEnfant:
    enfant_id: UUID
    pai: tuple[Bascule, ...]
    ordres: tuple[Ordre, ...]


@dataclass(frozen=True)
class FaitsComptables:
    residence: tuple[Bascule, ...]
    enfants: tuple[FaitsEnfant, ...]

    def enfant(self, enfant_id: UUID) -> FaitsEnfant | None:
        return next((e for e in self.enfants if e.enfant_id == enfant_id), None)


H = TypeVar("H", Bascule, Ordre)


def en_vigueur(historique: Sequence[H], position: int | None) -> H | None:
    """The change in force at `position` (the last one when None): the latest at or before it."""
    retenu = None
    for changement in historique:
        if position is not None and changement.position > position:
            break
        retenu = changement
    return retenu


# The facts as billing reads them from the aggregates: the conserved history is made of these.


def resident(famille: Famille, parametres: Parametres | None) -> bool:
    """Every family is résident while the commune has no settings."""
    return parametres.commune.est_residente(famille.adresse) if parametres is not None else True


def pai(enfant: Enfant) -> bool:
    return bool(enfant.sante and enfant.sante.pai)


def naissance(enfant: Enfant) -> date | None:
    return enfant.identite.date_naissance if enfant.identite else None


def lisible(famille: Famille) -> bool:
    """Whether the family's personal data can be read: an address is required from registration
    on, so none means its key was deleted (or it was erased at this position)."""
    return famille.adresse is not None


def facturables(
    famille: Famille | None,
    enfants: Iterable[Enfant],
    parametres: Parametres | None,
    position: int | None,
    conserves: FaitsComptables | None,
) -> tuple[dict[UUID, FamilleFacturee], dict[UUID, EnfantFacture]]:
    """Billing's view of a family and its children at `position` (None: the latest): from their
    data while they can be read, from the facts conserved at erasure once they cannot."""
    familles: dict[UUID, FamilleFacturee] = {}
    if famille is not None:
        est_resident = resident(famille, parametres)
        if conserves is not None and not lisible(famille):
            conservee = en_vigueur(conserves.residence, position)
            est_resident = conservee.valeur if conservee else est_resident
        familles[famille.id] = FamilleFacturee(famille.id, est_resident, tuple(famille.quotients))
    factures: dict[UUID, EnfantFacture] = {}
    for enfant in enfants:
        # An identity is required from registration on too: none means the child's data are gone.
        faits = conserves.enfant(enfant.id) if conserves is not None and enfant.identite is None else None
        if faits is None:
            factures[enfant.id] = EnfantFacture(enfant.id, enfant.famille_id, naissance(enfant), pai(enfant))
            continue
        avec_pai = en_vigueur(faits.pai, position)
        ordre = en_vigueur(faits.ordres, position)
        factures[enfant.id] = EnfantFacture(
            enfant.id,
            enfant.famille_id,
            None,
            avec_pai.valeur if avec_pai else pai(enfant),
            ordre.ordre if ordre else None,
        )
    return familles, factures


def conserver(famille_id: UUID, historique: Iterable[tuple[int, Any]]) -> FaitsComptables:
    """The facts billing read at every position, from the events of the family, its children and
    the commune settings with their log positions, in log order (read while they are readable)."""
    famille: Famille | None = None
    parametres: Parametres | None = None
    enfants: dict[UUID, Enfant] = {}
    residence: list[Bascule] = []
    pais: dict[UUID, list[Bascule]] = {}
    ordres: dict[UUID, list[Ordre]] = {}
    for position, evenement in historique:
        sujet = evenement.originator_id
        if sujet == famille_id:
            famille = evenement.mutate(famille)
        elif sujet == ID_PARAMETRES:
            parametres = evenement.mutate(parametres)
        else:
            enfants[sujet] = evenement.mutate(enfants.get(sujet))
        if famille is not None:
            _noter(residence, Bascule(position, resident(famille, parametres)))
        for enfant in enfants.values():
            _noter(pais.setdefault(enfant.id, []), Bascule(position, pai(enfant)))
        aines = sorted(enfants.values(), key=lambda e: aine_d_abord(naissance(e), e.id))
        for rang, enfant in enumerate(aines, start=1):
            _noter(ordres.setdefault(enfant.id, []), Ordre(position, rang))
    return FaitsComptables(
        tuple(residence),
        tuple(FaitsEnfant(e, tuple(pais[e]), tuple(ordres[e])) for e in sorted(enfants, key=str)),
    )


def _noter(historique: list[H], changement: H) -> None:
    """Only changes are kept: the same value again adds nothing."""
    if not historique or _valeur(historique[-1]) != _valeur(changement):
        historique.append(changement)


def _valeur(changement: Bascule | Ordre) -> bool | int:
    return changement.valeur if isinstance(changement, Bascule) else changement.ordre
