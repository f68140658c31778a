"""The catalogue configured by staff: commune settings, accueils and their closures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from portail.application.contexte import Contexte
from portail.application.portail import Portail
from portail.application.saisies import optionnel_texte
from portail.domain.accueil import (
    Accueil,
    ConfigurationAccueil,
    Eligibilite,
    ModeFacturation,
    ModeListeAttente,
    Periode,
    Unite,
)
from portail.domain.commune import DELAI_PRENOTIFICATION_JOURS, ID_PARAMETRES, Commune, Parametres, Regie
from portail.domain.erreurs import ErreurValidation, Introuvable, Validateur
from portail.domain.regles.delais import RegleDelai, Retard
from portail.domain.sepa import ics
from portail.domain.tarifs import Grille, valider_tarification
from portail.domain.valeurs import Iban, Niveau, bic, code_postal, identifiant_payfip, siret, texte

if TYPE_CHECKING:
    from portail.store.lecture import LecteurAsync


@dataclass(frozen=True)
class SaisieRegle:
    ancrage: str
    heure_limite: time
    decalage_jours: int = 0
    jours_ouvres: bool = False
    jour_semaine: int | None = None
    jours_semaine: tuple[int, ...] = ()
    jour_mois: int | None = None
    jours_exclus: tuple[int, ...] = ()
    majoration_cents: int | None = None
    majoration_pourcent: int | None = None
    retard: bool = False

    def construire(self) -> RegleDelai:
        jours = tuple(self.jours_semaine) or ((self.jour_semaine,) if self.jour_semaine else ())
        retard = Retard(self.majoration_cents, self.majoration_pourcent) if self.retard else None
        return RegleDelai.creer(
            self.ancrage,
            self.heure_limite,
            self.decalage_jours,
            self.jours_ouvres,
            jours,
            self.jour_mois,
            tuple(self.jours_exclus),
            retard,
        )


@dataclass(frozen=True)
class SaisieUnite:
    code: str
    libelle: str
    debut: time | None = None
    fin: time | None = None
    capacite: int | None = None
    incompatibles: tuple[str, ...] = ()
    requiert: tuple[str, ...] = ()
    repas: bool = False


@dataclass(frozen=True)
class SaisieAccueil:
    etablissement: str
    mode_accueil: str
    periode_libelle: str
    periode_debut: date
    periode_fin: date
    jours: tuple[int, ...]
    unites: tuple[SaisieUnite, ...]
    regle_reservation: SaisieRegle
    regle_annulation: SaisieRegle
    zone_scolaire: str | None = None
    hors_vacances_scolaires: bool = False
    vacances_seulement: bool = False
    liste_attente: str = "automatique"
    facturation: str = "reservations"
    ouverture_inscriptions: datetime | None = None
    ouverture_exterieurs: datetime | None = None
    niveaux: tuple[str, ...] = ()
    age_min_mois: int | None = None
    age_max_mois: int | None = None
    residents_seulement: bool = False
    duree_offre_heures: int = 48
    imputation_budgetaire: str | None = None


def _enum(v: Validateur, champ: str, cls: Any, valeur: str) -> Any:
    try:
        return cls(valeur)
    except ValueError:
        choix = ", ".join(e.value for e in cls)
        v.ajouter(champ, f"valeur inconnue ; choix possibles : {choix}")
        return None


def construire_configuration(s: SaisieAccueil) -> ConfigurationAccueil:
    v = Validateur()
    etablissement = v.valeur("etablissement", lambda: texte(s.etablissement, longueur_max=150))
    mode = v.valeur("mode_accueil", lambda: texte(s.mode_accueil, longueur_max=150))
    libelle = v.valeur("periode.libelle", lambda: texte(s.periode_libelle, longueur_max=150))
    if s.periode_fin < s.periode_debut:
        v.ajouter("periode.fin", "la fin de la période précède son début")
    if not s.jours or any(not 1 <= j <= 7 for j in s.jours):
        v.ajouter("jours", "indiquer les jours d'ouverture de 1 (lundi) à 7 (dimanche)")
    if s.zone_scolaire is not None and s.zone_scolaire not in {"A", "B", "C"}:
        v.ajouter("zone_scolaire", "zone A, B ou C")
    if (s.hors_vacances_scolaires or s.vacances_seulement) and s.zone_scolaire is None:
        v.ajouter("zone_scolaire", "obligatoire pour suivre les vacances scolaires")
    if s.hors_vacances_scolaires and s.vacances_seulement:
        v.ajouter("vacances_seulement", "incompatible avec hors_vacances_scolaires")
    codes = [u.code for u in s.unites]
    if not s.unites:
        v.ajouter("unites", "au moins une unité")
    unites: list[Unite] = []
    for i, u in enumerate(s.unites):
        if not u.code or len(u.code) > 30 or not u.code.replace("_", "").replace("-", "").isalnum():
            v.ajouter(f"unites[{i}].code", "code de 1 à 30 lettres, chiffres, tirets")
        if codes.count(u.code) > 1:
            v.ajouter(f"unites[{i}].code", "code en double")
        lib = v.valeur(f"unites[{i}].libelle", lambda u=u: texte(u.libelle, longueur_max=100))  # type: ignore[misc]
        if u.debut and u.fin and u.fin <= u.debut:
            v.ajouter(f"unites[{i}].fin", "l'heure de fin doit suivre l'heure de début")
        if u.capacite is not None and u.capacite < 0:
            v.ajouter(f"unites[{i}].capacite", "la capacité ne peut pas être négative")
        for autre in (*u.incompatibles, *u.requiert):
            if autre not in codes or autre == u.code:
                v.ajouter(f"unites[{i}]", f"unité liée inconnue : {autre}")
        unites.append(
            Unite(
                u.code,
                lib or u.code,
                u.debut,
                u.fin,
                u.capacite,
                tuple(u.incompatibles),
                tuple(u.requiert),
                u.repas,
            )
        )
    regle_resa = v.valeur("regle_reservation", s.regle_reservation.construire)
    regle_annul = v.valeur("regle_annulation", s.regle_annulation.construire)
    liste = _enum(v, "liste_attente", ModeListeAttente, s.liste_attente)
    facturation = _enum(v, "facturation", ModeFacturation, s.facturation)
    niveaux = tuple(n for i, x in enumerate(s.niveaux) if (n := _enum(v, f"niveaux[{i}]", Niveau, x)))
    for nom in ("ouverture_inscriptions", "ouverture_exterieurs"):
        valeur = getattr(s, nom)
        if valeur is not None and valeur.tzinfo is None:
            v.ajouter(nom, "date-heure avec fuseau attendue (ex. 2026-06-01T08:30:00+02:00)")
    if not 1 <= s.duree_offre_heures <= 24 * 14:
        v.ajouter("duree_offre_heures", "entre 1 heure et 14 jours")
    imputation = (
        v.valeur("imputation_budgetaire", lambda: texte(s.imputation_budgetaire or "", longueur_max=50))
        if s.imputation_budgetaire is not None and s.imputation_budgetaire.strip()
        else None
    )
    v.lever_si_erreurs()
    assert etablissement and mode and libelle and regle_resa and regle_annul and liste and facturation
    return ConfigurationAccueil(
        etablissement=etablissement,
        mode_accueil=mode,
        periode=Periode(libelle, s.periode_debut, s.periode_fin),
        jours=tuple(sorted(set(s.jours))),
        unites=tuple(unites),
        regle_reservation=regle_resa,
        regle_annulation=regle_annul,
        zone_scolaire=s.zone_scolaire,
        hors_vacances_scolaires=s.hors_vacances_scolaires,
        vacances_seulement=s.vacances_seulement,
        liste_attente=liste,
        facturation=facturation,
        ouverture_inscriptions=s.ouverture_inscriptions,
        ouverture_exterieurs=s.ouverture_exterieurs,
        eligibilite=Eligibilite(niveaux, s.age_min_mois, s.age_max_mois, s.residents_seulement),
        duree_offre_heures=s.duree_offre_heures,
        imputation_budgetaire=imputation,
    )


class ServiceCatalogue:
    def __init__(self, portail: Portail) -> None:
        self.portail = portail

    def parametres_lus(self) -> Parametres | None:
        """The commune's settings, for reading only."""
        try:
            return self.portail.lire(Parametres, ID_PARAMETRES)
        except Introuvable:
            return None

    def parametres(self) -> Parametres | None:
        try:
            parametres: Parametres = self.portail.repository.get(ID_PARAMETRES)
        except AggregateNotFoundError:
            return None
        return parametres

    def definir_parametres(
        self,
        contexte: Contexte,
        commune_nom: str,
        commune_cp: str,
        regie: dict[str, Any] | None,
        seuil_facturation_cents: int,
    ) -> Parametres:
        v = Validateur()
        nom = v.valeur("commune.nom", lambda: texte(commune_nom, longueur_max=100))
        cp = v.valeur("commune.code_postal", lambda: code_postal(commune_cp))
        regie_v = None
        if regie is not None:
            r_nom = v.valeur("regie.nom", lambda: texte(regie["nom"], longueur_max=100))
            prefixe = v.valeur(
                "regie.prefixe_factures", lambda: texte(regie["prefixe_factures"], longueur_max=10)
            )
            ics_v = v.valeur("regie.ics", lambda: ics(regie["ics"]))
            iban = v.valeur("regie.iban", lambda: Iban.creer(regie["iban"]))
            bic_v = v.valeur("regie.bic", lambda: bic(regie["bic"])) if regie.get("bic") else None
            delai = regie.get("delai_prenotification_jours", DELAI_PRENOTIFICATION_JOURS)
            if not 1 <= delai <= 60:
                v.ajouter("regie.delai_prenotification_jours", "entre 1 et 60 jours")
            siret_v = v.valeur("regie.siret", lambda: siret(regie["siret"])) if regie.get("siret") else None
            payfip = (
                v.valeur("regie.payfip_client", lambda: identifiant_payfip(regie["payfip_client"]))
                if regie.get("payfip_client")
                else None
            )
            adresse = optionnel_texte(v, "regie.adresse", regie.get("adresse"))
            horaires = optionnel_texte(v, "regie.horaires", regie.get("horaires"))
            ordre = optionnel_texte(v, "regie.ordre_cheques", regie.get("ordre_cheques"), longueur_max=100)
            if r_nom and prefixe and ics_v and iban:
                regie_v = Regie(
                    r_nom,
                    prefixe,
                    ics_v,
                    iban.valeur,
                    bic_v or iban.bic_deduit(),
                    delai,
                    siret=siret_v,
                    adresse=adresse,
                    horaires=horaires,
                    ordre_cheques=ordre,
                    payfip_client=payfip,
                )
        if seuil_facturation_cents < 0:
            v.ajouter("seuil_facturation_cents", "ne peut pas être négatif")
        v.lever_si_erreurs()
        assert nom and cp
        commune = Commune(nom, cp)

        def commande() -> Parametres:
            parametres = self.parametres()
            if parametres is None:
                parametres = Parametres(
                    id=ID_PARAMETRES,
                    commune=commune,
                    regie=regie_v,
                    seuil_facturation_cents=seuil_facturation_cents,
                )
            else:
                parametres.modifier(commune, regie_v, seuil_facturation_cents)
            self.portail.enregistrer(contexte, parametres)
            return parametres

        return self.portail.avec_reessais(commande)

    def creer_accueil(self, contexte: Contexte, saisie: SaisieAccueil) -> UUID:
        accueil = Accueil(configuration=construire_configuration(saisie))
        self.portail.enregistrer(contexte, accueil)
        return accueil.id

    def accueil(self, accueil_id: UUID) -> Accueil:
        try:
            return self.portail.charger(Accueil, accueil_id)
        except Introuvable:
            raise Introuvable("Accueil introuvable.") from None

    def accueil_lu(self, accueil_id: UUID) -> Accueil:
        """An accueil for reading only."""
        try:
            return self.portail.lire(Accueil, accueil_id)
        except Introuvable:
            raise Introuvable("Accueil introuvable.") from None

    async def accueil_lu_async(self, accueil_id: UUID, lecteur: LecteurAsync) -> Accueil:
        """`accueil_lu` on the event loop (`LectureEnFil` when a worker thread must read it)."""
        try:
            return await self.portail.lire_async(Accueil, accueil_id, lecteur)
        except Introuvable:
            raise Introuvable("Accueil introuvable.") from None

    def accueil_demande(self, accueil_id: UUID) -> Accueil:
        """An accueil named in a request body: unknown is invalid input (422), not a missing page.
        For reading only (the caller must not change it)."""
        try:
            return self.portail.lire(Accueil, accueil_id)
        except Introuvable:
            raise ErreurValidation.sur("accueil_id", "accueil inconnu") from None

    def fermer(self, contexte: Contexte, accueil_id: UUID, jour: date, motif: str) -> None:
        motif_propre = texte(motif, longueur_max=200) if motif.strip() else "fermeture exceptionnelle"

        def commande() -> None:
            accueil = self.accueil(accueil_id)
            accueil.fermer(jour, motif_propre)
            self.portail.enregistrer(contexte, accueil)

        self.portail.avec_reessais(commande)


def definir_tarifs(
    portail: Portail, contexte: Contexte, accueil_id: UUID, valable_du: date, grilles: list[Grille]
) -> None:
    tarification = valider_tarification(valable_du, grilles)

    def commande() -> None:
        accueil = portail.charger(Accueil, accueil_id)
        accueil.definir_tarifs(tarification)
        portail.enregistrer(contexte, accueil)

    portail.avec_reessais(commande)
