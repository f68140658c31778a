"""Famille: the household file (Mon foyer), its quotient familial and its SEPA mandate."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from portail.domain.erreurs import RegleMetier
from portail.domain.evenements import PortailEvent
from portail.domain.faits_comptables import FaitsComptables
from portail.domain.personnes import Responsable
from portail.domain.quotient import QuotientFamilial, avec_quotient, quotient_au
from portail.domain.sepa import MandatSepa, generer_rum
from portail.domain.valeurs import Adresse, Iban, SituationFamiliale


class Famille(Aggregate):
    TOPIC = "portail:Famille"
    DONNEES_PERSONNELLES = True

    class Event(Aggregate.Event, PortailEvent):
        SUJET_EST_FAMILLE = True
        SUJET_PERSONNEL = True

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Famille.Created"

    class Creee(Event, Aggregate.Created):
        TOPIC = "portail:Famille.Creee"
        PERSONNEL = ("responsable", "adresse")
        responsable: Responsable
        adresse: Adresse

    class ResponsableModifie(Event):
        TOPIC = "portail:Famille.ResponsableModifie"
        PERSONNEL = ("responsable",)
        responsable: Responsable

    class AdresseModifiee(Event):
        TOPIC = "portail:Famille.AdresseModifiee"
        PERSONNEL = ("adresse",)
        adresse: Adresse

    class SituationFamilialeModifiee(Event):
        TOPIC = "portail:Famille.SituationFamilialeModifiee"
        PERSONNEL = ("situation_familiale",)
        situation_familiale: SituationFamiliale

    class AutreResponsableDefini(Event):
        TOPIC = "portail:Famille.AutreResponsableDefini"
        PERSONNEL = ("autre_responsable",)
        autre_responsable: Responsable

    class AutreResponsableRetire(Event):
        TOPIC = "portail:Famille.AutreResponsableRetire"

    class CompteRattache(Event):
        TOPIC = "portail:Famille.CompteRattache"
        compte_id: UUID

    class EnfantAjoute(Event):
        TOPIC = "portail:Famille.EnfantAjoute"
        enfant_id: UUID

    class QuotientFamilialEnregistre(Event):
        TOPIC = "portail:Famille.QuotientFamilialEnregistre"
        quotient: QuotientFamilial

    class MandatSepaSigne(Event):
        TOPIC = "portail:Famille.MandatSepaSigne"
        PERSONNEL = ("titulaire", "iban")
        rum: str
        titulaire: str
        iban: Iban
        bic: str | None
        signe_le: date

    class MandatSepaRevoque(Event):
        TOPIC = "portail:Famille.MandatSepaRevoque"
        rum: str
        revoque_le: date

    class Effacee(Event):
        TOPIC = "portail:Famille.Effacee"
        effacee_le: date

    class FaitsComptablesConserves(Event):
        """In clear: what billing needs once the family's personal data are erased."""

        TOPIC = "portail:Famille.FaitsComptablesConserves"
        faits: FaitsComptables

    @event(Creee)
    def __init__(self, responsable: Responsable, adresse: Adresse) -> None:
        self.responsable: Responsable | None = responsable
        self.adresse: Adresse | None = adresse
        self.situation_familiale: SituationFamiliale | None = SituationFamiliale.NON_RENSEIGNE
        self.autre_responsable: Responsable | None = None
        self.enfants: list[UUID] = []
        self.comptes: list[UUID] = []
        self.quotients: list[QuotientFamilial] = []
        self.mandats: list[MandatSepa] = []
        self.effacee_le: date | None = None

    # Queries

    @property
    def effacee(self) -> bool:
        return self.effacee_le is not None

    @property
    def mandat(self) -> MandatSepa | None:
        """The mandate in force, if any."""
        if self.mandats and self.mandats[-1].actif:
            return self.mandats[-1]
        return None

    @property
    def faits_comptables(self) -> FaitsComptables | None:
        """Recorded at erasure; a family restored from an earlier snapshot has none yet."""
        faits: FaitsComptables | None = getattr(self, "_faits_comptables", None)
        return faits

    def quotient_au(self, jour: date) -> QuotientFamilial | None:
        return quotient_au(self.quotients, jour)

    # Commands: validate, then record

    def _verifier_active(self) -> None:
        if self.effacee:
            raise RegleMetier("Cette famille a été effacée ; son dossier ne peut plus être modifié.")

    def modifier_responsable(self, responsable: Responsable) -> None:
        self._verifier_active()
        if responsable != self.responsable:
            self._responsable_modifie(responsable=responsable)

    @event(ResponsableModifie)
    def _responsable_modifie(self, responsable: Responsable) -> None:
        self.responsable = responsable

    def modifier_adresse(self, adresse: Adresse) -> None:
        self._verifier_active()
        if adresse != self.adresse:
            self._adresse_modifiee(adresse=adresse)

    @event(AdresseModifiee)
    def _adresse_modifiee(self, adresse: Adresse) -> None:
        self.adresse = adresse

    def modifier_situation_familiale(self, situation: SituationFamiliale) -> None:
        self._verifier_active()
        if situation != self.situation_familiale:
            self._situation_modifiee(situation_familiale=situation)

    @event(SituationFamilialeModifiee)
    def _situation_modifiee(self, situation_familiale: SituationFamiliale) -> None:
        self.situation_familiale = situation_familiale

    def definir_autre_responsable(self, autre: Responsable) -> None:
        self._verifier_active()
        if autre != self.autre_responsable:
            self._autre_defini(autre_responsable=autre)

    @event(AutreResponsableDefini)
    def _autre_defini(self, autre_responsable: Responsable) -> None:
        self.autre_responsable = autre_responsable

    def retirer_autre_responsable(self) -> None:
        self._verifier_active()
        if self.autre_responsable is not None:
            self._autre_retire()

    @event(AutreResponsableRetire)
    def _autre_retire(self) -> None:
        self.autre_responsable = None

    def rattacher_compte(self, compte_id: UUID) -> None:
        self._verifier_active()
        if compte_id not in self.comptes:
            self._compte_rattache(compte_id=compte_id)

    @event(CompteRattache)
    def _compte_rattache(self, compte_id: UUID) -> None:
        self.comptes.append(compte_id)

    def ajouter_enfant(self, enfant_id: UUID) -> None:
        self._verifier_active()
        if enfant_id not in self.enfants:
            self._enfant_ajoute(enfant_id=enfant_id)

    @event(EnfantAjoute)
    def _enfant_ajoute(self, enfant_id: UUID) -> None:
        self.enfants.append(enfant_id)

    def enregistrer_quotient(self, quotient: QuotientFamilial) -> None:
        self._verifier_active()
        if quotient not in self.quotients:
            self._quotient_enregistre(quotient=quotient)

    @event(QuotientFamilialEnregistre)
    def _quotient_enregistre(self, quotient: QuotientFamilial) -> None:
        self.quotients = avec_quotient(self.quotients, quotient)

    def signer_mandat(self, titulaire: str, iban: Iban, bic: str | None, le: date) -> MandatSepa:
        """A new mandate replaces the one in force (same IBAN and holder: nothing changes)."""
        self._verifier_active()
        actuel = self.mandat
        if actuel and actuel.iban == iban and actuel.titulaire == titulaire and actuel.bic == bic:
            return actuel
        if actuel:
            self._mandat_revoque(rum=actuel.rum, revoque_le=le)
        rum = generer_rum(self.id, len(self.mandats) + 1)
        self._mandat_signe(rum=rum, titulaire=titulaire, iban=iban, bic=bic, signe_le=le)
        assert self.mandat is not None
        return self.mandat

    @event(MandatSepaSigne)
    def _mandat_signe(self, rum: str, titulaire: str, iban: Iban, bic: str | None, signe_le: date) -> None:
        self.mandats.append(MandatSepa(rum, titulaire, iban, bic, signe_le))

    def revoquer_mandat(self, le: date) -> None:
        self._verifier_active()
        actuel = self.mandat
        if actuel is None:
            raise RegleMetier("Aucun mandat de prélèvement actif à révoquer.")
        self._mandat_revoque(rum=actuel.rum, revoque_le=le)

    @event(MandatSepaRevoque)
    def _mandat_revoque(self, rum: str, revoque_le: date) -> None:
        self.mandats = [
            MandatSepa(m.rum, m.titulaire, m.iban, m.bic, m.signe_le, revoque_le)
            if m.rum == rum and m.actif
            else m
            for m in self.mandats
        ]

    def conserver_faits_comptables(self, faits: FaitsComptables) -> None:
        """Before the erasure: the facts billing reads from personal data, kept in clear."""
        self._verifier_active()
        if faits != self.faits_comptables:
            self._faits_conserves(faits=faits)

    @event(FaitsComptablesConserves)
    def _faits_conserves(self, faits: FaitsComptables) -> None:
        self._faits_comptables = faits

    def effacer(self, le: date) -> None:
        if not self.effacee:
            self._effacee(effacee_le=le)

    @event(Effacee)
    def _effacee(self, effacee_le: date) -> None:
        self.effacee_le = effacee_le
        self.responsable = None
        self.adresse = None
        self.autre_responsable = None
        self.situation_familiale = None
        self.mandats = [
            MandatSepa(m.rum, None, None, m.bic, m.signe_le, m.revoque_le or effacee_le) for m in self.mandats
        ]
