"""Accueil: what staff put in the catalogue (établissement, période, unités, calendar, rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum

from eventsourcing.domain import Aggregate, event

from portail.domain.erreurs import ErreurValidation, Validateur
from portail.domain.evenements import PortailEvent
from portail.domain.regles.calendrier import Calendrier
from portail.domain.regles.delais import RegleDelai
from portail.domain.tarifs import Tarification, a_la_minute, tarification_au
from portail.domain.valeurs import Niveau, age_en_mois


class ModeListeAttente(Enum):
    AUTOMATIQUE = "automatique"
    OFFRE = "offre"
    AUCUNE = "aucune"


class ModeFacturation(Enum):
    RESERVATIONS = "reservations"
    PRESENCES = "presences"


@dataclass(frozen=True)
class Periode:
    libelle: str
    debut: date
    fin: date

    def contient(self, jour: date) -> bool:
        return self.debut <= jour <= self.fin


@dataclass(frozen=True)
class Unite:
    code: str
    libelle: str
    debut: time | None = None
    fin: time | None = None
    capacite: int | None = None
    incompatibles: tuple[str, ...] = ()
    requiert: tuple[str, ...] = ()
    repas: bool = False
    """A meal: not a childcare expense for the tax certificate."""

    @property
    def heure_debut(self) -> time:
        return self.debut or time(0, 0)


@dataclass(frozen=True)
class Eligibilite:
    niveaux: tuple[Niveau, ...] = ()
    age_min_mois: int | None = None
    age_max_mois: int | None = None
    residents_seulement: bool = False

    @property
    def selon_enfant(self) -> bool:
        """Whether the child's level or age decides (else the child need not be read)."""
        return bool(self.niveaux) or self.age_min_mois is not None or self.age_max_mois is not None


@dataclass(frozen=True)
class ConfigurationAccueil:
    etablissement: str
    mode_accueil: str
    periode: Periode
    jours: tuple[int, ...]
    unites: tuple[Unite, ...]
    regle_reservation: RegleDelai
    regle_annulation: RegleDelai
    zone_scolaire: str | None = None
    hors_vacances_scolaires: bool = False
    vacances_seulement: bool = False
    liste_attente: ModeListeAttente = ModeListeAttente.AUTOMATIQUE
    facturation: ModeFacturation = ModeFacturation.RESERVATIONS
    ouverture_inscriptions: datetime | None = None
    ouverture_exterieurs: datetime | None = None
    eligibilite: Eligibilite = Eligibilite()
    duree_offre_heures: int = 48
    imputation_budgetaire: str | None = None
    """The budget line the accounting export gives this accueil's invoiced amounts."""


class Accueil(Aggregate):
    TOPIC = "portail:Accueil"

    class Event(Aggregate.Event, PortailEvent):
        pass

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Accueil.Created"

    class Cree(Event, Aggregate.Created):
        TOPIC = "portail:Accueil.Cree"
        configuration: ConfigurationAccueil

    class TarifsDefinis(Event):
        TOPIC = "portail:Accueil.TarifsDefinis"
        tarification: Tarification

    class FermetureAjoutee(Event):
        TOPIC = "portail:Accueil.FermetureAjoutee"
        jour: date
        motif: str

    @event(Cree)
    def __init__(self, configuration: ConfigurationAccueil) -> None:
        self.configuration = configuration
        self.fermetures: dict[date, str] = {}
        self.tarifs: list[Tarification] = []

    @property
    def config(self) -> ConfigurationAccueil:
        return self.configuration

    def unite(self, code: str) -> Unite | None:
        return next((u for u in self.configuration.unites if u.code == code), None)

    def fermer(self, jour: date, motif: str) -> None:
        if self.fermetures.get(jour) != motif:
            self._fermeture(jour=jour, motif=motif)

    @event(FermetureAjoutee)
    def _fermeture(self, jour: date, motif: str) -> None:
        self.fermetures[jour] = motif

    def definir_tarifs(self, tarification: Tarification) -> None:
        """A new version applies from its date; a version of the same date is replaced."""
        codes = {u.code for u in self.configuration.unites}
        inconnues = sorted({g.unite for g in tarification.grilles} - codes)
        if inconnues:
            raise ErreurValidation.sur("grilles", f"unité inconnue : {', '.join(inconnues)}")
        self._verifier_retards(tarification)
        if tarification not in self.tarifs:
            self._tarifs(tarification=tarification)

    def _verifier_retards(self, tarification: Tarification) -> None:
        """A late fee starts at the unit's end at the earliest: before it, a child picked up on
        time would pay it."""
        v = Validateur()
        for i, grille in enumerate(tarification.grilles):
            unite = self.unite(grille.unite)
            fin = unite.fin if unite else None
            for j, seuil in enumerate(grille.retards):
                if fin is not None and a_la_minute(seuil.apres) < a_la_minute(fin):
                    v.ajouter(
                        f"grilles[{i}].retards[{j}].apres",
                        f"avant la fin de l'unité {grille.unite} ({fin:%H:%M}) : "
                        "un enfant repris à l'heure paierait le retard",
                    )
        v.lever_si_erreurs()

    @event(TarifsDefinis)
    def _tarifs(self, tarification: Tarification) -> None:
        self.tarifs = sorted(
            [t for t in self.tarifs if t.valable_du != tarification.valable_du] + [tarification],
            key=lambda t: t.valable_du,
        )

    def tarification_au(self, jour: date) -> Tarification | None:
        return tarification_au(self.tarifs, jour)

    # Rules

    def motif_fermeture(self, jour: date, calendrier: Calendrier) -> str | None:
        """Why the accueil is closed on `jour`, or None when it is open."""
        c = self.configuration
        if not c.periode.contient(jour):
            return f"hors de la période {c.periode.libelle}"
        if jour.isoweekday() not in c.jours:
            return "jour sans accueil"
        if calendrier.est_ferie(jour):
            return "jour férié"
        if c.zone_scolaire:
            vacances = calendrier.en_vacances(jour, c.zone_scolaire)
            if c.hors_vacances_scolaires and vacances:
                return "vacances scolaires"
            if c.vacances_seulement and not vacances:
                return "ouvert pendant les vacances scolaires seulement"
        if jour in self.fermetures:
            return self.fermetures[jour]
        return None

    def motif_non_eligible(
        self, niveau: Niveau | None, naissance: date | None, resident: bool, jour: date
    ) -> str | None:
        e = self.configuration.eligibilite
        if e.niveaux and niveau not in e.niveaux:
            attendus = " ou ".join(n.value for n in e.niveaux)
            return f"réservé au niveau {attendus}"
        if naissance is not None:
            mois = age_en_mois(naissance, jour)
            if e.age_min_mois is not None and mois < e.age_min_mois:
                return f"âge minimum {e.age_min_mois // 12} ans"
            if e.age_max_mois is not None and mois > e.age_max_mois:
                return f"âge maximum {e.age_max_mois // 12} ans"
        if e.residents_seulement and not resident:
            return "réservé aux familles résidant dans la commune"
        return None

    @property
    def selon_residence(self) -> bool:
        """Whether a family's residence changes anything here: residents only, or registrations
        opening later for the others (else the family need not be read to decide)."""
        c = self.configuration
        return c.eligibilite.residents_seulement or c.ouverture_exterieurs is not None

    def ouverture_pour(self, resident: bool) -> datetime | None:
        """Registration opens at a date-time, later for families from outside the commune."""
        c = self.configuration
        if resident or c.ouverture_exterieurs is None:
            return c.ouverture_inscriptions
        return c.ouverture_exterieurs
