"""The family file: Mon profil, Mon foyer, Mes enfants, quotient familial, mandat SEPA."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog

from portail.application.contexte import Contexte
from portail.application.portail import Portail
from portail.application.saisies import (
    SaisieAdresse,
    SaisiePersonne,
    SaisieResponsable,
    SaisieSante,
    construire_personnes,
    construire_responsable,
    construire_sante,
    optionnel_telephone,
    optionnel_texte,
)
from portail.domain.enfant import Enfant
from portail.domain.erreurs import ErreurValidation, Introuvable, Validateur
from portail.domain.famille import Famille
from portail.domain.personnes import Autorisations, IdentiteEnfant, Scolarite
from portail.domain.quotient import QuotientFamilial
from portail.domain.sepa import MandatSepa
from portail.domain.valeurs import (
    Classe,
    Iban,
    Niveau,
    SituationFamiliale,
    SourceQuotient,
    bic,
    date_naissance,
    nom_personne,
    texte,
)
from portail.store.cache_agregats import POIDS_MAX

if TYPE_CHECKING:
    from collections.abc import Callable

    from portail.store.lecture import LecteurAsync

log = structlog.get_logger("portail.familles")

PARIS = ZoneInfo("Europe/Paris")
AGE_MAX_ENFANT = 25
ENFANTS_D_AVANCE = POIDS_MAX // 2
"""Children an api process reads ahead at most: a child weighs one in the kept aggregates' bound,
half of which is left to what requests bring (plannings, days, families)."""
ABSENT = object()
"""Marks a field a PATCH did not mention (as opposed to one set to null)."""


@dataclass(frozen=True)
class Foyer:
    famille: Famille
    enfants: list[Enfant]


class ServiceFamilles:
    def __init__(self, portail: Portail) -> None:
        self.portail = portail

    def aujourd_hui(self) -> date:
        """Rules speak of the day in Paris."""
        return self.portail.horloge().astimezone(PARIS).date()

    # Reading

    def lire_enfants_d_avance(
        self,
        maximum: int = ENFANTS_D_AVANCE,
        par_lot: int = 200,
        continuer: Callable[[], bool] = lambda: True,
    ) -> int:
        """The commune's children read into this process's memory, a batch per statement, until
        `continuer()` says no: a parent's first page or booking of the morning then reads no
        child (measured at 10,000 children: the calendar pages' slowest hundredth, 140 ms while
        most children were still to be read, 85 ms once they were). A batch that cannot be read
        (an altered record: the audit chain names it) is left to the children's first requests.
        Returns the children of the batches read."""
        ids = self.portail.ids_de(Enfant)[:maximum]
        lus = 0
        for debut in range(0, len(ids), par_lot):
            if not continuer():
                break
            lot = ids[debut : debut + par_lot]
            try:
                self.portail.garder_d_avance(lot)
            except Exception as erreur:
                log.warning("lecture_d_avance_lot_illisible", type_erreur=type(erreur).__name__)
                continue
            lus += len(lot)
        return lus

    def famille(self, famille_id: UUID) -> Famille:
        famille = self.portail.charger(Famille, famille_id)
        if famille.effacee:
            raise Introuvable("Famille introuvable.")
        return famille

    def foyer(self, famille_id: UUID) -> Foyer:
        famille = self.famille(famille_id)
        enfants = [self.portail.charger(Enfant, e) for e in famille.enfants]
        return Foyer(famille, [e for e in enfants if not e.efface])

    def enfant(self, famille_id: UUID, enfant_id: UUID, *, lecture: bool = False) -> Enfant:
        """A child of this family; another family's child is as unknown as a missing one.
        `lecture`: for reading only (kept between requests, never to be changed)."""
        try:
            enfant = (self.portail.lire if lecture else self.portail.charger)(Enfant, enfant_id)
        except Introuvable:
            raise Introuvable("Enfant introuvable.") from None
        if enfant.famille_id != famille_id or enfant.efface:
            raise Introuvable("Enfant introuvable.")
        return enfant

    async def enfant_lu_async(self, famille_id: UUID, enfant_id: UUID, lecteur: LecteurAsync) -> Enfant:
        """`enfant(…, lecture=True)` on the event loop (`Portail.lire_async`: `LectureEnFil` when
        a worker thread must read it)."""
        try:
            enfant = await self.portail.lire_async(Enfant, enfant_id, lecteur)
        except Introuvable:
            raise Introuvable("Enfant introuvable.") from None
        if enfant.famille_id != famille_id or enfant.efface:
            raise Introuvable("Enfant introuvable.")
        return enfant

    def attendus(self, lignes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The pointage's children (rows of `Lectures.pointage`) with their names, allergies and
        PAI, read from their aggregates (kept in memory), by name; an erased child has none."""
        fiches = []
        for ligne in lignes:
            enfant = self.portail.lire(Enfant, ligne["enfant_id"])
            identite, sante = enfant.identite, enfant.sante
            fiches.append(
                {
                    **ligne,
                    "nom": identite.nom if identite else None,
                    "prenom": identite.prenom if identite else None,
                    "allergies": list(sante.allergies) if sante else [],
                    "pai": bool(sante and sante.pai),
                }
            )
        return sorted(
            fiches, key=lambda f: (*_cle_de_tri(f["nom"]), *_cle_de_tri(f["prenom"]), str(f["enfant_id"]))
        )

    # Mon profil

    def modifier_profil(self, contexte: Contexte, famille_id: UUID, champs: dict[str, Any]) -> None:
        """PATCH of the account holder: only the fields present change."""
        v = Validateur()
        adresse = None
        if "adresse" in champs:
            saisie: SaisieAdresse | None = champs["adresse"]
            if saisie is None:
                v.ajouter("adresse", "l'adresse du foyer est obligatoire")
            else:
                adresse = v.valeur("adresse", saisie.construire)
        modifs: dict[str, Any] = {}
        if "telephone" in champs:
            modifs["telephone"] = optionnel_telephone(v, "telephone", champs["telephone"])
            if modifs["telephone"] is None and not v.erreurs:
                v.ajouter("telephone", "le téléphone du responsable est obligatoire")
        if "telephone_professionnel" in champs:
            modifs["telephone_professionnel"] = optionnel_telephone(
                v, "telephone_professionnel", champs["telephone_professionnel"]
            )
        for nom in ("profession", "employeur"):
            if nom in champs:
                modifs[nom] = optionnel_texte(v, nom, champs[nom], 100)
        if "date_naissance" in champs:
            naissance: date | None = champs["date_naissance"]
            modifs["date_naissance"] = (
                v.valeur(
                    "date_naissance",
                    lambda: date_naissance(
                        naissance, aujourd_hui=self.aujourd_hui(), age_min=15, age_max=120
                    ),
                )
                if naissance is not None
                else None
            )
        v.lever_si_erreurs()

        def commande() -> None:
            famille = self.famille(famille_id)
            if modifs and famille.responsable is not None:
                famille.modifier_responsable(replace(famille.responsable, **modifs))
            if adresse is not None:
                famille.modifier_adresse(adresse)
            self.portail.enregistrer(contexte, famille)

        self.portail.avec_reessais(commande)

    # Mon foyer

    def modifier_foyer(self, contexte: Contexte, famille_id: UUID, champs: dict[str, Any]) -> None:
        v = Validateur()
        situation = None
        if "situation_familiale" in champs:
            try:
                situation = SituationFamiliale(champs["situation_familiale"])
            except ValueError:
                v.ajouter("situation_familiale", "situation familiale inconnue")
        adresse = None
        if "adresse" in champs:
            saisie: SaisieAdresse | None = champs["adresse"]
            if saisie is None:
                v.ajouter("adresse", "l'adresse du foyer est obligatoire")
            else:
                adresse = v.valeur("adresse", saisie.construire)
        v.lever_si_erreurs()

        def commande() -> None:
            famille = self.famille(famille_id)
            if situation is not None:
                famille.modifier_situation_familiale(situation)
            if adresse is not None:
                famille.modifier_adresse(adresse)
            self.portail.enregistrer(contexte, famille)

        self.portail.avec_reessais(commande)

    def definir_autre_responsable(
        self, contexte: Contexte, famille_id: UUID, saisie: SaisieResponsable
    ) -> None:
        v = Validateur()
        autre = construire_responsable(v, saisie, "autre_responsable", aujourd_hui=self.aujourd_hui())
        v.lever_si_erreurs()
        assert autre is not None
        # Field names in errors are those of this route's body.
        self._sur_famille(contexte, famille_id, lambda f: f.definir_autre_responsable(autre))

    def retirer_autre_responsable(self, contexte: Contexte, famille_id: UUID) -> None:
        self._sur_famille(contexte, famille_id, Famille.retirer_autre_responsable)

    def _sur_famille(self, contexte: Contexte, famille_id: UUID, action: Any) -> None:
        def commande() -> None:
            famille = self.famille(famille_id)
            action(famille)
            self.portail.enregistrer(contexte, famille)

        self.portail.avec_reessais(commande)

    # Mes enfants

    def _identite(
        self, v: Validateur, nom: str, prenom: str, naissance: date, lieu: str | None
    ) -> IdentiteEnfant | None:
        n = v.valeur("nom", lambda: nom_personne(nom))
        p = v.valeur("prenom", lambda: nom_personne(prenom))
        d = v.valeur(
            "date_naissance",
            lambda: date_naissance(
                naissance, aujourd_hui=self.aujourd_hui(), age_min=0, age_max=AGE_MAX_ENFANT
            ),
        )
        lieu_propre = optionnel_texte(v, "lieu_naissance", lieu, 100)
        if n and p and d:
            return IdentiteEnfant(n, p, d, lieu_propre)
        return None

    def _scolarite(
        self, v: Validateur, ecole: str | None, niveau: str | None, classe: str | None
    ) -> Scolarite:
        ecole_propre = optionnel_texte(v, "ecole", ecole, 150)
        niveau_v = None
        classe_v = None
        if niveau is not None:
            try:
                niveau_v = Niveau(niveau)
            except ValueError:
                v.ajouter("niveau", "le niveau doit être « maternelle » ou « elementaire »")
        if classe is not None:
            try:
                classe_v = Classe(classe)
            except ValueError:
                v.ajouter("classe", "classe inconnue (TPS, PS, MS, GS, CP, CE1, CE2, CM1, CM2)")
        if classe_v is not None:
            if niveau_v is not None and niveau_v != classe_v.niveau:
                v.ajouter("classe", f"la classe {classe_v.value} n'est pas du niveau {niveau_v.value}")
            niveau_v = classe_v.niveau
        return Scolarite(ecole_propre, niveau_v, classe_v)

    def ajouter_enfant(
        self,
        contexte: Contexte,
        famille_id: UUID,
        nom: str,
        prenom: str,
        naissance: date,
        lieu_naissance: str | None = None,
        ecole: str | None = None,
        niveau: str | None = None,
        classe: str | None = None,
    ) -> UUID:
        v = Validateur()
        identite = self._identite(v, nom, prenom, naissance, lieu_naissance)
        scolarite = self._scolarite(v, ecole, niveau, classe)
        v.lever_si_erreurs()
        assert identite is not None

        def commande() -> UUID:
            famille = self.famille(famille_id)
            enfant = Enfant(famille_id=famille.id, identite=identite, scolarite=scolarite)
            famille.ajouter_enfant(enfant.id)
            self.portail.enregistrer(contexte, famille, enfant)
            return enfant.id

        return self.portail.avec_reessais(commande)

    def modifier_enfant(
        self, contexte: Contexte, famille_id: UUID, enfant_id: UUID, champs: dict[str, Any]
    ) -> None:
        actuel = self.enfant(famille_id, enfant_id)
        v = Validateur()
        identite = actuel.identite
        if identite is not None and {"nom", "prenom", "date_naissance", "lieu_naissance"} & champs.keys():
            identite = self._identite(
                v,
                champs.get("nom", identite.nom),
                champs.get("prenom", identite.prenom),
                champs.get("date_naissance", identite.date_naissance),
                champs.get("lieu_naissance", identite.lieu_naissance),
            )
        scolarite = actuel.scolarite
        if {"ecole", "niveau", "classe"} & champs.keys():
            niveau_actuel = actuel.scolarite.niveau.value if actuel.scolarite.niveau else None
            classe_actuelle = actuel.scolarite.classe.value if actuel.scolarite.classe else None
            nouvelle_classe = champs.get("classe", classe_actuelle)
            # A new niveau alone drops a class of the other niveau rather than contradicting it.
            if "niveau" in champs and "classe" not in champs:
                nouvelle_classe = None
            scolarite = self._scolarite(
                v,
                champs.get("ecole", actuel.scolarite.ecole),
                champs.get("niveau", niveau_actuel),
                nouvelle_classe,
            )
        v.lever_si_erreurs()

        def commande() -> None:
            enfant = self.enfant(famille_id, enfant_id)
            if identite is not None:
                enfant.modifier_identite(identite)
            enfant.modifier_scolarite(scolarite)
            self.portail.enregistrer(contexte, enfant)

        self.portail.avec_reessais(commande)

    def modifier_sante(
        self, contexte: Contexte, famille_id: UUID, enfant_id: UUID, saisie: SaisieSante
    ) -> None:
        v = Validateur()
        sante = construire_sante(v, saisie)
        v.lever_si_erreurs()
        assert sante is not None
        self._sur_enfant(
            contexte, famille_id, enfant_id, lambda e: e.modifier_sante(sante, self.aujourd_hui())
        )

    def modifier_personnes_autorisees(
        self, contexte: Contexte, famille_id: UUID, enfant_id: UUID, saisies: list[SaisiePersonne]
    ) -> None:
        v = Validateur()
        personnes = construire_personnes(v, saisies)
        v.lever_si_erreurs()
        self._sur_enfant(
            contexte, famille_id, enfant_id, lambda e: e.modifier_personnes_autorisees(personnes)
        )

    def modifier_autorisations(
        self, contexte: Contexte, famille_id: UUID, enfant_id: UUID, autorisations: Autorisations
    ) -> None:
        self._sur_enfant(contexte, famille_id, enfant_id, lambda e: e.modifier_autorisations(autorisations))

    def _sur_enfant(self, contexte: Contexte, famille_id: UUID, enfant_id: UUID, action: Any) -> None:
        def commande() -> None:
            enfant = self.enfant(famille_id, enfant_id)
            action(enfant)
            self.portail.enregistrer(contexte, enfant)

        self.portail.avec_reessais(commande)

    # Quotient familial (entered by the régie, read by parents)

    def enregistrer_quotient(
        self, contexte: Contexte, famille_id: UUID, valeur: int, valable_du: date, source: str
    ) -> QuotientFamilial:
        try:
            source_v = SourceQuotient(source)
        except ValueError:
            choix = ", ".join(s.value for s in SourceQuotient)
            raise ErreurValidation.sur("source", f"source inconnue ; choix possibles : {choix}") from None
        quotient = QuotientFamilial.creer(valeur, valable_du, source_v)
        self._sur_famille(contexte, famille_id, lambda f: f.enregistrer_quotient(quotient))
        return quotient

    # Prélèvement SEPA

    def signer_mandat(
        self, contexte: Contexte, famille_id: UUID, titulaire: str, iban: str, bic_saisi: str | None
    ) -> MandatSepa:
        v = Validateur()
        titulaire_propre = v.valeur("titulaire", lambda: texte(titulaire, longueur_max=70))
        iban_v = v.valeur("iban", lambda: Iban.creer(iban))
        bic_v = v.valeur("bic", lambda: bic(bic_saisi)) if bic_saisi else None
        v.lever_si_erreurs()
        assert titulaire_propre and iban_v
        bic_final = bic_v or iban_v.bic_deduit()
        signe_le = self.aujourd_hui()

        def commande() -> MandatSepa:
            famille = self.famille(famille_id)
            mandat = famille.signer_mandat(titulaire_propre, iban_v, bic_final, signe_le)
            self.portail.enregistrer(contexte, famille)
            return mandat

        return self.portail.avec_reessais(commande)

    def revoquer_mandat(self, contexte: Contexte, famille_id: UUID) -> None:
        le = self.aujourd_hui()
        self._sur_famille(contexte, famille_id, lambda f: f.revoquer_mandat(le))


def _cle_de_tri(texte: str | None) -> tuple[bool, str]:
    """Names in alphabetical order whatever their accents and case; a missing one last."""
    if texte is None:
        return True, ""
    sans_accents = unicodedata.normalize("NFKD", texte).encode("ascii", "ignore").decode()
    return False, sans_accents.casefold()
