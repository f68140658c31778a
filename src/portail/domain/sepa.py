"""SEPA direct debit: a family's mandate, the creditor identifier (ICS) of the régie, the sequence
type and the collection date of a debit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum
from uuid import UUID

from portail.domain.erreurs import ErreurValidation
from portail.domain.regles.target2 import est_ouvre, jour_ouvre_suivant, prochain_jour_ouvre
from portail.domain.valeurs import Iban


@dataclass(frozen=True)
class MandatSepa:
    rum: str
    titulaire: str | None  # None once the family is erased
    iban: Iban | None
    bic: str | None
    signe_le: date
    revoque_le: date | None = None

    @property
    def actif(self) -> bool:
        return self.revoque_le is None


def generer_rum(famille_id: UUID, numero: int) -> str:
    """Référence unique de mandat: stable for a family and its n-th mandate, ≤ 35 characters."""
    return f"PF-{famille_id.hex[:16].upper()}-{numero:03d}"


class Sequence(Enum):
    """The pain.008 sequence type: a mandate's first debit, then the recurrent ones."""

    FRST = "FRST"
    RCUR = "RCUR"


_ICS = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}")
LONGUEURS_NATIONALES = {"FR": 6}
"""Length of the national part where it is known (FRkkZZZnnnnnn)."""


def ics(valeur: str) -> str:
    """A creditor identifier, upper-cased without spaces: country, two check digits, a business
    code of three characters, the national identifier; checked by ISO 7064 mod 97-10 as an IBAN
    is, the business code left out of the check."""
    compact = "".join(valeur.split()).upper()
    if not _ICS.fullmatch(compact) or len(compact) > 35:
        raise ErreurValidation.sur(
            "",
            "l'ICS s'écrit pays (2 lettres), clé (2 chiffres), code activité (3 caractères) puis "
            "identifiant national, par exemple FR72ZZZ123456",
        )
    pays, cle, national = compact[:2], compact[2:4], compact[7:]
    attendu = LONGUEURS_NATIONALES.get(pays)
    if attendu is not None and len(national) != attendu:
        raise ErreurValidation.sur("", f"l'identifiant national d'un ICS {pays} a {attendu} caractères")
    # Letters count as 10 to 35, as in an IBAN.
    chiffres = "".join(str(int(c, 36)) for c in national + pays + cle)
    if int(chiffres) % 97 != 1:
        raise ErreurValidation.sur("", "la clé de l'ICS ne correspond pas (contrôle modulo 97)")
    return compact


def date_de_prelevement(aujourd_hui: date, demandee: date | None, prevue: date) -> date:
    """The collection date of a debit. Asked for: it must be a TARGET2 business day after today
    (a bank takes a file at the latest the business day before). Not asked for: the planned date
    (an invoice's due date) moved to a business day, and never earlier than allowed."""
    au_plus_tot = jour_ouvre_suivant(aujourd_hui)
    if demandee is None:
        return max(prochain_jour_ouvre(prevue), au_plus_tot)
    if demandee < au_plus_tot:
        raise ErreurValidation.sur(
            "date",
            f"au plus tôt le {au_plus_tot:%d/%m/%Y}, premier jour ouvré TARGET2 après aujourd'hui",
        )
    if not est_ouvre(demandee):
        raise ErreurValidation.sur(
            "date",
            f"le {demandee:%d/%m/%Y} n'est pas un jour ouvré TARGET2 (samedi, dimanche, 1er janvier, "
            "Vendredi saint, lundi de Pâques, 1er mai, 25 et 26 décembre) ; "
            f"le suivant est le {prochain_jour_ouvre(demandee):%d/%m/%Y}",
        )
    return demandee
