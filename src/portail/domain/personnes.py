"""People of the family file: responsables, children's identity, health, authorised persons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from portail.domain.valeurs import Adresse, Civilite, Classe, Niveau


@dataclass(frozen=True)
class Responsable:
    """A legal guardian: the account holder ("moi") or the other responsable."""

    civilite: Civilite
    nom: str
    prenom: str
    telephone: str | None = None
    email: str | None = None
    adresse: Adresse | None = None
    date_naissance: date | None = None
    profession: str | None = None
    employeur: str | None = None
    telephone_professionnel: str | None = None
    lien: str | None = None


@dataclass(frozen=True)
class IdentiteEnfant:
    nom: str
    prenom: str
    date_naissance: date
    lieu_naissance: str | None = None


@dataclass(frozen=True)
class Scolarite:
    ecole: str | None = None
    niveau: Niveau | None = None
    classe: Classe | None = None


class RegimeAlimentaire(Enum):
    """Menu choices only: the CNIL forbids recording a religion, so no religious label here."""

    STANDARD = "standard"
    SANS_PORC = "sans_porc"
    SANS_VIANDE = "sans_viande"
    VEGETARIEN = "vegetarien"
    PANIER_REPAS = "panier_repas"


@dataclass(frozen=True)
class Medecin:
    nom: str
    telephone: str | None = None


@dataclass(frozen=True)
class Sante:
    """Renseignements médicaux of the fiche sanitaire."""

    allergies: tuple[str, ...] = ()
    regime_alimentaire: RegimeAlimentaire = RegimeAlimentaire.STANDARD
    pai: bool = False
    pai_detail: str | None = None
    medecin: Medecin | None = None
    vaccinations_a_jour: bool = False
    remarques: str | None = None


@dataclass(frozen=True)
class PersonneAutorisee:
    """Someone allowed to collect the child."""

    nom: str
    prenom: str
    telephone: str
    lien: str | None = None


@dataclass(frozen=True)
class Autorisations:
    droit_image: bool = False
    sortie_seul: bool = False
    transport: bool = False
    soins_urgence: bool = False
