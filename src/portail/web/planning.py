"""Mon planning: the guide's wizard (the child, then the établissement and the période, then the
month's calendar, a day's presences and « Valider »), the outcome of each item, cancelling from the
calendar, and the places offered from a waiting list."""

from __future__ import annotations

import asyncio
import calendar
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache, partial
from typing import Any
from uuid import UUID

import anyio.to_thread
import msgspec
from jinja2 import Environment, pass_environment
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from markupsafe import Markup, escape

from portail.api.controllers.planning import _resultats as resultats_out
from portail.api.controllers.planning import cases_du_mois, cases_du_mois_async, repondre_offre
from portail.api.etat import contexte, services
from portail.api.schemas import ResultatsOut
from portail.application.pdf import MOIS
from portail.application.portail import LectureEnFil
from portail.bootstrap import Services
from portail.domain.accueil import Accueil, Unite
from portail.domain.enfant import Enfant
from portail.domain.erreurs import ErreurDomaine
from portail.domain.planning import Planning
from portail.domain.regles.calendrier import PARIS
from portail.domain.reservation import DemandeReservation, Resultat, Statut
from portail.projections.requetes import CaseCalendrier
from portail.store.lecture import LecteurAsync
from portail.web.pages import (
    LIBELLES,
    MESSAGES,
    Erreurs,
    Formulaire,
    FormulairePoste,
    cle_idempotence,
    essayer,
    exige_parent,
    famille_de_la_page,
    rediriger,
    rendu,
    suite_sure,
    utilisateur_de,
)

MESSAGES.update(
    {
        "reservation-annulee": "La présence est annulée ; la place est rendue.",
        "reservation-annulee-facturable": (
            "La présence est annulée ; passé le délai d'annulation, ce jour vous sera facturé."
        ),
        "offre-acceptee": "Vous avez accepté la place : elle est réservée.",
        "offre-refusee": "Vous avez refusé la place ; elle est proposée à l'enfant suivant.",
    }
)
LIBELLES.update(
    {
        "jour": "Jour",
        "unites": "Présences",
        "jours_semaine": "Jours de la semaine",
        "jusqu_au": "Recopier jusqu'au",
        "offre": "Place proposée",
    }
)

JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MAX_PRESENCES = 400
"""As many day-units as one booking of the API takes."""


@dataclass(frozen=True)
class Etat:
    texte: str
    classe: str


ETATS = {
    "reserve": Etat("réservé", "reserve"),
    "present": Etat("présent", "reserve"),
    "present_non_reserve": Etat("présent sans réservation", "reserve"),
    "liste_attente": Etat("liste d'attente", "attente"),
    "annule": Etat("annulé", "annule"),
    "absent_justifie": Etat("absent (justifié)", "absent"),
    "absent_non_justifie": Etat("absent", "absent"),
    "ferme": Etat("fermé", "ferme"),
    "verrouille": Etat("délai dépassé", "delai"),
    "complet": Etat("complet : liste d'attente", "complet"),
    "libre": Etat("libre", "libre"),
}
LEGENDE = (
    ("reserve", "Réservé"),
    ("attente", "Liste d'attente"),
    ("annule", "Annulé"),
    ("absent", "Absent"),
    ("ferme", "Fermé"),
    ("non-reservable", "Non réservable"),
    ("delai", "Délai dépassé"),
    ("complet", "Complet (liste d'attente)"),
    ("libre", "Libre"),
)
RESERVABLES = {"libre", "complet", "annule", "present_non_reserve", "reserve", "liste_attente"}
"""A unit the booking form offers (one already held books again as a no-op, so that a held day
can be copied onto others)."""
ANNULABLES = {"reserve", "liste_attente"}
TEXTES_STATUT = {
    "reserve": "réservé",
    "liste_attente": "liste d'attente",
    "refuse": "refusé",
    "annule": "annulé",
}


def jour_long(jour: date) -> str:
    """2021-10-04 → « lundi 4 octobre 2021 »."""
    numero = "1er" if jour.day == 1 else str(jour.day)
    return f"{JOURS[jour.weekday()]} {numero} {MOIS[jour.month - 1]} {jour.year}"


def mois_long(premier: date) -> str:
    return f"{MOIS[premier.month - 1].capitalize()} {premier.year}"


def heures(unite: Unite) -> str:
    if unite.debut and unite.fin:
        return f"{unite.debut:%H:%M} – {unite.fin:%H:%M}"
    return ""


def paris(instant: datetime | None) -> str:
    if instant is None:
        return ""
    local = instant.astimezone(PARIS)
    return f"{local:%d/%m/%Y à %H:%M}"


@dataclass(frozen=True, eq=False)
class Case:
    """A unit's cell on a day, as the page shows it. Compared by identity: a cell's view is
    built once (`_cases`), and the calendar's kept cells are found by their views at each page."""

    code: str
    libelle: str
    heures: str
    etat: str
    texte: str
    classe: str
    limite: str
    motif: str | None

    @property
    def court(self) -> str:
        return self.code[:3]


@dataclass(frozen=True)
class Jour:
    jour: date
    cases: tuple[Case, ...]

    @cached_property
    def ferme(self) -> str | None:
        """Why the day is closed, when every unit is (the calendar asks several times a day)."""
        if self.cases and all(c.etat == "ferme" for c in self.cases):
            return self.cases[0].motif
        return None

    @cached_property
    def classe(self) -> str:
        if not self.cases:
            return "non-reservable"
        if all(c.etat == "ferme" for c in self.cases):
            return "ferme"
        return ""


@dataclass(frozen=True)
class Choix:
    """A unit in the « Nouvelle présence » form."""

    case: Case
    incompatibles: tuple[str, ...]
    ou_avant: bool
    """Incompatible with the unit before it: the form shows « OU » between them."""


VUES_MAX = 50_000
_vues: dict[int, tuple[CaseCalendrier, Accueil, Case]] = {}
"""A cell's view by the cell: the month's cells are the accueil's skeleton's, shared by every
read (`Squelette`), so that a cell's view is built once, not at every page. Keyed by the cell's
identity, the cell and the accueil it was built for kept with it (an identity is not reused
while its object lives)."""


def _cases(
    accueil: Accueil, cases: list[CaseCalendrier], unites: dict[str, tuple[str, str]]
) -> tuple[Case, ...]:
    """`unites`: each unit's label and hours, computed once for the month."""
    vues = []
    for c in cases:
        connue = _vues.get(id(c))
        if connue is not None and connue[0] is c and connue[1] is accueil:
            vues.append(connue[2])
            continue
        if c.accueil_id != accueil.id:
            continue
        libelle, horaire = unites[c.code]
        etat = ETATS.get(c.etat) or Etat(c.etat, "")
        vue = Case(
            c.code,
            libelle,
            horaire,
            c.etat,
            etat.texte,
            etat.classe,
            _paris(c.modifiable_jusqu_au) if c.modifiable_jusqu_au is not None else "",
            c.motif,
        )
        if len(_vues) >= VUES_MAX:
            _vues.clear()
        _vues[id(c)] = (c, accueil, vue)
        vues.append(vue)
    return tuple(vues)


def _unites(accueil: Accueil) -> dict[str, tuple[str, str]]:
    return {u.code: (u.libelle, heures(u)) for u in accueil.config.unites}


@lru_cache(maxsize=4096)
def _paris(instant: datetime) -> str:
    """`paris`, remembered: a month's cells share a few hundred deadlines."""
    return paris(instant)


def _incompatibles(accueil: Accueil, code: str) -> tuple[str, ...]:
    unites = accueil.config.unites
    moi = next(u for u in unites if u.code == code)
    return tuple(
        u.code for u in unites if u.code != code and (u.code in moi.incompatibles or code in u.incompatibles)
    )


def choix_du_jour(accueil: Accueil, jour: Jour) -> list[Choix]:
    choix: list[Choix] = []
    precedent: str | None = None
    for case in jour.cases:
        if case.etat not in RESERVABLES:
            precedent = None
            continue
        incompatibles = _incompatibles(accueil, case.code)
        choix.append(Choix(case, incompatibles, precedent is not None and precedent in incompatibles))
        precedent = case.code
    return choix


HORS_MOIS = '<td class="hors-mois"></td>'
"""A calendar cell of the months around the one shown."""
BASE_CELLULE = "<@base@>"
"""Stands for the calendar's path in a kept cell: no text escaped into a cell can hold a `<`."""
CELLULES_MAX = 20_000
_cellules: dict[tuple[date, tuple[Case, ...], bool, bool], str] = {}
"""A day's cell by its content, for every calendar of the process: the templates are the
package's, the same in every environment."""


def _cellule(env: Environment, jour: Jour, choisi: Jour | None, aujourd_hui: date) -> str:
    """A day of the month calendar (`planning/_jour.html`), `BASE_CELLULE` for its path. Rendered
    once per content and kept: the same day in the same states is the same markup for every
    child (a month's thirty cells were most of a calendar page's rendering)."""
    cle = (jour.jour, jour.cases, choisi is not None and choisi.jour == jour.jour, jour.jour == aujourd_hui)
    html = _cellules.get(cle)
    if html is None:
        # The stand-in is our constant; everything else in the cell is escaped by the template.
        repere = Markup(BASE_CELLULE)  # noqa: S704
        html = env.get_template("planning/_jour.html").render(
            j=jour, base=repere, choisi=cle[2], aujourdhui=cle[3], entetes_jours=JOURS
        )
        if len(_cellules) >= CELLULES_MAX:
            _cellules.clear()
        _cellules[cle] = html
    return html


@pass_environment
def corps_calendrier(
    env: Environment, semaines: list[list[Jour | None]], base: str, choisi: Jour | None, aujourd_hui: date
) -> Markup:
    """The calendar's rows, joined here rather than by a loop of the template calling a function
    per day: the kept cells, the calendar's path put in once escaped."""
    chemin = str(escape(base))
    lignes = []
    for semaine in semaines:
        cellules = [
            HORS_MOIS if j is None else _cellule(env, j, choisi, aujourd_hui).replace(BASE_CELLULE, chemin)
            for j in semaine
        ]
        lignes.append("<tr>\n" + "\n".join(cellules) + "\n</tr>")
    # Rendered with autoescape, the path escaped: markup, not text to escape again.
    return Markup("\n".join(lignes))  # noqa: S704


@lru_cache(maxsize=64)
def _semaines_du_mois(annee: int, mois: int) -> tuple[tuple[date, ...], ...]:
    return tuple(tuple(s) for s in calendar.Calendar(firstweekday=0).monthdatescalendar(annee, mois))


def semaines(premier: date, jours: dict[date, Jour]) -> list[list[Jour | None]]:
    """The month's weeks from Monday; None for the days of the months around it."""
    return [
        [jours.get(d, Jour(d, ())) if d.month == premier.month else None for d in semaine]
        for semaine in _semaines_du_mois(premier.year, premier.month)
    ]


def _mois(valeur: str | None, accueil: Accueil, aujourd_hui: date) -> date:
    """The month asked for, else today's (within the période: its first or last month)."""
    periode = accueil.config.periode
    if valeur:
        try:
            annee, mois = valeur.split("-")
            demande = date(int(annee), int(mois), 1)
            if date(2000, 1, 1) <= demande <= date(2100, 12, 1):
                return demande
        except ValueError:
            pass
    jour = min(max(aujourd_hui, periode.debut), periode.fin)
    return jour.replace(day=1)


def _jour(valeur: str | None, premier: date) -> date | None:
    try:
        jour = date.fromisoformat(valeur) if valeur else None
    except ValueError:
        return None
    return jour if jour is not None and (jour.year, jour.month) == (premier.year, premier.month) else None


def _decaler(premier: date, mois: int) -> date:
    index = premier.year * 12 + premier.month - 1 + mois
    return date(index // 12, index % 12 + 1, 1)


def _prenom(enfant: Enfant) -> str:
    return enfant.identite.prenom if enfant.identite is not None else "Enfant"


@dataclass(frozen=True)
class Offre:
    offre_id: UUID
    enfant_id: UUID
    prenom: str
    accueil: str
    jour: date
    unite: str
    expire: str


def offres(sv: Services, famille_id: UUID, enfants: dict[UUID, str]) -> list[Offre]:
    """The places offered to the family's children, soonest expiry first."""
    return _offres(sv, sv.lectures.offres_ouvertes(famille_id, sv.portail.horloge()), enfants)


def _offres(sv: Services, lignes: list[Any], enfants: dict[UUID, str]) -> list[Offre]:
    liste = []
    for o in lignes:
        accueil = sv.catalogue.accueil_lu(o["accueil_id"])
        unite = accueil.unite(o["unite"])
        liste.append(
            Offre(
                o["offre_id"],
                o["enfant_id"],
                enfants.get(o["enfant_id"], "Enfant"),
                f"{accueil.config.etablissement} – {accueil.config.mode_accueil}",
                o["jour"],
                f"{o['unite']}" + (f" ({heures(unite)})" if unite and heures(unite) else ""),
                paris(o["expire_le"]),
            )
        )
    return liste


def _prenoms(sv: Services, famille_id: UUID) -> dict[UUID, str]:
    return {e.id: _prenom(e) for e in sv.familles.foyer(famille_id).enfants}


@dataclass(frozen=True)
class Lieu:
    """The page's child and accueil: the child of the session's family only (else 404)."""

    sv: Services
    famille_id: UUID
    enfant: Enfant
    accueil: Accueil

    @classmethod
    def de(cls, request: Request[Any, Any, Any], enfant_id: UUID, accueil_id: UUID) -> Lieu:
        sv = services(request)
        famille_id = famille_de_la_page(request)
        enfant = sv.familles.enfant(famille_id, enfant_id, lecture=True)
        return cls(sv, famille_id, enfant, sv.catalogue.accueil_lu(accueil_id))

    @classmethod
    async def de_async(
        cls, request: Request[Any, Any, Any], enfant_id: UUID, accueil_id: UUID, lecteur: LecteurAsync
    ) -> Lieu:
        """`de` on the event loop: the child and the accueil when not kept are awaited statements
        (`LectureEnFil` when only a worker thread can read them)."""
        sv = services(request)
        famille_id = famille_de_la_page(request)
        enfant = await sv.familles.enfant_lu_async(famille_id, enfant_id, lecteur)
        return cls(sv, famille_id, enfant, await sv.catalogue.accueil_lu_async(accueil_id, lecteur))


def _mois_et_jour(
    request: Request[Any, Any, Any], accueil: Accueil, sv: Services, mois: str | None, jour: str | None
) -> tuple[date, date | None]:
    """The calendar's month and chosen day: those given, else the query's."""
    premier = _mois(mois or request.query_params.get("mois"), accueil, sv.familles.aujourd_hui())
    return premier, _jour(jour or request.query_params.get("jour"), premier)


def _page_calendrier(
    request: Request[Any, Any, Any],
    lieu: Lieu,
    premier: date,
    choisi: date | None,
    cases: dict[date, list[CaseCalendrier]],
    proposees: list[Offre],
    *,
    statut: int = 200,
    erreurs: Erreurs | None = None,
    saisie: dict[str, Any] | None = None,
) -> Template:
    """The calendar page from what was read: nothing here reads the database."""
    accueil, enfant_id = lieu.accueil, lieu.enfant.id
    aujourd_hui = lieu.sv.familles.aujourd_hui()
    unites = _unites(accueil)
    jours = {d: Jour(d, _cases(accueil, c, unites)) for d, c in cases.items()}
    selection = jours.get(choisi) if choisi else None
    periode = accueil.config.periode
    precedent = _decaler(premier, -1)
    suivant = _decaler(premier, 1)
    return rendu(
        request,
        "planning/calendrier.html",
        statut=statut,
        erreurs=erreurs or Erreurs(),
        saisie=saisie or {},
        base=f"/planning/{enfant_id}/{accueil.id}",
        enfant_id=enfant_id,
        prenom=_prenom(lieu.enfant),
        accueil=accueil,
        premier=premier,
        mois_texte=mois_long(premier),
        precedent=precedent if periode.debut.replace(day=1) <= precedent else None,
        suivant=suivant if suivant <= periode.fin else None,
        precedent_texte=mois_long(precedent),
        suivant_texte=mois_long(suivant),
        semaines=semaines(premier, jours),
        legende=LEGENDE,
        entetes_jours=JOURS,
        choisi=selection,
        choisi_texte=jour_long(choisi) if choisi else "",
        choix=choix_du_jour(accueil, selection) if selection else [],
        annulables=[c for c in selection.cases if c.etat in ANNULABLES] if selection else [],
        jours_accueil=[(j, JOURS[j - 1]) for j in accueil.config.jours],
        fin_periode=periode.fin,
        cle=cle_idempotence(),
        offres=[o for o in proposees if o.enfant_id == enfant_id],
        aujourd_hui=aujourd_hui,
    )


def _cle_et_empreinte(
    f: Formulaire, enfant_id: UUID, accueil_id: UUID, demandes: list[DemandeReservation]
) -> tuple[str, bytes]:
    """The form's idempotency key (its hidden field, else a new one) and what it must be sent
    again with to get the same answer."""
    cle = f.texte("idempotency_key")[:200] or cle_idempotence()
    empreinte = msgspec.json.encode(
        {
            "page": "planning",
            "enfant_id": str(enfant_id),
            "accueil_id": str(accueil_id),
            "presences": [(d.jour.isoformat(), d.unite) for d in demandes],
        }
    )
    return cle, empreinte


def _encoder(resultats: list[Resultat]) -> bytes:
    """The booking's answer stored with its key: the API's, so both read the same results."""
    return msgspec.json.encode(resultats_out(resultats))


class PlanningPages(Controller):
    include_in_schema = False
    guards = [exige_parent]  # noqa: RUF012

    # Step 1: the child, and the places offered

    @get("/planning", sync_to_thread=True)
    def enfants(self, request: Request[Any, Any, Any]) -> Template:
        return self._enfants(request)

    def _enfants(
        self, request: Request[Any, Any, Any], statut: int = 200, erreurs: Erreurs | None = None
    ) -> Template:
        sv = services(request)
        famille_id = famille_de_la_page(request)
        prenoms = _prenoms(sv, famille_id)
        return rendu(
            request,
            "planning/enfants.html",
            statut=statut,
            erreurs=erreurs or Erreurs(),
            enfants=list(prenoms.items()),
            offres=offres(sv, famille_id, prenoms),
        )

    # Step 2: the établissement and the période

    @get("/planning/{enfant_id:uuid}", sync_to_thread=True)
    def accueils(self, request: Request[Any, Any, Any], enfant_id: FromPath[UUID]) -> Template:
        sv = services(request)
        famille_id = famille_de_la_page(request)
        enfant = sv.familles.enfant(famille_id, enfant_id, lecture=True)
        naissance = enfant.identite.date_naissance if enfant.identite else None
        resident = sv.reservations.resident(famille_id)
        accueils = sv.lectures.accueils_pour(
            enfant.scolarite.niveau, naissance, resident, sv.familles.aujourd_hui()
        )
        groupes: dict[str, list[Accueil]] = {}
        for a in accueils:
            groupes.setdefault(a.config.etablissement, []).append(a)
        return rendu(
            request,
            "planning/accueils.html",
            enfant_id=enfant_id,
            prenom=_prenom(enfant),
            groupes=list(groupes.items()),
        )

    # Step 3: the calendar, a day's presences

    @get("/planning/{enfant_id:uuid}/{accueil_id:uuid}")
    async def calendrier(
        self, request: Request[Any, Any, Any], enfant_id: FromPath[UUID], accueil_id: FromPath[UUID]
    ) -> Template:
        """Read on the event loop when it can be: the page's reads (the child and the accueil when
        not kept, the month, the offers when the month says one is open) are statements awaited
        there, a hop to a worker thread and back costing more than they do; what only a thread
        can read goes to one."""
        sv = services(request)
        lecteur = sv.lecteur_async
        if lecteur is not None:
            with suppress(LectureEnFil):
                famille_id = famille_de_la_page(request)
                accueil = await sv.catalogue.accueil_lu_async(accueil_id, lecteur)
                premier, choisi = _mois_et_jour(request, accueil, sv, None, None)
                lire_enfant = partial(sv.familles.enfant_lu_async, famille_id, enfant_id, lecteur)
                lire_mois = partial(
                    cases_du_mois_async,
                    sv,
                    famille_id,
                    enfant_id,
                    premier,
                    accueil_id,
                    hors_periode_vide=True,
                )
                if sv.portail.garde(enfant_id):
                    enfant, mois = await lire_enfant(), await lire_mois()
                else:
                    # A child not kept yet: its statement and the month's are on their way
                    # together, not one after the other (two waits for the loop under load).
                    enfant, mois = await asyncio.gather(lire_enfant(), lire_mois())
                lieu = Lieu(sv, famille_id, enfant, accueil)
                lignes = []
                if mois.offres_ouvertes:
                    lignes = await sv.lectures.offres_ouvertes_async(
                        lecteur, famille_id, sv.portail.horloge()
                    )
                prenoms = {enfant_id: _prenom(enfant)}
                # An offer names its accueil, read from its stream when not kept: in a thread.
                proposees = await anyio.to_thread.run_sync(_offres, sv, lignes, prenoms) if lignes else []
                return _page_calendrier(request, lieu, premier, choisi, mois.jours, proposees)
        return await anyio.to_thread.run_sync(lambda: self._calendrier(request, enfant_id, accueil_id))

    def _calendrier(
        self,
        request: Request[Any, Any, Any],
        enfant_id: UUID,
        accueil_id: UUID,
        *,
        statut: int = 200,
        erreurs: Erreurs | None = None,
        saisie: dict[str, Any] | None = None,
        mois: str | None = None,
        jour: str | None = None,
    ) -> Template:
        lieu = Lieu.de(request, enfant_id, accueil_id)
        premier, choisi = _mois_et_jour(request, lieu.accueil, lieu.sv, mois, jour)
        # This accueil's cells only: the others' (and the child's eligibility to them) are not shown.
        lu = cases_du_mois(lieu.sv, lieu.famille_id, enfant_id, premier, accueil_id, hors_periode_vide=True)
        # The family's offers are read only when the month's statement found one open.
        proposees = (
            offres(lieu.sv, lieu.famille_id, {enfant_id: _prenom(lieu.enfant)}) if lu.offres_ouvertes else []
        )
        return _page_calendrier(
            request, lieu, premier, choisi, lu.jours, proposees, statut=statut, erreurs=erreurs, saisie=saisie
        )

    @post("/planning/{enfant_id:uuid}/{accueil_id:uuid}/reservations")
    async def reserver(
        self,
        request: Request[Any, Any, Any],
        enfant_id: FromPath[UUID],
        accueil_id: FromPath[UUID],
        data: FormulairePoste,
    ) -> Response[Any]:
        """« Valider »: served on the event loop when it can be (the API's booking,
        `ServiceReservations.reserver_sur_la_boucle`); a form with errors, or what only a thread
        can serve, goes to a worker thread, which decides it there and shows the errors."""
        sv = services(request)
        lecteur = sv.lecteur_async
        if lecteur is not None:
            with suppress(LectureEnFil):
                # A child's first booking in this process: the child and its planning in one
                # statement, not the child first and the planning once the form is read.
                await sv.portail.precharger_async(
                    [enfant_id, Planning.id_pour(enfant_id, accueil_id)], lecteur
                )
                lieu = await Lieu.de_async(request, enfant_id, accueil_id, lecteur)
                famille_id = lieu.famille_id
                f = Formulaire(data)
                demandes = demandes_du_formulaire(f, lieu.accueil, sv)
                if not f.erreurs:
                    cle, empreinte = _cle_et_empreinte(f, enfant_id, accueil_id, demandes)
                    utilisateur = utilisateur_de(request)
                    assert utilisateur is not None
                    position = 0

                    async def commande(demande: Any) -> list[Resultat] | None:
                        nonlocal position
                        fait = await sv.reservations.reserver_sur_la_boucle(
                            replace(contexte(request), idempotence=demande),
                            famille_id,
                            enfant_id,
                            accueil_id,
                            demandes,
                            lecteur,
                        )
                        if fait is None:
                            return None
                        resultats, position = fait
                        return resultats

                    try:
                        reponse = await sv.idempotence.servir_async(
                            utilisateur.compte_id, cle, empreinte, _encoder, commande, lecteur
                        )
                    except ErreurDomaine:
                        reponse = None  # shown beside its field by the thread's rendering
                    if reponse is not None:
                        if position:
                            await anyio.to_thread.run_sync(sv.suivi.attendre, position)
                        return rediriger(f"/planning/{enfant_id}/{accueil_id}/resultat?cle={cle}")
        return await anyio.to_thread.run_sync(lambda: self._reserver(request, enfant_id, accueil_id, data))

    def _reserver(
        self, request: Request[Any, Any, Any], enfant_id: UUID, accueil_id: UUID, data: FormulairePoste
    ) -> Response[Any]:
        lieu = Lieu.de(request, enfant_id, accueil_id)
        sv, famille_id, accueil = lieu.sv, lieu.famille_id, lieu.accueil
        f = Formulaire(data)
        demandes = demandes_du_formulaire(f, accueil, sv)
        cle, empreinte = _cle_et_empreinte(f, enfant_id, accueil_id, demandes)
        utilisateur = utilisateur_de(request)
        assert utilisateur is not None

        def reserver() -> Any:
            return sv.idempotence.servir(
                utilisateur.compte_id,
                cle,
                empreinte,
                _encoder,
                lambda demande: sv.reservations.reserver(
                    replace(contexte(request), idempotence=demande),
                    famille_id,
                    enfant_id,
                    accueil_id,
                    demandes,
                ),
                lire_d_abord=False,
            )

        _, erreurs = essayer(reserver, f)
        if erreurs:
            return self._calendrier(
                request,
                enfant_id,
                accueil_id,
                statut=422,
                erreurs=erreurs,
                saisie=f.saisie() | {"unites": f.liste("unites"), "jours_semaine": f.liste("jours_semaine")},
                mois=f.texte("jour")[:7],
                jour=f.texte("jour"),
            )
        sv.apres_reservation()
        return rediriger(f"/planning/{enfant_id}/{accueil_id}/resultat?cle={cle}")

    @get("/planning/{enfant_id:uuid}/{accueil_id:uuid}/resultat", sync_to_thread=True)
    def resultat(
        self,
        request: Request[Any, Any, Any],
        enfant_id: FromPath[UUID],
        accueil_id: FromPath[UUID],
        cle: FromQuery[str],
    ) -> Template:
        lieu = Lieu.de(request, enfant_id, accueil_id)
        sv, enfant, accueil = lieu.sv, lieu.enfant, lieu.accueil
        utilisateur = utilisateur_de(request)
        assert utilisateur is not None
        corps = sv.idempotence.relire(utilisateur.compte_id, cle[:200])
        if corps is None:
            raise NotFoundException("Cette réservation est introuvable.")
        resultats = msgspec.json.decode(corps, type=ResultatsOut).resultats
        comptes = {
            s: sum(1 for r in resultats if r.statut == s) for s in ("reserve", "liste_attente", "refuse")
        }
        premier = resultats[0].date.replace(day=1) if resultats else None
        return rendu(
            request,
            "planning/resultat.html",
            prenom=_prenom(enfant),
            accueil=accueil,
            resultats=[(jour_long(r.date), r, TEXTES_STATUT[r.statut]) for r in resultats],
            comptes=comptes,
            retour=f"/planning/{enfant_id}/{accueil_id}"
            + (f"?mois={premier:%Y-%m}&jour={resultats[0].date}#presences" if premier else ""),
        )

    @post("/planning/{enfant_id:uuid}/{accueil_id:uuid}/annulations", sync_to_thread=True)
    def annuler(
        self,
        request: Request[Any, Any, Any],
        enfant_id: FromPath[UUID],
        accueil_id: FromPath[UUID],
        data: FormulairePoste,
    ) -> Response[Any]:
        lieu = Lieu.de(request, enfant_id, accueil_id)
        sv, famille_id, accueil = lieu.sv, lieu.famille_id, lieu.accueil
        f = Formulaire(data)
        jour = f.date("jour", obligatoire=True)
        unite = f.texte("unite")
        if accueil.unite(unite) is None:
            f.erreurs.ajouter("", "Présence inconnue.")
        resultats, erreurs = essayer(
            lambda: (
                sv.reservations.annuler(
                    contexte(request),
                    famille_id,
                    enfant_id,
                    accueil_id,
                    [DemandeReservation(jour, unite)],
                    None,
                )
                if jour is not None
                else []
            ),
            f,
        )
        if resultats:
            sv.apres_reservation()
            for r in resultats:
                if r.statut is Statut.REFUSE:
                    erreurs.ajouter("", f"{unite} du {jour_long(r.jour)} : {r.motif}.")
        if erreurs or not resultats:
            return self._calendrier(
                request,
                enfant_id,
                accueil_id,
                statut=422,
                erreurs=erreurs,
                mois=f.texte("jour")[:7],
                jour=f.texte("jour"),
            )
        facturable = any(r.facturable for r in resultats)
        return rediriger(
            f"/planning/{enfant_id}/{accueil_id}?mois={jour:%Y-%m}&jour={jour}",
            "reservation-annulee-facturable" if facturable else "reservation-annulee",
        )

    # Waiting-list offers

    @post("/planning/offres/{offre_id:uuid}/{reponse:str}", sync_to_thread=True)
    def repondre(
        self,
        request: Request[Any, Any, Any],
        offre_id: FromPath[UUID],
        reponse: FromPath[str],
        data: FormulairePoste,
    ) -> Response[Any]:
        if reponse not in ("acceptation", "refus"):
            raise NotFoundException("Page introuvable.")
        sv = services(request)
        famille_id = famille_de_la_page(request)
        accepter = reponse == "acceptation"
        _, erreurs = essayer(lambda: repondre_offre(sv, contexte(request), famille_id, offre_id, accepter))
        if erreurs:
            return self._enfants(request, statut=422, erreurs=erreurs)
        retour = suite_sure(Formulaire(data).texte("retour") or "/planning")
        return rediriger(retour, "offre-acceptee" if accepter else "offre-refusee")


def demandes_du_formulaire(f: Formulaire, accueil: Accueil, sv: Services) -> list[DemandeReservation]:
    """The « Nouvelle présence » form's day-units: the units ticked on the day, and with « Recopier
    la sélection » on the chosen weekdays up to a date (days the accueil is closed passed over)."""
    jour = f.date("jour", obligatoire=True)
    codes = f.liste("unites")
    connus = {u.code for u in accueil.config.unites}
    if not codes:
        f.erreurs.ajouter("unites", "choisissez au moins une présence")
    elif any(c not in connus for c in codes):
        f.erreurs.ajouter("unites", "présence inconnue pour cet accueil")
    else:
        for i, code in enumerate(codes):
            for autre in codes[i + 1 :]:
                if autre in _incompatibles(accueil, code):
                    f.erreurs.ajouter(
                        "unites",
                        f"{code} et {autre} ne se réservent pas le même jour : choisissez l'un OU l'autre",
                    )
    if jour is None:
        return []
    jours = [jour]
    if f.case("recopier"):
        jusqu_au = f.date("jusqu_au", obligatoire=True)
        semaine: set[int] = set()
        for valeur in f.liste("jours_semaine"):
            if valeur.isdigit() and 1 <= int(valeur) <= 7:
                semaine.add(int(valeur))
        if not semaine:
            f.erreurs.ajouter("jours_semaine", "choisissez au moins un jour de la semaine")
        if jusqu_au is not None:
            if jusqu_au <= jour:
                f.erreurs.ajouter("jusqu_au", f"choisissez une date après le {jour_long(jour)}")
            elif (jusqu_au - jour).days > 400:
                f.erreurs.ajouter("jusqu_au", "au plus un an après le jour choisi")
            else:
                calendrier = sv.reservations.calendrier
                d = jour + timedelta(days=1)
                while d <= jusqu_au:
                    if d.isoweekday() in semaine and accueil.motif_fermeture(d, calendrier) is None:
                        jours.append(d)
                    d += timedelta(days=1)
    demandes = [DemandeReservation(d, c) for d in jours for c in codes]
    if len(demandes) > MAX_PRESENCES:
        f.erreurs.ajouter(
            "jusqu_au", f"au plus {MAX_PRESENCES} présences à la fois : choisissez une date plus proche"
        )
    return demandes
