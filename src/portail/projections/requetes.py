"""Reads served from the read models (never by replaying aggregates, accueils aside: a handful of
small configuration streams)."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from portail.domain.accueil import Accueil
from portail.domain.planning import Etat
from portail.domain.regles.calendrier import Calendrier
from portail.domain.regles.delais import a_paris, evaluer
from portail.store import lecture

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

    from portail.store.lecture import LecteurAsync

MODIFIABLES = {"reserve", "liste_attente"}
SQUELETTES_MAX = 5_000
PLACES_TENUES = ("reserve", "present", "absent_justifie", "absent_non_justifie")
"""States in which a child holds a place (pointed absent or not, until cancelled)."""


@dataclass(frozen=True)
class CaseCalendrier:
    accueil_id: UUID
    code: str
    etat: str
    modifiable_jusqu_au: datetime | None
    motif: str | None = None


@dataclass(frozen=True)
class MoisLu:
    """A child's month as the read models hold it."""

    debut: date
    fin: date
    accueils: list[Accueil]
    """Open during the month, in the order they are shown."""
    plannings: frozenset[UUID]
    """Accueils where the child has a planning (shown even if no longer eligible)."""
    etats: dict[tuple[UUID, date, str], str]
    occupation: dict[tuple[UUID, date, str], int]
    offres_ouvertes: bool
    """The family has a place offered from a waiting list, not answered nor expired (the page
    reads the offers only then)."""


@dataclass(frozen=True)
class UniteJour:
    """What a unit's cell is on a day, whoever the child: its deadlines, and whether a booking
    is refused at the skeleton's instant."""

    code: str
    capacite: int | None
    limite_reservation: datetime
    reservation_refusee: bool
    limite_annulation: datetime


@dataclass(frozen=True)
class Squelette:
    """An accueil's month, the same for every child: each day's cells as they are for a child
    with no state there (closures and their reasons, each unit's deadlines). Valid for the accueil's version, from the instant it was computed until the
    next instant at which a deadline passes (then "verrouille" states change)."""

    version: int
    depuis: datetime
    jusqu_a: datetime | None
    cases: list[tuple[tuple[UniteJour, CaseCalendrier | None, CaseCalendrier | None], ...]]
    """Per day and unit, the cell of a child with no state there (None: not shown, a closed day
    outside the période), and the cell once the unit is full (None: it cannot be)."""
    avec_etat: dict[tuple[int, str, str], CaseCalendrier] = field(default_factory=dict, compare=False)
    """The cell of a child in a state, by (day of the month from 0, unit, state): built at the
    first read that meets it, then shared by every read, as the cells above (a page keeps what
    it renders of a cell by the cell)."""
    sans_etat: list[tuple[CaseCalendrier, ...] | None] = field(default_factory=list, compare=False)
    """Per day, the cells shown to a child with no state that day, when they depend on nothing
    else (None where a unit can be full: occupation decides)."""

    def __post_init__(self) -> None:
        if not self.sans_etat:
            self.sans_etat.extend(
                None
                if any(complet is not None for _, _, complet in jour)
                else tuple(case for _, case, _ in jour if case is not None)
                for jour in self.cases
            )

    def vaut_pour(self, version: int, instant: datetime) -> bool:
        return (
            version == self.version
            and self.depuis <= instant
            and (self.jusqu_a is None or instant < self.jusqu_a)
        )

    @classmethod
    def calculer(cls, accueil: Accueil, debut: date, instant: datetime, calendrier: Calendrier) -> Squelette:
        config = accueil.config
        reservation, annulation = config.regle_reservation, config.regle_annulation
        bornes: list[datetime] = []
        cases: list[tuple[tuple[UniteJour, CaseCalendrier | None, CaseCalendrier | None], ...]] = []
        for i in range(calendar.monthrange(debut.year, debut.month)[1]):
            jour = debut + timedelta(days=i)
            unites: list[UniteJour] = []
            for unite in config.unites:
                debut_unite = unite.debut or time(0)
                decision = evaluer(reservation, jour, debut_unite, instant, calendrier)
                # As `evaluer`: a booking is refused after the deadline or, when late ones are
                # accepted with a surcharge, from the unit's start.
                bornes.append(decision.limite.astimezone(UTC))
                if reservation.retard is not None:
                    bornes.append(a_paris(jour, debut_unite).astimezone(UTC))
                unites.append(
                    UniteJour(
                        unite.code,
                        unite.capacite,
                        decision.limite,
                        decision.refusee,
                        annulation.limite(jour, calendrier),
                    )
                )
            cases.append(
                _cases_sans_etat(
                    accueil.id,
                    accueil.motif_fermeture(jour, calendrier),
                    config.periode.contient(jour),
                    unites,
                )
            )
        # Refused from just after a deadline, or from a unit's start: recomputed from either.
        suivantes = [b for b in bornes if b >= instant]
        return cls(accueil.version, instant, min(suivantes, default=None), cases)


def _cases_sans_etat(
    accueil_id: UUID, fermeture: str | None, dans_periode: bool, unites: list[UniteJour]
) -> tuple[tuple[UniteJour, CaseCalendrier | None, CaseCalendrier | None], ...]:
    """A day's cells for a child with no state there, the same for every child: built once."""
    if fermeture is not None:
        ferme = CaseCalendrier(accueil_id, "", "ferme", None, fermeture) if dans_periode else None
        return tuple((u, replace(ferme, code=u.code) if ferme is not None else None, None) for u in unites)
    return tuple(
        (
            u,
            CaseCalendrier(
                accueil_id, u.code, "verrouille" if u.reservation_refusee else "libre", u.limite_reservation
            ),
            CaseCalendrier(accueil_id, u.code, "complet", u.limite_reservation)
            if u.capacite is not None and not u.reservation_refusee
            else None,
        )
        for u in unites
    )


def _parametres_mois(famille_id: UUID, enfant_id: UUID, mois: date, maintenant: datetime) -> dict[str, Any]:
    debut = mois.replace(day=1)
    fin = mois.replace(day=calendar.monthrange(mois.year, mois.month)[1])
    return {"enfant": enfant_id, "famille": famille_id, "debut": debut, "fin": fin, "maintenant": maintenant}


@dataclass(frozen=True)
class LigneOccupation:
    jour: date
    unite: str
    capacite: int | None
    reserves: int
    attente: int


class Lectures:
    def __init__(
        self,
        datastore: PostgresDatastore,
        table_evenements: str,
        lire_accueil: Callable[[UUID], Accueil],
        calendrier: Calendrier,
    ) -> None:
        """`lire_accueil`: an accueil from its stream (`Introuvable` if none), for reading only;
        `table_evenements`: the log's table, whose versions tell when a kept accueil is stale."""
        self._ds = datastore
        self._s = datastore.schema
        self._lire_accueil = lire_accueil
        self.calendrier = calendrier
        self._accueils: dict[UUID, Accueil] = {}
        self._squelettes: dict[tuple[UUID, date], Squelette] = {}
        evenements = f"{self._s}.{table_evenements}"
        s = self._s
        # Scalar subqueries, each an array: one row, one round trip, whatever the month holds.
        self._requete_mois = (
            "WITH ouverts AS ("
            " SELECT a.accueil_id, a.etablissement, a.debut,"
            f" (SELECT max(e.originator_version) FROM {evenements} e WHERE e.originator_id = a.accueil_id)"
            " AS version"
            f" FROM {s}.proj_accueils a WHERE a.debut <= %(fin)s AND a.fin >= %(debut)s),"
            " cases AS ("
            f" SELECT accueil_id, jour, unite, etat FROM {s}.proj_calendrier"
            " WHERE enfant_id = %(enfant)s AND famille_id = %(famille)s AND jour BETWEEN %(debut)s AND %(fin)s),"
            " occupation AS ("
            f" SELECT accueil_id, jour, unite, reserves FROM {s}.proj_occupation"
            " WHERE accueil_id IN (SELECT accueil_id FROM ouverts) AND jour BETWEEN %(debut)s AND %(fin)s)"
            " SELECT"
            f" EXISTS (SELECT 1 FROM {s}.proj_enfants WHERE enfant_id = %(enfant)s AND famille_id = %(famille)s)"
            " AS a_la_famille,"
            " (SELECT array_agg(accueil_id ORDER BY etablissement, debut, accueil_id) FROM ouverts) AS accueils,"
            " (SELECT array_agg(version ORDER BY etablissement, debut, accueil_id) FROM ouverts) AS versions,"
            f" (SELECT array_agg(accueil_id) FROM {s}.proj_plannings WHERE enfant_id = %(enfant)s) AS plannings,"
            " (SELECT array_agg(accueil_id) FROM cases) AS c_accueil,"
            " (SELECT array_agg(jour) FROM cases) AS c_jour,"
            " (SELECT array_agg(unite) FROM cases) AS c_unite,"
            " (SELECT array_agg(etat) FROM cases) AS c_etat,"
            " (SELECT array_agg(accueil_id) FROM occupation) AS o_accueil,"
            " (SELECT array_agg(jour) FROM occupation) AS o_jour,"
            " (SELECT array_agg(unite) FROM occupation) AS o_unite,"
            " (SELECT array_agg(reserves) FROM occupation) AS o_reserves,"
            f" EXISTS (SELECT 1 FROM {s}.proj_offres WHERE famille_id = %(famille)s AND statut = 'proposee'"
            " AND expire_le > %(maintenant)s) AS offres_ouvertes"
        )

    def _lignes(self, requete: str, parametres: tuple[Any, ...]) -> list[Any]:
        return lecture.lignes(self._ds, requete, parametres)

    def accueils_ouverts(self, du: date, au: date) -> list[Accueil]:
        lignes = self._lignes(
            f"SELECT accueil_id FROM {self._s}.proj_accueils WHERE debut <= %s AND fin >= %s ORDER BY etablissement, debut",
            (au, du),
        )
        return [self._lire_accueil(ligne["accueil_id"]) for ligne in lignes]

    def accueils_pour(
        self, niveau: Any, naissance: date | None, resident: bool, aujourd_hui: date
    ) -> list[Accueil]:
        """Offers this child may book: période not over, eligible on its first bookable day."""
        candidats = self.accueils_ouverts(aujourd_hui, date.max)
        return [
            a
            for a in candidats
            if a.motif_non_eligible(niveau, naissance, resident, max(aujourd_hui, a.config.periode.debut))
            is None
        ]

    def mois_enfant(
        self, famille_id: UUID, enfant_id: UUID, mois: date, maintenant: datetime
    ) -> MoisLu | None:
        """Everything a child's month needs from the database, in one prepared statement: None
        when the child is not this family's (or not known to the read models)."""
        parametres = _parametres_mois(famille_id, enfant_id, mois, maintenant)
        with self._ds.get_connection() as conn:
            ligne = conn.execute(self._requete_mois, parametres, prepare=True).fetchone()
        return self._mois_lu(ligne, parametres)

    async def mois_enfant_async(
        self, lecteur: LecteurAsync, famille_id: UUID, enfant_id: UUID, mois: date, maintenant: datetime
    ) -> MoisLu | Callable[[], MoisLu | None] | None:
        """The same statement awaited on the event loop. When an accueil of the month must be
        read again from its stream (new, or changed since this process kept it), the month is
        returned as a function to call in a worker thread: that read blocks."""
        parametres = _parametres_mois(famille_id, enfant_id, mois, maintenant)
        ligne = await lecteur.ligne(self._requete_mois, parametres)
        if ligne is not None and ligne["a_la_famille"]:
            connus = self._accueils
            for accueil_id, version in zip(ligne["accueils"] or (), ligne["versions"] or (), strict=True):
                connu = connus.get(accueil_id)
                if connu is None or connu.version != version:
                    return lambda: self._mois_lu(ligne, parametres)
        return self._mois_lu(ligne, parametres)

    def _mois_lu(self, ligne: Any, parametres: dict[str, Any]) -> MoisLu | None:
        if ligne is None or not ligne["a_la_famille"]:
            return None
        accueils = [
            self._accueil(i, v) for i, v in zip(ligne["accueils"] or (), ligne["versions"] or (), strict=True)
        ]
        cases = zip(
            ligne["c_accueil"] or (),
            ligne["c_jour"] or (),
            ligne["c_unite"] or (),
            ligne["c_etat"] or (),
            strict=True,
        )
        occupation = zip(ligne["o_accueil"] or (), ligne["o_jour"] or (), ligne["o_unite"] or (), strict=True)
        return MoisLu(
            debut=parametres["debut"],
            fin=parametres["fin"],
            accueils=accueils,
            plannings=frozenset(ligne["plannings"] or ()),
            etats={(a, j, u): e for a, j, u, e in cases},
            occupation=dict(zip(occupation, ligne["o_reserves"] or (), strict=True)),
            offres_ouvertes=ligne["offres_ouvertes"],
        )

    def _accueil(self, accueil_id: UUID, version: int) -> Accueil:
        """Kept between requests; read again when the log holds a newer version."""
        connu = self._accueils.get(accueil_id)
        if connu is not None and connu.version == version:
            return connu
        accueil = self._lire_accueil(accueil_id)
        self._accueils[accueil_id] = accueil
        return accueil

    def planning_mois(
        self, lu: MoisLu, accueils: Sequence[Accueil], maintenant: datetime
    ) -> dict[date, list[CaseCalendrier]]:
        """The month's cells: the child's states from `lu`, the rest from each accueil's
        skeleton of the month."""
        instant = maintenant.astimezone(UTC)
        squelettes = [(a.id, self._squelette(a, lu.debut, instant)) for a in accueils]
        occupation = lu.occupation
        # By accueil, then by day of the month: a day where the child has no state at an accueil
        # takes that accueil's cells of the day as they are, without looking at each unit.
        etats: dict[UUID, dict[int, dict[str, str]]] = {a: {} for a, _ in squelettes}
        premier = lu.debut.toordinal()
        for (accueil_id, jour, code), lu_etat in lu.etats.items():
            par_jour = etats.get(accueil_id)
            if par_jour is not None:
                par_jour.setdefault(jour.toordinal() - premier, {})[code] = lu_etat
        jours: dict[date, list[CaseCalendrier]] = {}
        for i in range(lu.fin.day):
            jour = lu.debut + timedelta(days=i)
            cases: list[CaseCalendrier] = []
            for accueil_id, squelette in squelettes:
                du_jour = etats[accueil_id].get(i)
                if du_jour is None:
                    telles_quelles = squelette.sans_etat[i]
                    if telles_quelles is not None:
                        cases.extend(telles_quelles)
                        continue
                for unite, sans_etat, complet in squelette.cases[i]:
                    etat = du_jour.get(unite.code) if du_jour else None
                    if etat is None:
                        if sans_etat is None:
                            continue
                        if complet is not None and occupation.get((accueil_id, jour, unite.code), 0) >= (
                            unite.capacite or 0
                        ):
                            cases.append(complet)
                        else:
                            cases.append(sans_etat)
                    else:
                        cle = (i, unite.code, etat)
                        case = squelette.avec_etat.get(cle)
                        if case is None:
                            limite = unite.limite_annulation if etat in MODIFIABLES else None
                            case = squelette.avec_etat.setdefault(
                                cle, CaseCalendrier(accueil_id, unite.code, etat, limite)
                            )
                        cases.append(case)
            jours[jour] = cases
        return jours

    def _squelette(self, accueil: Accueil, debut: date, instant: datetime) -> Squelette:
        cle = (accueil.id, debut)
        squelette = self._squelettes.get(cle)
        if squelette is None or not squelette.vaut_pour(accueil.version, instant):
            squelette = Squelette.calculer(accueil, debut, instant, self.calendrier)
            if len(self._squelettes) >= SQUELETTES_MAX:
                self._squelettes.clear()
            self._squelettes[cle] = squelette
        return squelette

    def pointage(self, accueil: Accueil, jour: date) -> list[dict[str, Any]]:
        """Children expected (or already pointed) that day, by id, with their units; their names
        and health are read from their aggregates (they are kept out of the read models)."""
        lignes = self._lignes(
            f"SELECT c.enfant_id, c.unite, c.etat, c.arrivee, c.depart FROM {self._s}.proj_calendrier c"
            " WHERE c.accueil_id = %s AND c.jour = %s AND c.etat <> %s AND c.etat <> %s"
            " ORDER BY c.enfant_id, c.unite",
            (accueil.id, jour, Etat.ANNULE.value, Etat.LISTE_ATTENTE.value),
        )
        enfants: dict[UUID, dict[str, Any]] = {}
        for ligne in lignes:
            fiche = enfants.setdefault(ligne["enfant_id"], {"enfant_id": ligne["enfant_id"], "unites": []})
            fiche["unites"].append(
                {
                    "code": ligne["unite"],
                    "etat": ligne["etat"],
                    "arrivee": ligne["arrivee"],
                    "depart": ligne["depart"],
                }
            )
        return list(enfants.values())

    def occupation(self, accueil: Accueil, du: date, au: date) -> list[LigneOccupation]:
        """Units with a capacity are counted by their Capacite streams; units without one book
        without such a stream, so their children are counted from the calendar."""
        capacites = {u.code: u.capacite for u in accueil.config.unites}
        illimitees = [code for code, capacite in capacites.items() if capacite is None]
        lignes = self._lignes(
            f"SELECT jour, unite, reserves, attente FROM {self._s}.proj_occupation"
            " WHERE accueil_id = %s AND jour BETWEEN %s AND %s AND NOT unite = ANY(%s)"
            " UNION ALL"
            f" SELECT jour, unite, count(*)::integer AS reserves, 0 AS attente FROM {self._s}.proj_calendrier"
            " WHERE accueil_id = %s AND jour BETWEEN %s AND %s AND unite = ANY(%s) AND etat = ANY(%s)"
            " GROUP BY jour, unite"
            " ORDER BY jour, unite",
            (accueil.id, du, au, illimitees, accueil.id, du, au, illimitees, list(PLACES_TENUES)),
        )
        return [
            LigneOccupation(
                ligne["jour"],
                ligne["unite"],
                capacites.get(ligne["unite"]),
                ligne["reserves"],
                ligne["attente"],
            )
            for ligne in lignes
        ]

    def _requete_offres(self) -> str:
        return (
            f"SELECT offre_id, enfant_id, accueil_id, jour, unite, expire_le FROM {self._s}.proj_offres"
            " WHERE famille_id = %s AND statut = 'proposee' AND expire_le > %s ORDER BY expire_le"
        )

    def offres_ouvertes(self, famille_id: UUID, maintenant: datetime) -> list[Any]:
        return self._lignes(self._requete_offres(), (famille_id, maintenant))

    async def offres_ouvertes_async(
        self, lecteur: LecteurAsync, famille_id: UUID, maintenant: datetime
    ) -> list[Any]:
        """`offres_ouvertes` awaited on the event loop."""
        return await lecteur.lignes(self._requete_offres(), (famille_id, maintenant))

    def offre_par_id(self, offre_id: UUID) -> Any | None:
        lignes = self._lignes(
            f"SELECT offre_id, enfant_id, famille_id, accueil_id, jour, unite FROM {self._s}.proj_offres"
            " WHERE offre_id = %s",
            (offre_id,),
        )
        return lignes[0] if lignes else None

    def factures(self, famille_id: UUID) -> list[Any]:
        return self._lignes(
            f"SELECT facture_id, numero, periode, emise_le, echeance, montant_cents, reste_a_payer_cents, statut"
            # Pieces the régie records by hand reach the family through the régie and its balance.
            f" FROM {self._s}.proj_factures WHERE famille_id = %s AND nature = 'facture'"
            " ORDER BY emise_le DESC, numero DESC",
            (famille_id,),
        )

    def facture_resume(self, facture_id: UUID) -> Any | None:
        lignes = self._lignes(
            f"SELECT facture_id, famille_id, numero, periode, emise_le, echeance, montant_cents,"
            f" reste_a_payer_cents, statut FROM {self._s}.proj_factures WHERE facture_id = %s",
            (facture_id,),
        )
        return lignes[0] if lignes else None

    def brouillons(self, mois: str, famille_id: UUID | None = None) -> list[Any]:
        if famille_id is None:
            return self._lignes(
                f"SELECT famille_id, lignes, montant_cents, anomalies FROM {self._s}.proj_brouillons"
                " WHERE mois = %s ORDER BY famille_id",
                (mois,),
            )
        return self._lignes(
            f"SELECT famille_id, lignes, montant_cents, anomalies FROM {self._s}.proj_brouillons"
            " WHERE mois = %s AND famille_id = %s",
            (mois, famille_id),
        )

    def accueils_de_l_enfant(self, enfant_id: UUID) -> list[UUID]:
        return [
            ligne["accueil_id"]
            for ligne in self._lignes(
                f"SELECT accueil_id FROM {self._s}.proj_plannings WHERE enfant_id = %s ORDER BY accueil_id",
                (enfant_id,),
            )
        ]

    def documents(self, famille_id: UUID | None = None, statut: str | None = None) -> list[Any]:
        conditions: list[str] = []
        parametres: list[Any] = []
        if famille_id is not None:
            conditions.append("famille_id = %s")
            parametres.append(famille_id)
        if statut is not None:
            conditions.append("statut = %s")
            parametres.append(statut)
        where = " AND ".join(conditions) or "TRUE"
        return self._lignes(
            f"SELECT document_id, famille_id, enfant_id, type, media_type, taille, statut, depose_le"
            f" FROM {self._s}.proj_documents WHERE {where} ORDER BY depose_le DESC LIMIT 500",
            tuple(parametres),
        )

    def actualites(self, famille_id: UUID) -> list[Any]:
        """News for everyone, and for the accueils where the family has a child."""
        return self._lignes(
            f"SELECT actualite_id, titre, contenu, accueils, publiee_le FROM {self._s}.proj_actualites a"
            " WHERE cardinality(a.accueils) = 0 OR a.accueils && ARRAY("
            f"SELECT accueil_id FROM {self._s}.proj_plannings WHERE famille_id = %s)"
            " ORDER BY publiee_le DESC LIMIT 100",
            (famille_id,),
        )
