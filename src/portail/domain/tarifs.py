"""Tariff grids: QF brackets, taux d'effort, per half-hour, flat price; resident or not; sibling
rank, PAI, surcharges, absence rules and late pick-up fees. Money in integer cents; `Decimal` only
inside a percentage, rounded half up per line."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

from portail.domain.erreurs import ErreurValidation, Validateur


class ModeTarif(Enum):
    TRANCHES_QF = "tranches_qf"
    TAUX_EFFORT = "taux_effort"
    DEMI_HEURE = "demi_heure"
    FORFAIT = "forfait"


class Residence(Enum):
    RESIDENT = "resident"
    EXTERIEUR = "exterieur"
    TOUS = "tous"


@dataclass(frozen=True)
class Tranche:
    qf_min: int
    qf_max: int | None
    """Exclusive; None for the open top bracket."""
    prix_cents: int
    pai_cents: int | None = None

    def contient(self, qf: int) -> bool:
        return self.qf_min <= qf and (self.qf_max is None or qf < self.qf_max)

    @property
    def libelle(self) -> str:
        if self.qf_max is None:
            return f"QF ≥ {self.qf_min} €"
        return f"QF de {self.qf_min} € à moins de {self.qf_max} €"


@dataclass(frozen=True)
class ReductionFratrie:
    rang: int
    reduction_pourcent: Decimal


@dataclass(frozen=True)
class SeuilRetard:
    """A late pick-up fee: due when the child leaves after `apres` (e.g. 3 € after 18:30)."""

    apres: time
    montant_cents: int


@dataclass(frozen=True)
class Grille:
    unite: str
    residence: Residence
    mode: ModeTarif
    tranches: tuple[Tranche, ...] = ()
    taux_pourcent: Decimal | None = None
    min_cents: int | None = None
    max_cents: int | None = None
    prix_cents: int | None = None
    pai_cents: int | None = None
    fratrie: tuple[ReductionFratrie, ...] = ()
    non_reserve_cents: int | None = None
    absence_non_justifiee_pourcent: Decimal | None = None
    absence_non_justifiee_cents: int | None = None
    non_reserve_majoration_cents: int | None = None
    """Added to the grid price of a presence without booking, on a line of its own."""
    retards: tuple[SeuilRetard, ...] = ()
    """Late pick-up fees; the latest threshold the departure is after applies, alone."""

    @classmethod
    def creer(cls, **champs: object) -> Grille:
        grille = cls(**champs)  # type: ignore[arg-type]
        grille.valider()
        return grille

    def valider(self) -> None:
        v = Validateur()
        argent = [
            ("prix_cents", self.prix_cents),
            ("min_cents", self.min_cents),
            ("max_cents", self.max_cents),
            ("pai_cents", self.pai_cents),
            ("non_reserve_cents", self.non_reserve_cents),
            ("absence_non_justifiee_cents", self.absence_non_justifiee_cents),
            ("non_reserve_majoration_cents", self.non_reserve_majoration_cents),
        ]
        for nom, valeur in argent:
            if valeur is not None and valeur < 0:
                v.ajouter(nom, "un montant ne peut pas être négatif")
        if self.min_cents is not None and self.max_cents is not None and self.min_cents > self.max_cents:
            v.ajouter("max_cents", "le maximum est inférieur au minimum")
        if self.mode in (ModeTarif.TRANCHES_QF, ModeTarif.DEMI_HEURE):
            self._valider_tranches(v)
        elif self.mode is ModeTarif.TAUX_EFFORT:
            if self.taux_pourcent is None or not Decimal(0) < self.taux_pourcent <= Decimal(100):
                v.ajouter("taux_pourcent", "un taux d'effort entre 0 et 100 % est obligatoire")
            if self.max_cents is None:
                v.ajouter("max_cents", "obligatoire : c'est aussi le tarif appliqué quand le QF est inconnu")
        elif self.prix_cents is None:
            v.ajouter("prix_cents", "le prix du forfait est obligatoire")
        rangs = [r.rang for r in self.fratrie]
        if len(set(rangs)) != len(rangs) or any(r < 2 for r in rangs):
            v.ajouter("fratrie", "un rang par ligne, à partir du 2e enfant")
        if any(not Decimal(0) <= r.reduction_pourcent <= Decimal(100) for r in self.fratrie):
            v.ajouter("fratrie", "une réduction va de 0 à 100 %")
        pourcent = self.absence_non_justifiee_pourcent
        if pourcent is not None and not Decimal(0) <= pourcent <= Decimal(100):
            v.ajouter("absence_non_justifiee_pourcent", "entre 0 et 100 %")
        if pourcent is not None and self.absence_non_justifiee_cents is not None:
            v.ajouter("absence_non_justifiee_pourcent", "soit un pourcentage, soit un montant")
        if self.non_reserve_cents is not None and self.non_reserve_majoration_cents is not None:
            v.ajouter(
                "non_reserve_majoration_cents",
                "soit un prix de la présence sans réservation (non_reserve_cents), soit une majoration",
            )
        self._valider_retards(v)
        v.lever_si_erreurs()

    def _valider_retards(self, v: Validateur) -> None:
        heures = [a_la_minute(s.apres) for s in self.retards]
        for i, seuil in enumerate(self.retards):
            if seuil.montant_cents < 0:
                v.ajouter(f"retards[{i}].montant_cents", "un montant ne peut pas être négatif")
            if heures.index(a_la_minute(seuil.apres)) != i:
                v.ajouter(f"retards[{i}].apres", f"deux seuils de retard à {seuil.apres:%H:%M}")

    def retard(self, depart: time) -> SeuilRetard | None:
        """The fee for a departure at `depart`, or None when the child left in time. Counted to the
        minute, as a clock reads: leaving at 18:30:45 is leaving at 18:30, not after 18:30."""
        depasses = [s for s in self.retards if a_la_minute(depart) > a_la_minute(s.apres)]
        return max(depasses, key=lambda s: s.apres) if depasses else None

    def _valider_tranches(self, v: Validateur) -> None:
        if not self.tranches:
            v.ajouter("tranches", "au moins une tranche de QF")
            return
        tranches = sorted(self.tranches, key=lambda t: t.qf_min)
        if tranches[0].qf_min != 0:
            v.ajouter("tranches", f"les tranches doivent commencer à 0 € (première : {tranches[0].qf_min} €)")
        for precedente, suivante in itertools.pairwise(tranches):
            if precedente.qf_max is None or precedente.qf_max > suivante.qf_min:
                v.ajouter("tranches", f"chevauchement entre {precedente.libelle} et {suivante.libelle}")
            elif precedente.qf_max < suivante.qf_min:
                v.ajouter(
                    "tranches", f"trou de {precedente.qf_max} € à {suivante.qf_min} € entre deux tranches"
                )
        if tranches[-1].qf_max is not None:
            v.ajouter("tranches", "la dernière tranche doit être ouverte (qf_max nul)")
        for t in tranches:
            if t.qf_max is not None and t.qf_max <= t.qf_min:
                v.ajouter("tranches", f"tranche vide : {t.libelle}")
            if t.prix_cents < 0 or (t.pai_cents is not None and t.pai_cents < 0):
                v.ajouter("tranches", "un montant ne peut pas être négatif")

    def tranche(self, qf: int | None) -> Tranche:
        """The bracket of `qf`; without a known QF, the highest bracket applies."""
        tranches = sorted(self.tranches, key=lambda t: t.qf_min)
        if qf is None:
            return tranches[-1]
        return next(t for t in tranches if t.contient(qf))


@dataclass(frozen=True)
class Prix:
    """A unit price and why: shown to parents on each invoice line."""

    cents: int
    explication: str


def a_la_minute(heure: time) -> time:
    return heure.replace(second=0, microsecond=0)


def pourcentage(montant_cents: int, pourcent: Decimal) -> int:
    """A percentage of an amount, rounded half up to the cent (1,525 € → 1,53 €)."""
    resultat = Decimal(montant_cents) * pourcent / Decimal(100)
    return int(resultat.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def euros(cents: int) -> str:
    signe = "-" if cents < 0 else ""
    entiers, centimes = divmod(abs(cents), 100)
    return f"{signe}{entiers},{centimes:02d} €"


def prix_unitaire(grille: Grille, qf: int | None, rang: int, pai: bool) -> Prix:
    """The unit price for one child: bracket or rate, PAI, sibling reduction, floor and cap."""
    raisons: list[str] = []
    prix_pai = grille.pai_cents
    if grille.mode is ModeTarif.TAUX_EFFORT:
        assert grille.taux_pourcent is not None
        if qf is None:
            base = grille.max_cents or 0
            raisons.append("QF inconnu : tarif maximum")
        else:
            base = int((Decimal(qf) * grille.taux_pourcent).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            raisons.append(f"taux d'effort {grille.taux_pourcent} % × QF {qf} €")
    elif grille.mode is ModeTarif.FORFAIT:
        assert grille.prix_cents is not None
        base = grille.prix_cents
        raisons.append("forfait")
    else:
        tranche = grille.tranche(qf)
        base = tranche.prix_cents
        raisons.append(tranche.libelle if qf is not None else f"QF inconnu : {tranche.libelle}")
        if tranche.pai_cents is not None:
            prix_pai = tranche.pai_cents
    if pai and prix_pai is not None:
        # The PAI price is what the family pays when it brings the meal: no reduction, no bounds.
        return Prix(prix_pai, ", ".join([*raisons, "tarif PAI"]))
    reductions = [r for r in grille.fratrie if r.rang <= rang]
    if reductions:
        reduction = max(reductions, key=lambda r: r.rang)
        # The price paid is rounded, not the discount: 3,05 € at -50 % is 1,525 € → 1,53 €.
        base = pourcentage(base, Decimal(100) - reduction.reduction_pourcent)
        raisons.append(f"{rang}e enfant : -{reduction.reduction_pourcent} %")
    if grille.min_cents is not None and base < grille.min_cents:
        base = grille.min_cents
        raisons.append(f"minimum {euros(grille.min_cents)}")
    if grille.max_cents is not None and base > grille.max_cents:
        base = grille.max_cents
        raisons.append(f"maximum {euros(grille.max_cents)}")
    return Prix(base, ", ".join(raisons))


def demi_heures_entamees(minutes: int) -> int:
    """ "Toute demi-heure entamée est due": 1 to 30 minutes is one, 31 to 60 two…"""
    return max(0, -(-minutes // 30))


@dataclass(frozen=True)
class Tarification:
    """The grids of one accueil in force from `valable_du` (a new version replaces them from its date)."""

    valable_du: date
    grilles: tuple[Grille, ...]

    def grille(self, unite: str, resident: bool) -> Grille | None:
        voulue = Residence.RESIDENT if resident else Residence.EXTERIEUR
        exacte = next((g for g in self.grilles if g.unite == unite and g.residence is voulue), None)
        return exacte or next(
            (g for g in self.grilles if g.unite == unite and g.residence is Residence.TOUS), None
        )


def valider_tarification(valable_du: date, grilles: list[Grille]) -> Tarification:
    v = Validateur()
    vues: set[tuple[str, Residence]] = set()
    for i, g in enumerate(grilles):
        try:
            g.valider()
        except ErreurValidation as erreur:
            v.absorber(erreur, f"grilles[{i}]")
        cle = (g.unite, g.residence)
        if cle in vues:
            v.ajouter(f"grilles[{i}]", f"deux grilles pour l'unité {g.unite} ({g.residence.value})")
        vues.add(cle)
    v.lever_si_erreurs()
    return Tarification(valable_du, tuple(grilles))


def tarification_au(versions: list[Tarification], jour: date) -> Tarification | None:
    en_vigueur = [t for t in versions if t.valable_du <= jour]
    return max(en_vigueur, key=lambda t: t.valable_du) if en_vigueur else None
