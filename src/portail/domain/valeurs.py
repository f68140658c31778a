"""Value objects of the family file, each validated on construction with a French message."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import Enum

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from portail.domain.erreurs import ErreurValidation, Validateur


class Civilite(Enum):
    M = "M"
    MME = "Mme"


class SituationFamiliale(Enum):
    CELIBATAIRE = "celibataire"
    MARIE = "marie"
    PACSE = "pacse"
    CONCUBINAGE = "concubinage"
    SEPARE = "separe"
    DIVORCE = "divorce"
    VEUF = "veuf"
    NON_RENSEIGNE = "non_renseigne"


class Niveau(Enum):
    MATERNELLE = "maternelle"
    ELEMENTAIRE = "elementaire"


class Classe(Enum):
    TPS = "TPS"
    PS = "PS"
    MS = "MS"
    GS = "GS"
    CP = "CP"
    CE1 = "CE1"
    CE2 = "CE2"
    CM1 = "CM1"
    CM2 = "CM2"

    @property
    def niveau(self) -> Niveau:
        maternelle = {Classe.TPS, Classe.PS, Classe.MS, Classe.GS}
        return Niveau.MATERNELLE if self in maternelle else Niveau.ELEMENTAIRE


class SourceQuotient(Enum):
    CAF = "caf"
    MSA = "msa"
    ATTESTATION = "attestation"
    SAISIE = "saisie"


class Role(Enum):
    PARENT = "parent"
    AGENT = "agent"
    REGISSEUR = "regisseur"
    AUDITEUR = "auditeur"
    ADMIN = "admin"


_NOM = re.compile(r"^[^\W_]+(?:[ '’.\-]+[^\W_]+)*\.?$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_SEPARATEURS_TELEPHONE = re.compile(r"[\s.\-()\u00a0\u202f]")
_CODE_POSTAL = re.compile(r"^(?:0[1-9]|[1-8][0-9]|9[0-8])[0-9]{3}$")


def texte(valeur: str, *, nom_champ: str = "", longueur_max: int = 200) -> str:
    """A free text: trimmed, non-empty, no control characters."""
    propre = unicodedata.normalize("NFC", valeur).strip()
    if not propre:
        raise ErreurValidation.sur(nom_champ, "ne doit pas être vide")
    if len(propre) > longueur_max:
        raise ErreurValidation.sur(nom_champ, f"ne doit pas dépasser {longueur_max} caractères")
    if any(unicodedata.category(c).startswith("C") for c in propre):
        raise ErreurValidation.sur(nom_champ, "contient des caractères non imprimables")
    return propre


def nom_personne(valeur: str) -> str:
    """A family name or first name: letters (digits tolerated, as in "Enfant 1"), spaces,
    hyphens, apostrophes and dots; at least one letter."""
    propre = texte(valeur, longueur_max=100)
    if not any(c.isalpha() for c in propre):
        raise ErreurValidation.sur("", "doit contenir au moins une lettre")
    if not _NOM.match(propre) or any(c.isdigit() and not c.isascii() for c in propre):
        raise ErreurValidation.sur(
            "", "ne doit contenir que des lettres, chiffres, espaces, tirets ou apostrophes"
        )
    return propre


def email(valeur: str) -> str:
    """An e-mail address, lower-cased; the local part and domain must look deliverable."""
    propre = valeur.strip().lower()
    if not propre:
        raise ErreurValidation.sur("", "l'adresse e-mail est obligatoire")
    local = propre.split("@")[0]
    if (
        len(propre) > 254
        or not _EMAIL.match(propre)
        or len(local) > 64
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        raise ErreurValidation.sur("", "l'adresse e-mail n'est pas valide")
    return propre


def telephone(valeur: str) -> str:
    """A phone number: French (10 digits starting with 0, or +33) or international (+ and 8–15 digits).

    Stored without separators; French numbers in their national form.
    """
    # "+33 (0)6 …" is the usual international notation: the (0) is dropped.
    brut = _SEPARATEURS_TELEPHONE.sub("", valeur.strip().replace("(0)", ""))
    if brut.startswith("0033"):
        brut = "+33" + brut[4:]
    if brut.startswith("+33"):
        national = "0" + brut[3:]
        if re.fullmatch(r"0[1-9][0-9]{8}", national):
            return national
        raise ErreurValidation.sur("", "le numéro de téléphone n'est pas valide")
    if re.fullmatch(r"0[1-9][0-9]{8}", brut):
        return brut
    if re.fullmatch(r"\+[1-9][0-9]{7,14}", brut):
        return brut
    raise ErreurValidation.sur("", "le numéro de téléphone n'est pas valide (ex. 06 12 34 56 78)")


def code_postal(valeur: str) -> str:
    propre = valeur.strip().replace(" ", "")
    if not _CODE_POSTAL.match(propre):
        raise ErreurValidation.sur("", "le code postal doit comporter 5 chiffres")
    return propre


def siret(valeur: str) -> str:
    """A SIRET (SIREN + NIC): 14 digits whose Luhn sum is a multiple of 10, stored without spaces."""
    propre = valeur.replace(" ", "").replace("\u00a0", "")
    if not re.fullmatch(r"[0-9]{14}", propre):
        raise ErreurValidation.sur("", "le SIRET doit comporter 14 chiffres")
    somme = 0
    for rang, chiffre in enumerate(int(c) for c in reversed(propre)):
        double = chiffre * 2 if rang % 2 else chiffre
        somme += double - 9 if double > 9 else double
    if somme % 10:
        raise ErreurValidation.sur("", "le SIRET n'est pas valide (clé de contrôle de Luhn)")
    return propre


def identifiant_payfip(valeur: str) -> str:
    """The collectivité's PayFiP client number (numcli), 6 digits given by the DGFiP."""
    propre = valeur.strip()
    if not re.fullmatch(r"[0-9]{6}", propre):
        raise ErreurValidation.sur("", "l'identifiant PayFiP de la collectivité comporte 6 chiffres")
    return propre


def date_naissance(valeur: date, *, aujourd_hui: date, age_min: int, age_max: int) -> date:
    """A birth date that is neither in the future nor outside [age_min, age_max] years today."""
    if valeur > aujourd_hui:
        raise ErreurValidation.sur("", "la date de naissance ne peut pas être dans le futur")
    age = age_en_annees(valeur, aujourd_hui)
    if age > age_max:
        raise ErreurValidation.sur("", f"la date de naissance indique plus de {age_max} ans")
    if age < age_min:
        raise ErreurValidation.sur("", f"la date de naissance indique moins de {age_min} ans")
    return valeur


def age_en_annees(naissance: date, jour: date) -> int:
    return age_en_mois(naissance, jour) // 12


def age_en_mois(naissance: date, jour: date) -> int:
    mois = (jour.year - naissance.year) * 12 + (jour.month - naissance.month)
    if jour.day < naissance.day:
        mois -= 1
    return max(mois, 0)


def age_libelle(naissance: date, jour: date) -> str:
    """The age as parents read it: "9 ans et 8 mois", "1 an", "5 mois"."""
    total = age_en_mois(naissance, jour)
    ans, mois = divmod(total, 12)
    partie_ans = f"{ans} an{'s' if ans > 1 else ''}" if ans else ""
    partie_mois = f"{mois} mois" if mois else ""
    if partie_ans and partie_mois:
        return f"{partie_ans} et {partie_mois}"
    return partie_ans or partie_mois or "0 mois"


@dataclass(frozen=True)
class Adresse:
    ligne1: str
    code_postal: str
    commune: str
    ligne2: str | None = None

    @classmethod
    def creer(cls, ligne1: str, code_postal_: str, commune: str, ligne2: str | None = None) -> Adresse:
        v = Validateur()
        l1 = v.valeur("ligne1", lambda: texte(ligne1, longueur_max=200))
        l2 = (
            v.valeur("ligne2", lambda: texte(ligne2, longueur_max=200)) if ligne2 and ligne2.strip() else None
        )
        cp = v.valeur("code_postal", lambda: code_postal(code_postal_))
        com = v.valeur("commune", lambda: texte(commune, longueur_max=100))
        v.lever_si_erreurs()
        assert l1 is not None and cp is not None and com is not None
        return cls(ligne1=l1, code_postal=cp, commune=com, ligne2=l2)


@dataclass(frozen=True)
class Iban:
    """A SEPA-zone IBAN, kept in its compact electronic form."""

    valeur: str

    @classmethod
    def creer(cls, valeur: str) -> Iban:
        try:
            iban = IBAN(valeur)
        except SchwiftyException:
            raise ErreurValidation.sur("", "l'IBAN n'est pas valide") from None
        if not iban.in_sepa_zone:
            raise ErreurValidation.sur("", "l'IBAN doit appartenir à la zone SEPA")
        return cls(iban.compact)

    @property
    def masque(self) -> str:
        """Shown to people: country, check digits and the last four characters."""
        return f"{self.valeur[:4]} **** **** {self.valeur[-4:]}"

    def bic_deduit(self) -> str | None:
        bic = IBAN(self.valeur).bic
        return str(bic.compact) if bic is not None else None


def bic(valeur: str) -> str:
    try:
        return str(BIC(valeur.strip()).compact)
    except SchwiftyException:
        raise ErreurValidation.sur("", "le BIC n'est pas valide") from None
