"""Domain errors, each carrying a French message that people read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ErreurChamp:
    champ: str
    message: str


class ErreurDomaine(Exception):
    """Base of every refusal the domain makes; the message is French and shown to people."""

    type_probleme = "erreur-metier"
    titre = "Demande refusée"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ErreurValidation(ErreurDomaine):
    """One or several fields are invalid; nothing is recorded."""

    type_probleme = "donnees-invalides"
    titre = "Données invalides"

    def __init__(self, erreurs: list[ErreurChamp]) -> None:
        self.erreurs = list(erreurs)
        super().__init__("; ".join(f"{e.champ} : {e.message}" for e in self.erreurs))

    @classmethod
    def sur(cls, champ: str, message: str) -> ErreurValidation:
        return cls([ErreurChamp(champ, message)])


class Introuvable(ErreurDomaine):
    type_probleme = "introuvable"
    titre = "Ressource introuvable"


class Conflit(ErreurDomaine):
    type_probleme = "conflit"
    titre = "Conflit"


class RegleMetier(ErreurDomaine):
    """A well-formed request that a business rule refuses."""

    type_probleme = "regle-metier"
    titre = "Opération impossible"


class Validateur:
    """Collects field errors so that a whole payload is checked before anything is refused."""

    def __init__(self) -> None:
        self.erreurs: list[ErreurChamp] = []

    def valeur(self, champ: str, fabrique: Callable[[], T]) -> T | None:
        """Build a value object, recording its error under `champ` instead of raising."""
        try:
            return fabrique()
        except ErreurValidation as erreur:
            self.absorber(erreur, champ)
            return None

    def ajouter(self, champ: str, message: str) -> None:
        self.erreurs.append(ErreurChamp(champ, message))

    def absorber(self, erreur: ErreurValidation, prefixe: str = "") -> None:
        for e in erreur.erreurs:
            champ = f"{prefixe}.{e.champ}" if prefixe and e.champ else (prefixe or e.champ)
            self.erreurs.append(ErreurChamp(champ, e.message))

    def lever_si_erreurs(self) -> None:
        if self.erreurs:
            raise ErreurValidation(list(self.erreurs))


def valider(champ: str, fabrique: Callable[[], T]) -> T:
    """Build one value, reporting its error under `champ`."""
    v = Validateur()
    valeur = v.valeur(champ, fabrique)
    v.lever_si_erreurs()
    return valeur  # type: ignore[return-value]  # not None when no error was recorded
