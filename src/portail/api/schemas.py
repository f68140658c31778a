"""Request and response bodies of the HTTP contract (API.md), as msgspec Structs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Texte = Annotated[str, msgspec.Meta(max_length=200)]
TexteLong = Annotated[str, msgspec.Meta(max_length=2000)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
MotDePasse = Annotated[str, msgspec.Meta(max_length=128)]
Civilite = Literal["M", "Mme"]
Niveau = Literal["maternelle", "elementaire"]
Classe = Literal["TPS", "PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"]
SituationFamiliale = Literal[
    "celibataire", "marie", "pacse", "concubinage", "separe", "divorce", "veuf", "non_renseigne"
]
SourceQuotient = Literal["caf", "msa", "attestation", "saisie"]
RoleNom = Literal["parent", "agent", "regisseur", "auditeur", "admin"]
Regime = Literal["standard", "sans_porc", "sans_viande", "vegetarien", "panier_repas"]


class Entree(msgspec.Struct, forbid_unknown_fields=True):
    """Request bodies: an unknown field is refused (422), never silently ignored."""


# Access


class ConnexionIn(Entree):
    email: Email
    mot_de_passe: MotDePasse
    se_souvenir_de_moi: bool = False


class CompteOut(msgspec.Struct):
    id: UUID
    email: str | None
    roles: list[RoleNom]
    famille_id: UUID | None


class ConnexionOut(msgspec.Struct):
    token: str
    expire_le: datetime
    compte: CompteOut
    csrf: str


class MotDePasseOublieIn(Entree):
    email: Email


class ReinitialisationIn(Entree):
    token: Annotated[str, msgspec.Meta(max_length=200)]
    mot_de_passe: MotDePasse


class AdresseIn(Entree):
    ligne1: Texte
    code_postal: Annotated[str, msgspec.Meta(max_length=10)]
    commune: Texte
    ligne2: Texte | None = None


class AdresseOut(msgspec.Struct):
    ligne1: str
    ligne2: str | None
    code_postal: str
    commune: str


class ResponsableInscriptionIn(Entree):
    civilite: Civilite
    nom: Texte
    prenom: Texte
    telephone: Annotated[str, msgspec.Meta(max_length=30)]
    adresse: AdresseIn


class InscriptionIn(Entree):
    email: Email
    mot_de_passe: MotDePasse
    responsable: ResponsableInscriptionIn


class InscriptionOut(msgspec.Struct):
    compte_id: UUID
    famille_id: UUID


class CompteCreationIn(Entree):
    email: Email
    mot_de_passe: MotDePasse
    roles: Annotated[list[RoleNom], msgspec.Meta(min_length=1, max_length=5)]


class IdOut(msgspec.Struct):
    id: UUID


# Mon profil


class ResponsableOut(msgspec.Struct):
    civilite: str
    nom: str
    prenom: str
    telephone: str | None
    email: str | None
    adresse: AdresseOut | None
    date_naissance: date | None
    profession: str | None
    employeur: str | None
    telephone_professionnel: str | None
    lien: str | None


class MoiOut(msgspec.Struct):
    compte: CompteOut
    responsable: ResponsableOut | None
    famille_id: UUID | None


class MoiPatch(Entree):
    """Fields left out do not change; an empty string clears an optional field."""

    telephone: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    adresse: AdresseIn | None = None
    date_naissance: date | None = None
    profession: Texte | None = None
    employeur: Texte | None = None
    telephone_professionnel: Annotated[str, msgspec.Meta(max_length=30)] | None = None


class EmailIn(Entree):
    email: Email
    mot_de_passe: MotDePasse


class MotDePasseIn(Entree):
    ancien: MotDePasse
    nouveau: MotDePasse


# Mon foyer


class QuotientOut(msgspec.Struct):
    valeur: int
    valable_du: date
    source: SourceQuotient


class MandatOut(msgspec.Struct):
    rum: str
    iban_masque: str
    bic: str | None
    titulaire: str | None
    signe_le: date
    actif: bool


class EnfantResume(msgspec.Struct):
    id: UUID
    nom: str | None
    prenom: str | None
    date_naissance: date | None
    age: str | None


class FoyerOut(msgspec.Struct):
    id: UUID
    responsables: list[ResponsableOut]
    adresse: AdresseOut | None
    situation_familiale: SituationFamiliale | None
    enfants: list[EnfantResume]
    quotient_familial: QuotientOut | None
    mandat_sepa: MandatOut | None


class FoyerPatch(Entree):
    situation_familiale: SituationFamiliale | None = None
    adresse: AdresseIn | None = None


class AutreResponsableIn(Entree):
    civilite: Civilite
    nom: Texte
    prenom: Texte
    telephone: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    email: Email | None = None
    adresse: AdresseIn | None = None
    date_naissance: date | None = None
    profession: Texte | None = None
    employeur: Texte | None = None
    telephone_professionnel: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    lien: Annotated[str, msgspec.Meta(max_length=50)] | None = None


# Mes enfants


class EnfantIn(Entree):
    nom: Texte
    prenom: Texte
    date_naissance: date
    lieu_naissance: Texte | None = None
    ecole: Texte | None = None
    niveau: Niveau | None = None
    classe: Classe | None = None


class EnfantPatch(Entree):
    nom: Texte | None = None
    prenom: Texte | None = None
    date_naissance: date | None = None
    lieu_naissance: Texte | None = None
    ecole: Texte | None = None
    niveau: Niveau | None = None
    classe: Classe | None = None


class MedecinIn(Entree):
    nom: Texte
    telephone: Annotated[str, msgspec.Meta(max_length=30)] | None = None


class MedecinOut(msgspec.Struct):
    nom: str
    telephone: str | None


class SanteIn(Entree):
    allergies: Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]], msgspec.Meta(max_length=50)] = []
    regime_alimentaire: Regime = "standard"
    pai: bool = False
    pai_detail: TexteLong | None = None
    medecin: MedecinIn | None = None
    vaccinations_a_jour: bool = False
    remarques: TexteLong | None = None


class SanteOut(msgspec.Struct):
    allergies: list[str]
    regime_alimentaire: Regime
    pai: bool
    pai_detail: str | None
    medecin: MedecinOut | None
    vaccinations_a_jour: bool
    remarques: str | None


class PersonneIn(Entree):
    nom: Texte
    prenom: Texte
    telephone: Annotated[str, msgspec.Meta(max_length=30)]
    lien: Annotated[str, msgspec.Meta(max_length=50)] | None = None


class PersonneOut(msgspec.Struct):
    nom: str
    prenom: str
    telephone: str
    lien: str | None


class PersonnesAutoriseesIn(Entree):
    personnes: Annotated[list[PersonneIn], msgspec.Meta(max_length=20)]


class AutorisationsIn(Entree):
    droit_image: bool = False
    sortie_seul: bool = False
    transport: bool = False
    soins_urgence: bool = False


class AutorisationsOut(msgspec.Struct):
    droit_image: bool
    sortie_seul: bool
    transport: bool
    soins_urgence: bool


class EnfantOut(msgspec.Struct):
    id: UUID
    famille_id: UUID
    nom: str | None
    prenom: str | None
    date_naissance: date | None
    lieu_naissance: str | None
    age: str | None
    ecole: str | None
    niveau: Niveau | None
    classe: Classe | None
    sante: SanteOut | None
    fiche_sanitaire_valable_jusqu_au: date | None
    personnes_autorisees: list[PersonneOut]
    autorisations: AutorisationsOut


# Quotient familial and prélèvement


class QuotientFamilialOut(msgspec.Struct):
    actuel: QuotientOut | None
    historique: list[QuotientOut]


class QuotientIn(Entree):
    valeur: Annotated[int, msgspec.Meta(ge=0, le=100_000)]
    valable_du: date
    source: SourceQuotient


class PrelevementIn(Entree):
    titulaire: Annotated[str, msgspec.Meta(max_length=70)]
    iban: Annotated[str, msgspec.Meta(max_length=50)]
    bic: Annotated[str, msgspec.Meta(max_length=11)] | None = None


# Operations


class SanteService(msgspec.Struct):
    statut: str


class Preparation(msgspec.Struct):
    statut: str
    base_de_donnees: bool
    retard_projections: int
