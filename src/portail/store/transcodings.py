"""How the domain's value types are written into stored events and snapshots."""

from __future__ import annotations

from datetime import date, time
from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from portail.domain import (
    accueil,
    campagne,
    capacite,
    commune,
    compte,
    document,
    encours,
    facturation,
    faits_comptables,
    personnes,
    planning,
    quotient,
    sepa,
    tarifs,
    valeurs,
)
from portail.domain.regles import delais
from portail.store.format_evenements import champs_valeur


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class TimeAsISO(Transcoding):
    type = time
    name = "time_iso"

    def encode(self, obj: time) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> time:
        return time.fromisoformat(data)


class EnumAsValue(Transcoding):
    def __init__(self, enum_type: type[Enum]) -> None:
        self.type = enum_type
        self.name = f"enum:{enum_type.__name__}"

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        valeur: Enum = self.type(data)
        return valeur


class ValueObjectAsDict(Transcoding):
    """A frozen dataclass or Struct written as its fields; unknown fields of newer versions are ignored.

    JSON has no tuples: lists are turned back into the tuples frozen value objects hold.
    """

    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = f"vo:{cls.__name__}"
        champs = champs_valeur(cls)
        if champs is None:
            raise TypeError(f"{cls!r} n'est pas un objet valeur")
        self._champs = set(champs)

    def encode(self, obj: Any) -> dict[str, Any]:
        return {nom: getattr(obj, nom) for nom in self._champs}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in self._champs}
        )


ENUMS: tuple[type[Enum], ...] = (
    valeurs.Civilite,
    valeurs.SituationFamiliale,
    valeurs.Niveau,
    valeurs.Classe,
    valeurs.SourceQuotient,
    valeurs.Role,
    personnes.RegimeAlimentaire,
    accueil.ModeListeAttente,
    accueil.ModeFacturation,
    delais.Ancrage,
    planning.Etat,
    capacite.Attribution,
    tarifs.ModeTarif,
    tarifs.Residence,
    encours.ModeReglement,
    encours.TypeAjustement,
    encours.ModeRemboursement,
    document.TypeDocument,
    document.StatutDocument,
)

VALUE_OBJECTS: tuple[type[Any], ...] = (
    valeurs.Adresse,
    valeurs.Iban,
    personnes.Responsable,
    personnes.IdentiteEnfant,
    personnes.Scolarite,
    personnes.Medecin,
    personnes.Sante,
    personnes.PersonneAutorisee,
    personnes.Autorisations,
    quotient.QuotientFamilial,
    sepa.MandatSepa,
    accueil.Periode,
    accueil.Unite,
    accueil.Eligibilite,
    accueil.ConfigurationAccueil,
    delais.RegleDelai,
    delais.Retard,
    commune.Commune,
    commune.Regie,
    planning.Presence,
    planning.Ligne,
    planning.Pointage,
    capacite.Offre,
    tarifs.Tranche,
    tarifs.ReductionFratrie,
    tarifs.SeuilRetard,
    tarifs.Grille,
    tarifs.Tarification,
    facturation.LigneFacture,
    campagne.Totaux,
    campagne.FactureEmise,
    campagne.Report,
    encours.FactureOuverte,
    encours.Affectation,
    faits_comptables.Bascule,
    faits_comptables.Ordre,
    faits_comptables.FaitsEnfant,
    faits_comptables.FaitsComptables,
    compte.ChangementEmail,
)


def enregistrer(transcoder: JSONTranscoder) -> None:
    """Register every domain type beyond the library's UUID, Decimal and datetime."""
    for transcoding in (DateAsISO(), TimeAsISO()):
        transcoder.register(transcoding)
    for enum_type in ENUMS:
        transcoder.register(EnumAsValue(enum_type))
    for cls in VALUE_OBJECTS:
        transcoder.register(ValueObjectAsDict(cls))
