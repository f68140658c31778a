"""What people type into the family file, turned into validated value objects.

Each builder reports every invalid field under the name the HTTP contract uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from portail.domain.erreurs import Validateur
from portail.domain.personnes import (
    Medecin,
    PersonneAutorisee,
    RegimeAlimentaire,
    Responsable,
    Sante,
)
from portail.domain.valeurs import (
    Adresse,
    Civilite,
    date_naissance,
    email,
    nom_personne,
    telephone,
    texte,
)

AGE_MIN_RESPONSABLE = 15
AGE_MAX_PERSONNE = 120


@dataclass(frozen=True)
class SaisieAdresse:
    ligne1: str
    code_postal: str
    commune: str
    ligne2: str | None = None

    def construire(self) -> Adresse:
        return Adresse.creer(self.ligne1, self.code_postal, self.commune, self.ligne2)


@dataclass(frozen=True)
class SaisieResponsable:
    civilite: str
    nom: str
    prenom: str
    telephone: str | None = None
    email: str | None = None
    adresse: SaisieAdresse | None = None
    date_naissance: date | None = None
    profession: str | None = None
    employeur: str | None = None
    telephone_professionnel: str | None = None
    lien: str | None = None


def optionnel_texte(v: Validateur, champ: str, valeur: str | None, longueur_max: int = 200) -> str | None:
    if valeur is None or not valeur.strip():
        return None
    return v.valeur(champ, lambda: texte(valeur, longueur_max=longueur_max))


def optionnel_telephone(v: Validateur, champ: str, valeur: str | None) -> str | None:
    if valeur is None or not valeur.strip():
        return None
    return v.valeur(champ, lambda: telephone(valeur))


def construire_responsable(
    v: Validateur,
    saisie: SaisieResponsable,
    prefixe: str,
    *,
    aujourd_hui: date | None = None,
    obligatoires: tuple[str, ...] = (),
) -> Responsable | None:
    """Validate every field of a responsable; None if any is invalid (errors are in `v`)."""
    avant = len(v.erreurs)
    civilite = None
    try:
        civilite = Civilite(saisie.civilite)
    except ValueError:
        v.ajouter(f"{prefixe}.civilite", "la civilité doit être « M » ou « Mme »")
    nom = v.valeur(f"{prefixe}.nom", lambda: nom_personne(saisie.nom))
    prenom = v.valeur(f"{prefixe}.prenom", lambda: nom_personne(saisie.prenom))
    for requis in obligatoires:
        if not getattr(saisie, requis):
            v.ajouter(f"{prefixe}.{requis}", "ce champ est obligatoire")
    tel = optionnel_telephone(v, f"{prefixe}.telephone", saisie.telephone)
    courriel = v.valeur(f"{prefixe}.email", lambda: email(saisie.email or "")) if saisie.email else None
    adresse = v.valeur(f"{prefixe}.adresse", saisie.adresse.construire) if saisie.adresse else None
    naissance = saisie.date_naissance
    if naissance is not None and aujourd_hui is not None:
        naissance = v.valeur(
            f"{prefixe}.date_naissance",
            lambda: date_naissance(
                saisie.date_naissance or aujourd_hui,
                aujourd_hui=aujourd_hui,
                age_min=AGE_MIN_RESPONSABLE,
                age_max=AGE_MAX_PERSONNE,
            ),
        )
    profession = optionnel_texte(v, f"{prefixe}.profession", saisie.profession, 100)
    employeur = optionnel_texte(v, f"{prefixe}.employeur", saisie.employeur, 100)
    tel_pro = optionnel_telephone(v, f"{prefixe}.telephone_professionnel", saisie.telephone_professionnel)
    lien = optionnel_texte(v, f"{prefixe}.lien", saisie.lien, 50)
    if len(v.erreurs) > avant or civilite is None or nom is None or prenom is None:
        return None
    return Responsable(
        civilite=civilite,
        nom=nom,
        prenom=prenom,
        telephone=tel,
        email=courriel,
        adresse=adresse,
        date_naissance=naissance,
        profession=profession,
        employeur=employeur,
        telephone_professionnel=tel_pro,
        lien=lien,
    )


@dataclass(frozen=True)
class SaisieMedecin:
    nom: str
    telephone: str | None = None


@dataclass(frozen=True)
class SaisieSante:
    allergies: list[str] = field(default_factory=list)
    regime_alimentaire: str = "standard"
    pai: bool = False
    pai_detail: str | None = None
    medecin: SaisieMedecin | None = None
    vaccinations_a_jour: bool = False
    remarques: str | None = None


def construire_sante(v: Validateur, saisie: SaisieSante) -> Sante | None:
    avant = len(v.erreurs)
    allergies: list[str] = []
    for i, allergie in enumerate(saisie.allergies):
        propre = v.valeur(f"allergies[{i}]", lambda a=allergie: texte(a, longueur_max=100))  # type: ignore[misc]
        if propre and propre not in allergies:
            allergies.append(propre)
    regime = RegimeAlimentaire.STANDARD
    try:
        regime = RegimeAlimentaire(saisie.regime_alimentaire)
    except ValueError:
        choix = ", ".join(r.value for r in RegimeAlimentaire)
        v.ajouter("regime_alimentaire", f"régime inconnu ; choix possibles : {choix}")
    medecin = None
    if saisie.medecin is not None:
        m = saisie.medecin
        nom = v.valeur("medecin.nom", lambda: texte(m.nom, longueur_max=100))
        tel = optionnel_telephone(v, "medecin.telephone", m.telephone)
        medecin = Medecin(nom, tel) if nom else None
    pai_detail = optionnel_texte(v, "pai_detail", saisie.pai_detail, 1000)
    remarques = optionnel_texte(v, "remarques", saisie.remarques, 2000)
    if saisie.pai_detail and not saisie.pai:
        v.ajouter("pai_detail", "un détail de PAI suppose « pai » à vrai")
    if len(v.erreurs) > avant:
        return None
    return Sante(
        allergies=tuple(allergies),
        regime_alimentaire=regime,
        pai=saisie.pai,
        pai_detail=pai_detail,
        medecin=medecin,
        vaccinations_a_jour=saisie.vaccinations_a_jour,
        remarques=remarques,
    )


@dataclass(frozen=True)
class SaisiePersonne:
    nom: str
    prenom: str
    telephone: str
    lien: str | None = None


def construire_personnes(v: Validateur, saisies: list[SaisiePersonne]) -> tuple[PersonneAutorisee, ...]:
    personnes: list[PersonneAutorisee] = []
    for i, s in enumerate(saisies):
        p = f"personnes[{i}]"
        nom = v.valeur(f"{p}.nom", lambda s=s: nom_personne(s.nom))  # type: ignore[misc]
        prenom = v.valeur(f"{p}.prenom", lambda s=s: nom_personne(s.prenom))  # type: ignore[misc]
        tel = v.valeur(f"{p}.telephone", lambda s=s: telephone(s.telephone))  # type: ignore[misc]
        lien = optionnel_texte(v, f"{p}.lien", s.lien, 50)
        if nom and prenom and tel:
            personnes.append(PersonneAutorisee(nom, prenom, tel, lien))
    return tuple(personnes)
