"""A generated commune, written through the application: for demos and for the benchmark.

One school year (September to June) of périscolaire and Wednesdays, the holiday centre (ALSH) with
its capacity and waiting list, as a commune would have recorded it month after month: families
book the next month on the 20th after a weekly pattern with exceptions, cancel and declare absences
during the month, the staff point every child at the end of the month, and the régie issues the
month's invoices on the 2nd. The clock moves forward with the story, so every event carries the
date it would have had; the log is written in that order. Everything is drawn from one seeded
random generator, ids included: the same seed gives the same commune.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from unittest import mock
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate
from schwifty import IBAN

from portail.application.catalogue import SaisieAccueil, SaisieRegle, SaisieUnite, definir_tarifs
from portail.application.contexte import Contexte
from portail.domain.capacite import Attribution, Capacite
from portail.domain.compte import Compte
from portail.domain.enfant import Enfant
from portail.domain.famille import Famille
from portail.domain.personnes import IdentiteEnfant, Responsable, Sante, Scolarite
from portail.domain.planning import RESERVES, Etat, Ligne, Planning, Pointage
from portail.domain.quotient import QuotientFamilial
from portail.domain.tarifs import Grille, ModeTarif, ReductionFratrie, Residence, Tranche
from portail.domain.valeurs import Adresse, Civilite, Classe, Iban, Role, SourceQuotient

if TYPE_CHECKING:
    from portail.bootstrap import Services
    from portail.domain.accueil import Accueil
    from portail.domain.regles.calendrier import Calendrier

PARIS = ZoneInfo("Europe/Paris")
MOT_DE_PASSE_PARENTS = "Parent-Portail-2026"
ANNEE = 2025
"""The generated school year starts in September of this year."""
MOIS = [(ANNEE, m) for m in range(9, 13)] + [(ANNEE + 1, m) for m in range(1, 7)]
MOIS_NON_FACTURE = (ANNEE + 1, 6)
"""Left as drafts: the benchmark prepares its campaign."""
TAILLE_LOT = 400

NOMS = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefevre", "Faure", "Andre",
    "Mercier", "Blanc", "Guerin", "Boyer", "Garnier", "Chevalier", "Francois", "Legrand", "Gauthier", "Diallo",
)  # fmt: skip
PRENOMS_ENFANTS = (
    "Gabriel", "Léo", "Raphaël", "Louis", "Arthur", "Jules", "Adam", "Maël", "Lucas", "Hugo", "Noah", "Sacha",
    "Jade", "Louise", "Emma", "Ambre", "Alice", "Rose", "Anna", "Alba", "Romy", "Mia", "Lina", "Léna", "Inès",
)  # fmt: skip
PRENOMS_ADULTES = (
    "Camille",
    "Claire",
    "Julie",
    "Sophie",
    "Nicolas",
    "Julien",
    "Sarah",
    "Karim",
    "Marie",
    "Thomas",
)
CLASSES_PAR_AGE = {3: Classe.PS, 4: Classe.MS, 5: Classe.GS, 6: Classe.CP, 7: Classe.CE1, 8: Classe.CE2,
                   9: Classe.CM1, 10: Classe.CM2}  # fmt: skip


@dataclass(frozen=True)
class FamilleGeneree:
    famille_id: UUID
    compte_id: UUID
    email: str
    enfants: tuple[UUID, ...]
    resident: bool


@dataclass(frozen=True)
class CommuneGeneree:
    familles: tuple[FamilleGeneree, ...]
    periscolaire_id: UUID
    mercredis_id: UUID
    vacances_ids: tuple[UUID, ...]
    evenements: int

    @property
    def enfants(self) -> list[tuple[FamilleGeneree, UUID]]:
        return [(f, e) for f in self.familles for e in f.enfants]


# The régie of the generated commune and of `portail demo`: what its invoices print (invented, but
# valid: the SIRET passes the Luhn check, the IBAN its own).
PARAMETRES_REGIE = {
    "nom": "Régie périscolaire de Nantes",
    "prefixe_factures": "PF",
    "ics": "FR72ZZZ123456",
    "iban": "FR7630006000011234567890189",
    "siret": "21440109300015",
    "adresse": "Hôtel de ville, 2 rue de l'Hôtel de Ville, 44000 Nantes",
    "horaires": "du lundi au vendredi, 8h30–12h et 13h30–17h",
    "ordre_cheques": "Régie périscolaire de Nantes",
    "payfip_client": "012345",
}


def grilles_periscolaire() -> list[Grille]:
    """Nantes-like brackets (reference tariff grids): lunch by QF with a third-child reduction and
    a PAI price, care at an effort rate, extérieurs at the top price."""
    tranches_midi = (
        Tranche(0, 400, 50), Tranche(400, 640, 175), Tranche(640, 860, 235), Tranche(860, 1150, 305),
        Tranche(1150, 1500, 355), Tranche(1500, 1700, 405), Tranche(1700, 1900, 460), Tranche(1900, None, 490),
    )  # fmt: skip
    return [
        Grille.creer(
            unite="MIDI",
            residence=Residence.RESIDENT,
            mode=ModeTarif.TRANCHES_QF,
            tranches=tranches_midi,
            fratrie=(ReductionFratrie(3, Decimal(50)),),
            pai_cents=120,
            absence_non_justifiee_pourcent=Decimal(100),
        ),
        Grille.creer(unite="MIDI", residence=Residence.EXTERIEUR, mode=ModeTarif.FORFAIT, prix_cents=610),
        Grille.creer(
            unite="MATIN",
            residence=Residence.TOUS,
            mode=ModeTarif.TAUX_EFFORT,
            taux_pourcent=Decimal("0.20"),
            min_cents=90,
            max_cents=260,
        ),
        Grille.creer(
            unite="SOIR",
            residence=Residence.TOUS,
            mode=ModeTarif.TAUX_EFFORT,
            taux_pourcent=Decimal("0.36"),
            min_cents=160,
            max_cents=450,
            non_reserve_cents=600,
        ),
    ]


def grilles_loisirs() -> list[Grille]:
    """Leisure days (JOURNEE) by QF with a sibling reduction; extérieurs at a flat price."""
    tranches_journee = (
        Tranche(0, 400, 300), Tranche(400, 700, 650), Tranche(700, 1000, 1050), Tranche(1000, 1400, 1500),
        Tranche(1400, None, 1950),
    )  # fmt: skip
    return [
        Grille.creer(
            unite="JOURNEE",
            residence=Residence.RESIDENT,
            mode=ModeTarif.TRANCHES_QF,
            tranches=tranches_journee,
            fratrie=(ReductionFratrie(2, Decimal(10)),),
        ),
        Grille.creer(unite="JOURNEE", residence=Residence.EXTERIEUR, mode=ModeTarif.FORFAIT, prix_cents=3200),
    ]


@dataclass
class HorlogeSimulee:
    """The application's clock while the story is written: it only moves forward."""

    maintenant: datetime

    def __call__(self) -> datetime:
        return self.maintenant

    def aller(self, jour: date, heure: time) -> None:
        instant = datetime.combine(jour, heure, PARIS)
        self.maintenant = max(self.maintenant, instant)


Progression = Callable[[str, int, int], None]
"""(step, done, total) — for a progress bar."""


def saisie_periscolaire(annee: int) -> SaisieAccueil:
    """The school year's périscolaire from September of `annee`: no capacity on its units (a
    canteen and care sized to demand), bookable until the day before at 18:00."""
    veille = SaisieRegle(ancrage="jour", heure_limite=time(18, 0), decalage_jours=1)
    return SaisieAccueil(
        etablissement="PERISCOLAIRE",
        mode_accueil="Garderie et Restauration",
        periode_libelle=f"Année scolaire {annee}-{annee + 1}",
        periode_debut=date(annee, 9, 1),
        periode_fin=date(annee + 1, 7, 3),
        jours=(1, 2, 4, 5),
        zone_scolaire="B",
        hors_vacances_scolaires=True,
        unites=(
            SaisieUnite("MATIN", "Accueil du matin", time(7, 15), time(8, 20)),
            SaisieUnite("MIDI", "Restauration", time(11, 45), time(13, 30), repas=True),
            SaisieUnite("SOIR", "Accueil du soir", time(16, 30), time(18, 30)),
        ),
        regle_reservation=veille,
        regle_annulation=veille,
    )


def jours_ouverts(accueil: Accueil, calendrier: Calendrier, du: date, avant: date) -> list[date]:
    """The accueil's open days from `du` up to `avant` (excluded)."""
    jours = []
    jour = du
    while jour < avant:
        if (
            accueil.config.periode.contient(jour)
            and jour.isoweekday() in accueil.config.jours
            and accueil.motif_fermeture(jour, calendrier) is None
        ):
            jours.append(jour)
        jour += timedelta(days=1)
    return jours


@contextmanager
def ids_deterministes(hasard: random.Random) -> Iterator[None]:
    """New aggregates take their ids from the seeded generator instead of the system's."""

    def suivant() -> UUID:
        return UUID(int=hasard.getrandbits(128), version=4)

    with (
        mock.patch("eventsourcing.domain.uuid4", suivant),
        mock.patch("portail.application.facturation.uuid4", suivant),
    ):
        yield


@dataclass
class _Enfant:
    enfant: Enfant
    famille: Famille
    motif_semaine: dict[int, tuple[str, ...]]
    """Weekday → the périscolaire units the family books on it."""
    mercredis: bool
    vacances: float
    plannings: dict[UUID, Planning] = field(default_factory=dict)


class Generateur:
    def __init__(
        self, services: Services, horloge: HorlogeSimulee, graine: int, progression: Progression | None
    ) -> None:
        self.sv = services
        self.horloge = horloge
        self.hasard = random.Random(graine)  # noqa: S311 (reproducible test data, not secrets)
        self.progression = progression or (lambda _e, _f, _t: None)
        self.ctx_demo = Contexte.systeme("generation", correlation_id=f"generation-{graine}")
        self.enfants: list[_Enfant] = []
        self.familles: list[FamilleGeneree] = []
        self.a_enregistrer: dict[UUID, Aggregate] = {}

    # Saving in batches, each through the application's save (audit stamp, encryption, chain).

    def noter(self, *aggregats: Aggregate) -> None:
        for aggregat in aggregats:
            self.a_enregistrer[aggregat.id] = aggregat
        if len(self.a_enregistrer) >= TAILLE_LOT:
            self.vider()

    def vider(self, contexte: Contexte | None = None) -> None:
        if self.a_enregistrer:
            self.sv.portail.enregistrer(contexte or self.ctx_demo, *self.a_enregistrer.values())
            self.a_enregistrer = {}

    # The commune

    def catalogue(self, enfants: int) -> tuple[UUID, UUID, UUID]:
        ctx = Contexte.systeme("generation-offre")
        self.horloge.aller(date(ANNEE, 6, 2), time(9))
        self.sv.catalogue.definir_parametres(
            ctx,
            "Nantes",
            "44000",
            PARAMETRES_REGIE,
            500,
        )
        mardi = SaisieRegle(ancrage="semaine_precedente", heure_limite=time(23, 59), jour_semaine=2)
        periscolaire = self.sv.catalogue.creer_accueil(ctx, saisie_periscolaire(ANNEE))
        mercredis = self.sv.catalogue.creer_accueil(
            ctx,
            SaisieAccueil(
                etablissement="ACCUEIL DE LOISIRS",
                mode_accueil="Mercredis",
                periode_libelle=f"Mercredis {ANNEE}-{ANNEE + 1}",
                periode_debut=date(ANNEE, 9, 3),
                periode_fin=date(ANNEE + 1, 7, 1),
                jours=(3,),
                zone_scolaire="B",
                hors_vacances_scolaires=True,
                unites=(SaisieUnite("JOURNEE", "Journée avec repas", time(8, 30), time(17, 30), repas=True),),
                regle_reservation=mardi,
                regle_annulation=mardi,
            ),
        )
        vacances = self.sv.catalogue.creer_accueil(
            ctx,
            SaisieAccueil(
                etablissement="ACCUEIL DE LOISIRS",
                mode_accueil="Vacances scolaires",
                periode_libelle=f"Vacances {ANNEE}-{ANNEE + 1}",
                periode_debut=date(ANNEE, 10, 18),
                periode_fin=date(ANNEE + 1, 8, 28),
                jours=(1, 2, 3, 4, 5),
                zone_scolaire="B",
                vacances_seulement=True,
                unites=(
                    SaisieUnite(
                        "JOURNEE",
                        "Journée avec repas",
                        time(8, 30),
                        time(17, 30),
                        max(12, enfants // 12),
                        repas=True,
                    ),
                ),
                regle_reservation=SaisieRegle(ancrage="jour", heure_limite=time(12, 0), decalage_jours=7),
                regle_annulation=SaisieRegle(ancrage="jour", heure_limite=time(12, 0), decalage_jours=7),
                liste_attente="automatique",
            ),
        )
        debut = date(ANNEE, 9, 1)
        definir_tarifs(self.sv.portail, ctx, periscolaire, debut, grilles_periscolaire())
        for accueil_id in (mercredis, vacances):
            definir_tarifs(self.sv.portail, ctx, accueil_id, debut, grilles_loisirs())
        return periscolaire, mercredis, vacances

    def familles_et_enfants(self, enfants: int) -> None:
        h = self.hasard
        empreinte = self.sv.comptes.hacheur.hacher(MOT_DE_PASSE_PARENTS)
        jour = date(ANNEE, 6, 10)
        numero = 0
        while len(self.enfants) < enfants:
            numero += 1
            self.horloge.aller(jour + timedelta(days=numero * 80 // max(1, enfants)), time(10))
            nom = h.choice(NOMS)
            prenom = h.choice(PRENOMS_ADULTES)
            resident = h.random() < 0.88
            adresse = (
                Adresse(f"{h.randrange(1, 180)} rue de la Loire", "44000", "Nantes")
                if resident
                else Adresse(f"{h.randrange(1, 90)} avenue de la Paix", "44800", "Saint-Herblain")
            )
            famille = Famille(
                responsable=Responsable(h.choice(list(Civilite)), nom, prenom, "0612345678"),
                adresse=adresse,
            )
            courriel = f"famille{numero:05d}@demo.portail-familles.local"
            compte = Compte(
                email=courriel,
                mot_de_passe_hash=empreinte,
                roles=(Role.PARENT,),
                famille_id=famille.id,
            )
            index = self.sv.comptes.reserver_email(courriel, compte.id)
            famille.rattacher_compte(compte.id)
            # CAF quotients: log-normal around the French median, a long upper tail, 8 % unknown.
            if h.random() > 0.08:
                qf = min(4000, int(h.lognormvariate(6.75, 0.5)))
                famille.enregistrer_quotient(QuotientFamilial(qf, date(ANNEE, 1, 1), SourceQuotient.CAF))
            if h.random() < 0.45:
                iban = IBAN.generate(
                    "FR", bank_code="30006", branch_code="00001", account_code=f"{numero:011d}"
                )
                famille.signer_mandat(f"{prenom} {nom}", Iban.creer(iban.compact), None, jour)
            taille = h.choices((1, 2, 3, 4), weights=(34, 42, 18, 6))[0]
            ids: list[UUID] = []
            for _ in range(min(taille, enfants - len(self.enfants))):
                age = h.randrange(3, 11)
                classe = CLASSES_PAR_AGE[age]
                enfant = Enfant(
                    famille_id=famille.id,
                    identite=IdentiteEnfant(
                        nom, h.choice(PRENOMS_ENFANTS), date(ANNEE - age - 1, h.randrange(9, 13), h.randrange(1, 29))
                    ),
                    scolarite=Scolarite(f"École {h.choice(('Jules Ferry', 'Condorcet', 'Les Dervallières'))}",
                                        classe.niveau, classe),
                )  # fmt: skip
                if h.random() < 0.12:
                    enfant.modifier_sante(
                        Sante(
                            allergies=("arachide",) if h.random() < 0.5 else ("gluten",),
                            pai=h.random() < 0.3,
                            vaccinations_a_jour=True,
                        ),
                        jour,
                    )
                famille.ajouter_enfant(enfant.id)
                ids.append(enfant.id)
                self.enfants.append(self._habitudes(enfant, famille))
                self.noter(enfant)
            self.noter(famille, compte, index)
            self.familles.append(FamilleGeneree(famille.id, compte.id, courriel, tuple(ids), resident))
            self.progression("familles", len(self.enfants), enfants)
        self.vider(Contexte.systeme("generation-inscriptions"))

    def _habitudes(self, enfant: Enfant, famille: Famille) -> _Enfant:
        h = self.hasard
        motif: dict[int, tuple[str, ...]] = {}
        matin, soir = h.random() < 0.2, h.random() < 0.4
        for jour in (1, 2, 4, 5):
            unites = []
            if matin and h.random() < 0.8:
                unites.append("MATIN")
            if h.random() < 0.88:
                unites.append("MIDI")
            if soir and h.random() < 0.75:
                unites.append("SOIR")
            motif[jour] = tuple(unites)
        return _Enfant(
            enfant, famille, motif, h.random() < 0.25, h.random() * 0.6 if h.random() < 0.3 else 0.0
        )

    # The year, month by month

    def _planning(self, e: _Enfant, accueil_id: UUID) -> Planning:
        if accueil_id not in e.plannings:
            e.plannings[accueil_id] = Planning(
                id=Planning.id_pour(e.enfant.id, accueil_id),
                enfant_id=e.enfant.id,
                accueil_id=accueil_id,
                famille_id=e.famille.id,
            )
        return e.plannings[accueil_id]

    def _jours(self, accueil: Accueil, annee: int, mois: int) -> list[date]:
        premier = date(annee, mois, 1)
        suivant = (premier + timedelta(days=32)).replace(day=1)
        return jours_ouverts(accueil, self.sv.reservations.calendrier, premier, suivant)

    def mois(self, annee: int, mois: int, accueils: tuple[Accueil, Accueil, Accueil]) -> None:
        h = self.hasard
        periscolaire, mercredis, vacances = accueils
        jours_peri = self._jours(periscolaire, annee, mois)
        jours_mercredi = self._jours(mercredis, annee, mois)
        premier = date(annee, mois, 1)
        veille = premier - timedelta(days=12)
        # Bookings of the month, made on the 20th of the month before.
        self.horloge.aller(veille, time(20, 30))
        for e in self.enfants:
            lignes = [
                Ligne(j, u)
                for j in jours_peri
                for u in e.motif_semaine[j.isoweekday()]
                if h.random() > 0.04  # exceptions to the weekly pattern
            ]
            if lignes:
                planning = self._planning(e, periscolaire.id)
                planning.reserver(lignes)
                self.noter(planning)
            if e.mercredis:
                mercredis_lignes = [Ligne(j, "JOURNEE") for j in jours_mercredi if h.random() < 0.8]
                if mercredis_lignes:
                    planning = self._planning(e, mercredis.id)
                    planning.reserver(mercredis_lignes)
                    self.noter(planning)
        self.vider(Contexte.systeme("generation-reservations", correlation_id=f"reservations-{premier}"))
        self._vacances(vacances, annee, mois)
        # During the month: cancellations in time, then declared absences.
        self.horloge.aller(premier + timedelta(days=9), time(8))
        limite = premier + timedelta(days=11)
        for e in self.enfants:
            peri = e.plannings.get(periscolaire.id)
            if peri is None or h.random() > 0.12:
                continue
            candidats = [
                (j, u)
                for j, u, p in peri.jours_presences()
                if j > limite and j.month == mois and p.etat is Etat.RESERVE
            ]
            if candidats:
                annulees = h.sample(candidats, min(len(candidats), h.randrange(1, 4)))
                peri.annuler([Ligne(j, u) for j, u in annulees], "rendez-vous médical")
                self.noter(peri)
        for e in self.enfants:
            peri = e.plannings.get(periscolaire.id)
            if peri is None or h.random() > 0.04:
                continue
            jours = sorted(
                {
                    j
                    for j, _, p in peri.jours_presences()
                    if j > limite and j.month == mois and p.etat is Etat.RESERVE
                }
            )
            if jours:
                jour = h.choice(jours)
                peri.declarer_absence(jour, tuple(sorted(peri.unites_reservees(jour))), "enfant malade", None)
                self.noter(peri)
        self.vider(Contexte.systeme("generation-familles", correlation_id=f"annulations-{premier}"))
        # End of the month: the staff point every booked day-unit of the month.
        dernier = (premier + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        self.horloge.aller(dernier, time(19))
        for e in self.enfants:
            for planning in e.plannings.values():
                pointages = self._pointages(planning, annee, mois)
                if pointages:
                    planning.pointer(pointages)
                    self.noter(planning)
        self.vider(Contexte.systeme("generation-pointage", correlation_id=f"pointage-{premier}"))

    def _pointages(self, planning: Planning, annee: int, mois: int) -> list[Pointage]:
        h = self.hasard
        pointages = []
        for jour, unite, presence in planning.jours_presences():
            if (jour.year, jour.month) != (annee, mois) or presence.etat not in RESERVES:
                continue
            if presence.etat is Etat.ABSENT_JUSTIFIE or presence.etat is Etat.ABSENT_NON_JUSTIFIE:
                continue
            if h.random() < 0.035:
                pointages.append(Pointage(jour, unite, Etat.ABSENT_NON_JUSTIFIE))
            else:
                pointages.append(Pointage(jour, unite, Etat.PRESENT))
        return pointages

    def _vacances(self, accueil: Accueil, annee: int, mois: int) -> None:
        """Holiday weeks of the month, booked with the capacity and waiting list of the centre."""
        jours = self._jours(accueil, annee, mois)
        if not jours:
            return
        h = self.hasard
        capacites: dict[date, Capacite] = {}
        unite = accueil.config.unites[0]
        semaines: dict[date, list[date]] = {}
        for jour in jours:
            semaines.setdefault(jour - timedelta(days=jour.weekday()), []).append(jour)
        inscrits = [e for e in self.enfants if e.vacances > 0]
        h.shuffle(inscrits)  # arrival order on the opening day
        for e in inscrits:
            lignes: list[Ligne] = []
            attentes: list[Ligne] = []
            for semaine in semaines.values():
                if h.random() > e.vacances:
                    continue
                for jour in semaine:
                    if jour not in capacites:
                        capacites[jour] = Capacite(
                            id=Capacite.id_pour(accueil.id, jour), accueil_id=accueil.id, jour=jour
                        )
                    attribution = capacites[jour].demander(e.enfant.id, unite.code, unite.capacite, True)
                    (lignes if attribution is Attribution.PLACE else attentes).append(Ligne(jour, unite.code))
            if lignes or attentes:
                planning = self._planning(e, accueil.id)
                planning.reserver(lignes)
                planning.mettre_en_attente(attentes)
                self.noter(planning)
        self.noter(*capacites.values())
        self.vider(Contexte.systeme("generation-vacances"))

    def facturer(self, annee: int, mois: int) -> None:
        suivant = (date(annee, mois, 1) + timedelta(days=32)).replace(day=1)
        self.horloge.aller(suivant + timedelta(days=1), time(8))
        ctx = Contexte.systeme("generation-regie", correlation_id=f"campagne-{annee}-{mois:02d}")
        campagne, _ = self.sv.facturation.preparer(ctx, f"{annee}-{mois:02d}", None)
        self.sv.facturation.emettre(ctx, campagne.id)


def generer(
    services: Services,
    horloge: HorlogeSimulee,
    enfants: int,
    graine: int,
    progression: Progression | None = None,
) -> CommuneGeneree:
    """Write the commune; `services` must read `horloge` as their clock."""
    generateur = Generateur(services, horloge, graine, progression)
    with ids_deterministes(generateur.hasard):
        periscolaire_id, mercredis_id, vacances_id = generateur.catalogue(enfants)
        generateur.familles_et_enfants(enfants)
        accueils = (
            services.catalogue.accueil(periscolaire_id),
            services.catalogue.accueil(mercredis_id),
            services.catalogue.accueil(vacances_id),
        )
        for i, (annee, mois) in enumerate(MOIS):
            generateur.mois(annee, mois, accueils)
            generateur.progression("mois", i + 1, len(MOIS))
            if (annee, mois) != MOIS_NON_FACTURE:
                generateur.facturer(annee, mois)
    return CommuneGeneree(
        familles=tuple(generateur.familles),
        periscolaire_id=periscolaire_id,
        mercredis_id=mercredis_id,
        vacances_ids=(vacances_id,),
        evenements=services.portail.recorder.max_notification_id() or 0,
    )
