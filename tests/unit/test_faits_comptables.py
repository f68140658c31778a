"""The facts conserved at erasure give billing, at every position, what the family's own data gave."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any
from uuid import UUID

from portail.domain.commune import ID_PARAMETRES, Commune, Parametres
from portail.domain.enfant import Enfant
from portail.domain.facturation import aine_d_abord
from portail.domain.faits_comptables import Bascule, conserver, facturables
from portail.domain.famille import Famille
from portail.domain.personnes import IdentiteEnfant, Responsable, Sante, Scolarite
from portail.domain.quotient import QuotientFamilial
from portail.domain.valeurs import Adresse, Civilite, SourceQuotient

NANTES = Adresse.creer("3 rue des Lilas", "44000", "Nantes")
REZE = Adresse.creer("1 place de la Mairie", "44400", "Rezé")


class Journal:
    """The log: every aggregate's events in the order they were saved, with their positions."""

    def __init__(self) -> None:
        self.evenements: list[tuple[int, Any]] = []

    def noter(self, *aggregats: Any) -> None:
        for aggregat in aggregats:
            for evenement in aggregat.collect_events():
                self.evenements.append((len(self.evenements) + 1, evenement))

    def au(self, position: int) -> dict[UUID, Any]:
        """The aggregates folded up to `position`, as a campaign computed there folds them."""
        etat: dict[UUID, Any] = {}
        for p, evenement in self.evenements:
            if p <= position:
                etat[evenement.originator_id] = evenement.mutate(etat.get(evenement.originator_id))
        return etat


def _enfant(famille: Famille, prenom: str, naissance: date) -> Enfant:
    enfant = Enfant(
        famille_id=famille.id, identite=IdentiteEnfant("Martin", prenom, naissance), scolarite=Scolarite()
    )
    famille.ajouter_enfant(enfant.id)
    return enfant


def _illisible(agregat: Any) -> Any:
    """The same aggregate once its key is deleted: its personal fields read as None."""
    copie = copy.deepcopy(agregat)
    if isinstance(copie, Famille):
        copie.responsable = copie.adresse = None
    elif isinstance(copie, Enfant):
        copie.identite = copie.sante = None
    return copie


def _vue(etat: dict[UUID, Any], famille_id: UUID, position: int, conserves: Any) -> tuple[Any, list[UUID]]:
    """What billing sees: the family, and its children eldest first (their rank among any subset)."""
    enfants = [a for a in etat.values() if isinstance(a, Enfant)]
    parametres = etat.get(ID_PARAMETRES)
    familles, factures = facturables(etat[famille_id], enfants, parametres, position, conserves)
    ordre = sorted(
        factures.values(),
        key=lambda e: (e.ordre, "") if e.ordre is not None else aine_d_abord(e.naissance, e.enfant_id),
    )
    return (familles, {e.enfant_id: e.pai for e in factures.values()}), [e.enfant_id for e in ordre]


def test_les_faits_conserves_redonnent_a_chaque_position_ce_que_donnaient_les_donnees() -> None:
    journal = Journal()
    famille = Famille(responsable=Responsable(Civilite.MME, "Martin", "Claire"), adresse=NANTES)
    journal.noter(famille)  # no commune settings yet: résident
    parametres = Parametres(ID_PARAMETRES, Commune("Nantes", "44000"), None, 0)
    journal.noter(parametres)
    cadette = _enfant(famille, "Léa", date(2016, 4, 12))
    aine = _enfant(famille, "Tom", date(2014, 1, 3))
    journal.noter(famille, cadette, aine)
    cadette.modifier_sante(Sante(pai=True), date(2025, 9, 1))
    famille.enregistrer_quotient(QuotientFamilial(742, date(2025, 9, 1), SourceQuotient.CAF))
    journal.noter(cadette, famille)
    famille.modifier_adresse(REZE)  # extérieur
    journal.noter(famille)
    parametres.modifier(Commune("Rezé", "44400"), None, 0)  # résident again
    journal.noter(parametres)
    cadette.modifier_identite(IdentiteEnfant("Martin", "Léa", date(2012, 4, 12)))  # now the eldest
    journal.noter(cadette)
    benjamin = _enfant(famille, "Noé", date(2010, 6, 1))  # born earlier: first of all
    journal.noter(famille, benjamin)
    cadette.modifier_sante(Sante(pai=False), date(2026, 1, 5))
    journal.noter(cadette)

    faits = conserver(famille.id, journal.evenements)

    assert faits.residence == (Bascule(1, True), Bascule(9, False), Bascule(10, True))
    fin = len(journal.evenements)
    for position in range(1, fin + 1):
        etat = journal.au(position)
        lisible = _vue(etat, famille.id, position, None)
        efface = {sujet: _illisible(a) for sujet, a in etat.items()}
        assert _vue(efface, famille.id, position, faits) == lisible, position
    # A computation after the erasure (drafts: the latest state) sees the facts as they last stood.
    efface = {sujet: _illisible(a) for sujet, a in journal.au(fin).items()}
    assert _vue(efface, famille.id, None, faits) == _vue(journal.au(fin), famille.id, fin, None)
    # Without conserved facts (a family erased before they were kept), nothing is invented.
    (familles, pai), _ = _vue(efface, famille.id, fin, None)
    assert not familles[famille.id].resident
    assert not any(pai.values())
    assert familles[famille.id].quotients == (QuotientFamilial(742, date(2025, 9, 1), SourceQuotient.CAF),)
