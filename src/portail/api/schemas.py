"""Request and response bodies of the HTTP contract (docs/api.md), as msgspec Structs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from portail.domain.regles.calendrier import PARIS


class Horodatee(msgspec.Struct):
    """An answer whose instants read in Paris time with their offset (`2026-12-02T09:30:00+01:00`),
    as the parents and agents who read them live it. The audit's chained timestamps are not
    answers of this kind: they stay UTC, as recorded."""

    def __post_init__(self) -> None:
        for nom in self.__struct_fields__:
            valeur = getattr(self, nom)
            if isinstance(valeur, datetime) and valeur.tzinfo is not None:
                setattr(self, nom, valeur.astimezone(PARIS))


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


class ConnexionOut(Horodatee):
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
    civilite: Civilite
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
    statut: Literal["ok"]


class Preparation(msgspec.Struct):
    statut: Literal["pret", "rattrapage", "indisponible"]
    base_de_donnees: bool
    retard_projections: int


# Catalogue (staff)

CodeUnite = Annotated[str, msgspec.Meta(min_length=1, max_length=30)]
Heure = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")]
JourSemaine = Annotated[int, msgspec.Meta(ge=1, le=7)]


class CommuneIn(Entree):
    nom: Texte
    code_postal: Annotated[str, msgspec.Meta(max_length=10)]


class RegieIn(Entree):
    nom: Texte
    prefixe_factures: Annotated[str, msgspec.Meta(max_length=10)]
    ics: Annotated[str, msgspec.Meta(max_length=35)]
    iban: Annotated[str, msgspec.Meta(max_length=50)]
    bic: Annotated[str, msgspec.Meta(max_length=11)] | None = None
    delai_prenotification_jours: Annotated[int, msgspec.Meta(ge=1, le=60)] = 14
    siret: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    adresse: Texte | None = None
    horaires: Texte | None = None
    ordre_cheques: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    payfip_client: Annotated[str, msgspec.Meta(max_length=10)] | None = None


class ParametresIn(Entree):
    commune: CommuneIn
    regie: RegieIn | None = None
    seuil_facturation_cents: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 0


class ParametresOut(msgspec.Struct):
    commune: CommuneIn
    regie: RegieIn | None
    seuil_facturation_cents: int


class RetardIn(Entree):
    majoration_cents: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    majoration_pourcent: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None


class RegleIn(Entree):
    ancrage: Literal["jour", "jour_semaine_precedent", "semaine_precedente", "semaine_s2", "mois_precedent"]
    heure_limite: Heure
    decalage_jours: Annotated[int, msgspec.Meta(ge=0, le=366)] = 0
    jours_ouvres: bool = False
    jour_semaine: JourSemaine | None = None
    jours_semaine: Annotated[list[JourSemaine], msgspec.Meta(max_length=7)] | None = None
    jour_mois: Annotated[int, msgspec.Meta(ge=1, le=31)] | None = None
    jours_exclus: Annotated[list[JourSemaine], msgspec.Meta(max_length=7)] | None = None
    retard: RetardIn | None = None


class PeriodeIn(Entree):
    libelle: Texte
    debut: date
    fin: date


class UniteIn(Entree):
    code: CodeUnite
    libelle: Texte
    debut: Heure | None = None
    fin: Heure | None = None
    capacite: Annotated[int, msgspec.Meta(ge=0, le=100_000)] | None = None
    incompatibles: Annotated[list[CodeUnite], msgspec.Meta(max_length=20)] | None = None
    requiert: Annotated[list[CodeUnite], msgspec.Meta(max_length=20)] | None = None
    repas: bool = False


class EligibiliteIn(Entree):
    niveaux: Annotated[list[Niveau], msgspec.Meta(max_length=2)] | None = None
    age_min_mois: Annotated[int, msgspec.Meta(ge=0, le=300)] | None = None
    age_max_mois: Annotated[int, msgspec.Meta(ge=0, le=300)] | None = None
    residents_seulement: bool = False


class AccueilIn(Entree):
    etablissement: Texte
    mode_accueil: Texte
    periode: PeriodeIn
    jours: Annotated[list[JourSemaine], msgspec.Meta(min_length=1, max_length=7)]
    unites: Annotated[list[UniteIn], msgspec.Meta(min_length=1, max_length=20)]
    regle_reservation: RegleIn
    regle_annulation: RegleIn
    zone_scolaire: Literal["A", "B", "C"] | None = None
    hors_vacances_scolaires: bool = False
    vacances_seulement: bool = False
    liste_attente: Literal["automatique", "offre", "aucune"] = "automatique"
    duree_offre_heures: Annotated[int, msgspec.Meta(ge=1, le=336)] = 48
    facturation: Literal["reservations", "presences"] = "reservations"
    ouverture_inscriptions: datetime | None = None
    ouverture_exterieurs: datetime | None = None
    eligibilite: EligibiliteIn | None = None
    imputation_budgetaire: Annotated[str, msgspec.Meta(max_length=50)] | None = None


class FermetureIn(Entree):
    date: date
    motif: Annotated[str, msgspec.Meta(max_length=200)] = ""


class UniteOut(msgspec.Struct):
    code: str
    libelle: str
    debut: str | None
    fin: str | None


class PeriodeOut(msgspec.Struct):
    libelle: str
    debut: date
    fin: date


class AccueilOut(msgspec.Struct):
    id: UUID
    etablissement: str
    mode_accueil: str
    periode: PeriodeOut
    unites: list[UniteOut]


# Booking (parents)


class PresenceIn(Entree):
    date: date
    unite: CodeUnite


class ReservationIn(Entree):
    accueil_id: UUID
    presences: Annotated[list[PresenceIn], msgspec.Meta(min_length=1, max_length=400)]


class RecopieIn(Entree):
    accueil_id: UUID
    semaine_du: date
    jusqu_au: date


class AnnulationIn(Entree):
    accueil_id: UUID
    presences: Annotated[list[PresenceIn], msgspec.Meta(min_length=1, max_length=400)]
    motif: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class ResultatOut(msgspec.Struct, omit_defaults=True):
    date: date
    unite: str
    statut: Literal["reserve", "liste_attente", "refuse", "annule"]
    motif: str | None = None
    majoration_cents: int | None = None
    majoration_pourcent: int | None = None
    facturable: bool | None = None


class ResultatsOut(msgspec.Struct):
    resultats: list[ResultatOut]


class AbsenceIn(Entree):
    accueil_id: UUID
    date: date
    unites: Annotated[list[CodeUnite], msgspec.Meta(min_length=1, max_length=20)]
    motif: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    document_id: UUID | None = None


class AbsenceOut(msgspec.Struct):
    enfant_id: UUID
    accueil_id: UUID
    date: date
    unites: list[str]
    etat: Literal["absent_justifie", "absent_non_justifie"]


EtatCalendrier = Literal[
    "libre",
    "reserve",
    "liste_attente",
    "annule",
    "present",
    "absent_justifie",
    "absent_non_justifie",
    "present_non_reserve",
    "ferme",
    "complet",
    "verrouille",
]


class UniteJourOut(msgspec.Struct, omit_defaults=True):
    accueil_id: UUID
    code: str
    etat: EtatCalendrier
    modifiable_jusqu_au: datetime | None = None
    motif: str | None = None


class JourOut(msgspec.Struct):
    date: date
    unites: list[UniteJourOut]


class PlanningOut(msgspec.Struct):
    enfant_id: UUID
    mois: str
    jours: list[JourOut]


# Pointage and occupancy (staff)


class UnitePointageOut(msgspec.Struct):
    code: str
    etat: Literal["reserve", "present", "absent_justifie", "absent_non_justifie", "present_non_reserve"]
    arrivee: str | None
    depart: str | None


class EnfantPointageOut(msgspec.Struct):
    enfant_id: UUID
    nom: str | None
    prenom: str | None
    unites: list[UnitePointageOut]
    allergies: list[str]
    pai: bool


class PointageOut(msgspec.Struct):
    accueil_id: UUID
    date: date
    enfants: list[EnfantPointageOut]


class LignePointageIn(Entree):
    enfant_id: UUID
    unite: CodeUnite
    statut: Literal["present", "absent", "present_non_reserve"]
    arrivee: Heure | None = None
    depart: Heure | None = None


class PointageIn(Entree):
    accueil_id: UUID
    date: date
    pointages: Annotated[list[LignePointageIn], msgspec.Meta(min_length=1, max_length=1000)]


class OccupationOut(msgspec.Struct):
    date: date
    unite: str
    capacite: int | None
    reserves: int
    liste_attente: int


class OccupationsOut(msgspec.Struct):
    accueil_id: UUID
    occupation: list[OccupationOut]


class OffreOut(Horodatee):
    id: UUID
    enfant_id: UUID
    accueil_id: UUID
    date: date
    unite: str
    expire_le: datetime


# Tariffs

Pourcent = (
    Annotated[str, msgspec.Meta(pattern=r"^\d{1,3}(\.\d{1,4})?$")]
    | Annotated[int, msgspec.Meta(ge=0, le=100)]
)
"""A percentage as a decimal string ("0.36") or a whole number (50)."""
Cents = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]


class TrancheIn(Entree):
    qf_min: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
    qf_max: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None
    prix_cents: Cents
    pai_cents: Cents | None = None


class FratrieIn(Entree):
    rang: Annotated[int, msgspec.Meta(ge=2, le=20)]
    reduction_pourcent: Pourcent


class SeuilRetardIn(Entree):
    apres: Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    montant_cents: Cents


class GrilleIn(Entree):
    unite: CodeUnite
    residence: Literal["resident", "exterieur", "tous"]
    mode: Literal["tranches_qf", "taux_effort", "demi_heure", "forfait"]
    tranches: Annotated[list[TrancheIn], msgspec.Meta(max_length=50)] | None = None
    taux_pourcent: Pourcent | None = None
    min_cents: Cents | None = None
    max_cents: Cents | None = None
    prix_cents: Cents | None = None
    pai_cents: Cents | None = None
    fratrie: Annotated[list[FratrieIn], msgspec.Meta(max_length=10)] | None = None
    non_reserve_cents: Cents | None = None
    absence_non_justifiee_pourcent: Pourcent | None = None
    absence_non_justifiee_cents: Cents | None = None
    non_reserve_majoration_cents: Cents | None = None
    retards: Annotated[list[SeuilRetardIn], msgspec.Meta(max_length=10)] | None = None


class TarifsIn(Entree):
    valable_du: date
    grilles: Annotated[list[GrilleIn], msgspec.Meta(min_length=1, max_length=50)]


class TarifsOut(msgspec.Struct):
    accueil_id: UUID
    valable_du: date
    grilles: int


# Billing

Position = Annotated[int, msgspec.Meta(ge=0)]


class LectureJusquA(Entree):
    """A body that reads the journal up to a position or an instant (`jusqu_a`).

    The framework converts bodies leniently, so a JSON number that is not a whole position would
    read as a Unix timestamp (1.5 → 1970-01-01T00:00:01.5Z) and be accepted: the journal holds
    nothing before 2000, so such an instant is refused as the contract's types would."""

    def __post_init__(self) -> None:
        jusqu_a = getattr(self, "jusqu_a", None)
        if isinstance(jusqu_a, datetime) and jusqu_a.year < 2000:
            raise ValueError("jusqu_a : une position (entier) ou un instant daté d'après 2000 est attendu")


class CampagneIn(LectureJusquA):
    periode: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
    jusqu_a: Position | datetime | None = None


class CorrectionIn(LectureJusquA):
    jusqu_a: Position | datetime | None = None


class RejeuIn(LectureJusquA):
    periode: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None
    jusqu_a: Position | datetime | None = None
    campagne_id: UUID | None = None
    """Replay this campaign (its period, at its position) and compare with its digest."""


class TotauxOut(msgspec.Struct):
    familles: int
    lignes: int
    montant_cents: int


class AnomalieOut(msgspec.Struct):
    enfant_id: UUID
    accueil_id: UUID
    date: date
    unite: str
    motif: str


class MouvementOut(msgspec.Struct):
    date: date
    nature: Literal["reglement", "rejet", "remboursement"]
    """A payment received; a direct debit the bank rejected (the payment it cancels is marked
    `rejete`); a refund of the family's credit."""
    montant_cents: int
    mode: Literal["carte", "prelevement", "cheque", "especes", "cesu", "virement"]
    """How the money came (a payment) or went back (a refund: `virement`, `cheque`, `especes`)."""
    rejete: bool


class LigneOut(msgspec.Struct):
    famille_id: UUID
    enfant_id: UUID
    accueil: str
    date: date
    unite: str
    quantite: int
    prix_unitaire_cents: int
    montant_cents: int
    explication: str
    prenom: str | None = None
    """The child's first name, on a family's own invoice (null when the child's file was erased)."""


class CampagneOut(msgspec.Struct):
    id: UUID
    periode: str
    statut: Literal["brouillon", "emise"]
    position: int
    campagne_origine: UUID | None
    totaux: TotauxOut
    anomalies: list[AnomalieOut]
    empreinte: str
    emise_le: date | None
    factures: int


class LignesOut(msgspec.Struct):
    lignes: list[LigneOut]


class EmissionOut(msgspec.Struct):
    factures: int
    premier_numero: str | None
    dernier_numero: str | None
    reportees: int


class VerificationCampagneOut(msgspec.Struct):
    campagne_id: UUID
    empreinte_campagne: str
    empreinte_rejeu: str
    conforme: bool


class RejeuOut(msgspec.Struct):
    periode: str
    position: int
    totaux: TotauxOut
    lignes: list[LigneOut]
    anomalies: list[AnomalieOut]
    empreinte: str
    empreinte_lignes: str
    verification: VerificationCampagneOut | None = None


class FactureResumeOut(msgspec.Struct):
    id: UUID
    numero: str
    periode: str
    emise_le: date
    echeance: date
    montant_cents: int
    reste_a_payer_cents: int
    statut: StatutPiece


class FactureOut(msgspec.Struct):
    id: UUID
    numero: str
    periode: str
    emise_le: date
    echeance: date
    montant_cents: int
    reste_a_payer_cents: int
    statut: StatutPiece
    lignes: list[LigneOut]


class ReglementIn(Entree):
    famille_id: UUID
    montant_cents: Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]
    mode: Literal["carte", "prelevement", "cheque", "especes", "cesu"]
    reference: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    rum: Annotated[str, msgspec.Meta(min_length=1, max_length=35)] | None = None


class ReglementOut(msgspec.Struct):
    id: UUID
    famille_id: UUID
    solde_cents: int


class RejetIn(Entree):
    famille_id: UUID
    motif: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class RepresentationIn(Entree):
    famille_id: UUID
    date: date | None = None


class RepresentationOut(msgspec.Struct):
    id: UUID
    famille_id: UUID
    date: date
    montant_cents: int


class SoldeOut(msgspec.Struct):
    solde_cents: int
    factures_ouvertes: int
    avoirs_disponibles_cents: int


class PaiementOut(msgspec.Struct):
    session_id: str
    url: str
    montant_cents: int


class NotificationIn(Entree):
    session_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class CarteTestIn(Entree):
    numero: Annotated[str, msgspec.Meta(max_length=30)]


class NotificationOut(msgspec.Struct):
    paye: bool


class AttestationEnfantOut(msgspec.Struct):
    enfant_id: UUID
    prenom: str | None
    nom: str | None
    date_naissance: date
    montant_cents: int


class AttestationOut(msgspec.Struct):
    annee: int
    enfants: list[AttestationEnfantOut]
    total_cents: int


class BrouillonOut(msgspec.Struct):
    famille_id: UUID
    lignes: int
    montant_cents: int
    anomalies: int


class BrouillonsOut(msgspec.Struct):
    mois: str
    familles: list[BrouillonOut]
    total_cents: int


class AnomalieChaineOut(msgspec.Struct):
    position: int
    nature: Literal["modifie", "supprime", "ajoute", "deplace"]
    description: str


class VerificationOut(msgspec.Struct):
    ok: bool
    evenements_verifies: int
    premiere_anomalie: AnomalieChaineOut | None
    derniere_empreinte: str | None = None


# Régie: journal of pieces, adjustments, refunds, receipts

StatutPiece = Literal["a_payer", "partiellement_payee", "payee", "avoir", "admise_en_non_valeur"]
NatureAjustement = Literal["geste_commercial", "greve", "admission_en_non_valeur", "ajustement_positif"]
NaturePiece = Literal["facture", "geste_commercial", "greve", "admission_en_non_valeur", "ajustement_positif"]
ModeReglement = Literal["carte", "prelevement", "cheque", "especes", "cesu"]
Montant = Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]


class PieceOut(msgspec.Struct):
    id: UUID
    numero: str
    nature: NaturePiece
    famille_id: UUID
    payeur: str | None
    periode: str
    emise_le: date
    echeance: date
    montant_cents: int
    reste_a_payer_cents: int
    statut: StatutPiece
    campagne_id: UUID | None
    facture_origine: UUID | None


class JournalOut(msgspec.Struct):
    factures: list[PieceOut]
    suivant: str | None


class AjustementIn(Entree):
    nature: NatureAjustement
    montant_cents: Montant
    motif: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    facture_id: UUID | None = None


class AjustementOut(msgspec.Struct):
    id: UUID
    famille_id: UUID
    nature: NatureAjustement
    numero: str
    montant_cents: int
    facture_id: UUID | None
    solde_cents: int


class RemboursementIn(Entree):
    montant_cents: Montant
    mode: Literal["virement", "cheque", "especes"]
    reference: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class EncaissementOut(msgspec.Struct):
    id: UUID
    date: date
    famille_id: UUID
    payeur: str | None
    montant_cents: int
    mode: ModeReglement
    reference: str | None
    rejete: bool


class TotalModeOut(msgspec.Struct):
    mode: ModeReglement
    nombre: int
    montant_cents: int


class EncaissementsOut(msgspec.Struct):
    du: date
    au: date
    totaux: list[TotalModeOut]
    total_cents: int
    reglements: list[EncaissementOut]


# E-mail change, effective when the link mailed to the new address is followed


class ChangementEmailOut(Horodatee):
    email_en_attente: str
    expire_le: datetime


class ConfirmationEmailIn(Entree):
    token: Annotated[str, msgspec.Meta(max_length=200)]
