"""Enfant: identity, schooling, health (fiche sanitaire), authorised persons, authorisations."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from portail.domain.erreurs import RegleMetier
from portail.domain.evenements import PortailEvent
from portail.domain.personnes import (
    Autorisations,
    IdentiteEnfant,
    PersonneAutorisee,
    Sante,
    Scolarite,
)


def fin_annee_scolaire(jour: date) -> date:
    """31 August closing the school year that contains `jour`."""
    annee = jour.year if jour.month < 9 else jour.year + 1
    return date(annee, 8, 31)


class Enfant(Aggregate):
    TOPIC = "portail:Enfant"
    DONNEES_PERSONNELLES = True

    class Event(Aggregate.Event, PortailEvent):
        SUJET_PERSONNEL = True

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Enfant.Created"

    class Inscrit(Event, Aggregate.Created):
        TOPIC = "portail:Enfant.Inscrit"
        PERSONNEL = ("identite",)
        famille_id: UUID
        identite: IdentiteEnfant
        scolarite: Scolarite

    class IdentiteModifiee(Event):
        TOPIC = "portail:Enfant.IdentiteModifiee"
        PERSONNEL = ("identite",)
        identite: IdentiteEnfant

    class ScolariteModifiee(Event):
        TOPIC = "portail:Enfant.ScolariteModifiee"
        scolarite: Scolarite

    class SanteModifiee(Event):
        TOPIC = "portail:Enfant.SanteModifiee"
        PERSONNEL = ("sante",)
        sante: Sante
        valable_jusqu_au: date

    class PersonnesAutoriseesModifiees(Event):
        TOPIC = "portail:Enfant.PersonnesAutoriseesModifiees"
        PERSONNEL = ("personnes",)
        personnes: tuple[PersonneAutorisee, ...]

    class AutorisationsModifiees(Event):
        TOPIC = "portail:Enfant.AutorisationsModifiees"
        autorisations: Autorisations

    class Efface(Event):
        TOPIC = "portail:Enfant.Efface"
        efface_le: date

    @event(Inscrit)
    def __init__(self, famille_id: UUID, identite: IdentiteEnfant, scolarite: Scolarite) -> None:
        self.famille_id = famille_id
        self.identite: IdentiteEnfant | None = identite
        self.scolarite = scolarite
        self.sante: Sante | None = None
        self.fiche_sanitaire_valable_jusqu_au: date | None = None
        self.personnes_autorisees: tuple[PersonneAutorisee, ...] | None = ()
        self.autorisations = Autorisations()
        self.efface_le: date | None = None

    @property
    def efface(self) -> bool:
        return self.efface_le is not None

    def _verifier_actif(self) -> None:
        if self.efface:
            raise RegleMetier("Le dossier de cet enfant a été effacé.")

    def modifier_identite(self, identite: IdentiteEnfant) -> None:
        self._verifier_actif()
        if identite != self.identite:
            self._identite_modifiee(identite=identite)

    @event(IdentiteModifiee)
    def _identite_modifiee(self, identite: IdentiteEnfant) -> None:
        self.identite = identite

    def modifier_scolarite(self, scolarite: Scolarite) -> None:
        self._verifier_actif()
        if scolarite != self.scolarite:
            self._scolarite_modifiee(scolarite=scolarite)

    @event(ScolariteModifiee)
    def _scolarite_modifiee(self, scolarite: Scolarite) -> None:
        self.scolarite = scolarite

    def modifier_sante(self, sante: Sante, le: date) -> None:
        """Updating the fiche sanitaire renews it until the end of the current school year."""
        self._verifier_actif()
        valable = fin_annee_scolaire(le)
        if sante != self.sante or valable != self.fiche_sanitaire_valable_jusqu_au:
            self._sante_modifiee(sante=sante, valable_jusqu_au=valable)

    @event(SanteModifiee)
    def _sante_modifiee(self, sante: Sante, valable_jusqu_au: date) -> None:
        self.sante = sante
        self.fiche_sanitaire_valable_jusqu_au = valable_jusqu_au

    def modifier_personnes_autorisees(self, personnes: tuple[PersonneAutorisee, ...]) -> None:
        self._verifier_actif()
        if personnes != self.personnes_autorisees:
            self._personnes_modifiees(personnes=personnes)

    @event(PersonnesAutoriseesModifiees)
    def _personnes_modifiees(self, personnes: tuple[PersonneAutorisee, ...]) -> None:
        # Stored events give lists back; None when the family's key has been erased.
        self.personnes_autorisees = tuple(personnes) if personnes is not None else None

    def modifier_autorisations(self, autorisations: Autorisations) -> None:
        self._verifier_actif()
        if autorisations != self.autorisations:
            self._autorisations_modifiees(autorisations=autorisations)

    @event(AutorisationsModifiees)
    def _autorisations_modifiees(self, autorisations: Autorisations) -> None:
        self.autorisations = autorisations

    def effacer(self, le: date) -> None:
        if not self.efface:
            self._efface(efface_le=le)

    @event(Efface)
    def _efface(self, efface_le: date) -> None:
        self.efface_le = efface_le
        self.identite = None
        self.sante = None
        self.personnes_autorisees = None
