"""Booking and cancellation deadlines as data (anchor + offset + cut-off hour), in Paris time.

Expresses the rules of real communes (Veyras, Cruas, Vailhauques, Andancette, Illkirch) and the
Noethys and ParentPay encodings:

- `jour`: the presence day minus `decalage_jours` (working days when `jours_ouvres`: weekends,
  public holidays and `jours_exclus` skipped) at `heure_limite` (Noethys J-n);
- `jour_semaine_precedent`: the last of `jours_semaine` strictly before the presence day
  (Noethys 1000+d; Vailhauques: Tuesday and Friday 9:00);
- `semaine_precedente` / `semaine_s2`: `jour_semaine` of the week before / two weeks before the
  presence's week (Noethys 2000+d / 3000+d; ParentPay "Thursday midnight for next week");
- `mois_precedent`: day `jour_mois` of the previous month (Noethys 4000+n), clamped to its length.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum

from portail.domain.erreurs import ErreurValidation, Validateur
from portail.domain.regles.calendrier import PARIS, Calendrier, lundi, reculer_jours_ouvres


class Ancrage(Enum):
    JOUR = "jour"
    JOUR_SEMAINE_PRECEDENT = "jour_semaine_precedent"
    SEMAINE_PRECEDENTE = "semaine_precedente"
    SEMAINE_S2 = "semaine_s2"
    MOIS_PRECEDENT = "mois_precedent"


@dataclass(frozen=True)
class Retard:
    """A late request is accepted with this surcharge until the unit starts."""

    majoration_cents: int | None = None
    majoration_pourcent: int | None = None


@dataclass(frozen=True)
class RegleDelai:
    ancrage: Ancrage
    heure_limite: time
    decalage_jours: int = 0
    jours_ouvres: bool = False
    jours_semaine: tuple[int, ...] = ()
    jour_mois: int | None = None
    jours_exclus: tuple[int, ...] = ()
    retard: Retard | None = None

    @classmethod
    def creer(
        cls,
        ancrage: str,
        heure_limite: time,
        decalage_jours: int = 0,
        jours_ouvres: bool = False,
        jours_semaine: tuple[int, ...] = (),
        jour_mois: int | None = None,
        jours_exclus: tuple[int, ...] = (),
        retard: Retard | None = None,
    ) -> RegleDelai:
        v = Validateur()
        try:
            a = Ancrage(ancrage)
        except ValueError:
            raise ErreurValidation.sur("ancrage", "ancrage inconnu") from None
        if not 0 <= decalage_jours <= 366:
            v.ajouter("decalage_jours", "doit être compris entre 0 et 366")
        if any(not 1 <= j <= 7 for j in jours_semaine):
            v.ajouter("jour_semaine", "les jours de la semaine vont de 1 (lundi) à 7 (dimanche)")
        if any(not 1 <= j <= 7 for j in jours_exclus):
            v.ajouter("jours_exclus", "les jours de la semaine vont de 1 (lundi) à 7 (dimanche)")
        elif jours_ouvres and {1, 2, 3, 4, 5} <= set(jours_exclus):
            v.ajouter("jours_exclus", "il doit rester au moins un jour ouvré dans la semaine")
        if (
            a in (Ancrage.JOUR_SEMAINE_PRECEDENT, Ancrage.SEMAINE_PRECEDENTE, Ancrage.SEMAINE_S2)
            and not jours_semaine
        ):
            v.ajouter("jour_semaine", "obligatoire pour cet ancrage")
        if a in (Ancrage.SEMAINE_PRECEDENTE, Ancrage.SEMAINE_S2) and len(jours_semaine) > 1:
            v.ajouter("jour_semaine", "un seul jour pour cet ancrage")
        if a is Ancrage.MOIS_PRECEDENT and not (jour_mois and 1 <= jour_mois <= 31):
            v.ajouter("jour_mois", "obligatoire pour cet ancrage, entre 1 et 31")
        if retard is not None:
            if (retard.majoration_cents is None) == (retard.majoration_pourcent is None):
                v.ajouter("retard", "indiquer soit majoration_cents, soit majoration_pourcent")
            elif (retard.majoration_cents or 0) < 0 or (retard.majoration_pourcent or 0) < 0:
                v.ajouter("retard", "la majoration ne peut pas être négative")
        v.lever_si_erreurs()
        return cls(
            a,
            heure_limite,
            decalage_jours,
            jours_ouvres,
            tuple(sorted(set(jours_semaine))),
            jour_mois,
            tuple(sorted(set(jours_exclus))),
            retard,
        )

    def jour_limite(self, jour: date, calendrier: Calendrier) -> date:
        if self.ancrage is Ancrage.JOUR:
            if self.jours_ouvres:
                return reculer_jours_ouvres(
                    jour, self.decalage_jours, calendrier, frozenset(self.jours_exclus)
                )
            return jour - timedelta(days=self.decalage_jours)
        if self.ancrage is Ancrage.JOUR_SEMAINE_PRECEDENT:
            courant = jour - timedelta(days=1)
            while courant.isoweekday() not in self.jours_semaine:
                courant -= timedelta(days=1)
            return courant - timedelta(days=self.decalage_jours)
        if self.ancrage in (Ancrage.SEMAINE_PRECEDENTE, Ancrage.SEMAINE_S2):
            semaines = 1 if self.ancrage is Ancrage.SEMAINE_PRECEDENTE else 2
            debut = lundi(jour) - timedelta(weeks=semaines)
            return debut + timedelta(days=self.jours_semaine[0] - 1) - timedelta(days=self.decalage_jours)
        assert self.jour_mois is not None
        premier = jour.replace(day=1)
        mois_precedent = premier - timedelta(days=1)
        dernier_jour = calendar.monthrange(mois_precedent.year, mois_precedent.month)[1]
        return mois_precedent.replace(day=min(self.jour_mois, dernier_jour)) - timedelta(
            days=self.decalage_jours
        )

    def limite(self, jour: date, calendrier: Calendrier) -> datetime:
        """The last instant, in Paris time, at which a request for `jour` is on time."""
        return a_paris(self.jour_limite(jour, calendrier), self.heure_limite)


def a_paris(jour: date, heure: time) -> datetime:
    """A Paris wall-clock time as an aware instant (a time skipped in spring lands an hour later)."""
    return datetime.combine(jour, heure, tzinfo=PARIS)


@dataclass(frozen=True)
class Decision:
    a_temps: bool
    limite: datetime
    majoration: Retard | None = None

    @property
    def refusee(self) -> bool:
        return not self.a_temps and self.majoration is None


def evaluer(
    regle: RegleDelai, jour: date, debut_unite: time, maintenant: datetime, calendrier: Calendrier
) -> Decision:
    """On time until the deadline; after it, refused, or accepted with the surcharge until the
    unit starts when the rule allows late requests."""
    limite = regle.limite(jour, calendrier)
    # Compared as instants: two times in the same zone would otherwise compare as wall clocks.
    instant = maintenant.astimezone(UTC)
    if instant <= limite.astimezone(UTC):
        return Decision(True, limite)
    if regle.retard is not None and instant < a_paris(jour, debut_unite).astimezone(UTC):
        return Decision(False, limite, regle.retard)
    return Decision(False, limite)
