"""Booking routes (parents) and pointage and occupancy (staff)."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from portail.api import schemas as s
from portail.api.auth import SECURITE, Utilisateur, exige_famille, exige_role, famille_de
from portail.api.controllers.catalogue import heure
from portail.api.etat import contexte, services
from portail.api.idempotence import CleIdempotence, une_seule_fois
from portail.api.problemes import reponses_probleme
from portail.application.contexte import Contexte
from portail.application.documents import verifier_justificatif
from portail.bootstrap import Services
from portail.domain.accueil import Accueil
from portail.domain.erreurs import ErreurValidation, Introuvable
from portail.domain.reservation import (
    DemandePointage,
    DemandeReservation,
    LieuOffre,
    Resultat,
    Statut,
    StatutPointage,
)
from portail.domain.valeurs import Role
from portail.projections.requetes import CaseCalendrier, MoisLu

ECRITURE = reponses_probleme(401, 403, 404, 409, 422)


# The JSON words of the API contract (docs/api.md), whatever the domain calls them.
STATUTS: dict[Statut, Literal["reserve", "liste_attente", "refuse", "annule"]] = {
    Statut.RESERVE: "reserve",
    Statut.LISTE_ATTENTE: "liste_attente",
    Statut.REFUSE: "refuse",
    Statut.ANNULE: "annule",
}
STATUTS_POINTAGE: dict[str, StatutPointage] = {
    "present": StatutPointage.PRESENT,
    "absent": StatutPointage.ABSENT,
    "present_non_reserve": StatutPointage.PRESENT_NON_RESERVE,
}


def _resultats(resultats: list[Resultat]) -> s.ResultatsOut:
    return s.ResultatsOut(
        [
            s.ResultatOut(
                date=r.jour,
                unite=r.unite,
                statut=STATUTS[r.statut],
                motif=r.motif,
                majoration_cents=r.majoration_cents,
                majoration_pourcent=r.majoration_pourcent,
                facturable=r.facturable,
            )
            for r in resultats
        ]
    )


def _fin(premier: date) -> date:
    return premier.replace(day=calendar.monthrange(premier.year, premier.month)[1])


def _mois(valeur: str) -> date:
    try:
        annee, mois = valeur.split("-")
        if not 2000 <= int(annee) <= 2100:
            raise ValueError
        return date(int(annee), int(mois), 1)
    except ValueError:
        raise ErreurValidation.sur("mois", "mois attendu au format AAAA-MM") from None


@dataclass(frozen=True)
class MoisAffiche:
    """A child's month as shown: each day's cells, and whether the family has places offered from
    a waiting list to answer (read in the same statement)."""

    jours: dict[date, list[CaseCalendrier]]
    offres_ouvertes: bool


def cases_du_mois(
    sv: Services,
    famille_id: UUID,
    enfant_id: UUID,
    premier: date,
    accueil_id: UUID | None = None,
    *,
    hors_periode_vide: bool = False,
) -> MoisAffiche:
    """A child's month, day by day: the cells of the accueils the child may book or has a planning
    at (the API's month view and the planning page alike), or of one of them. Another family's
    child, or an accueil not open to the child that month: `Introuvable`; with
    `hors_periode_vide`, the latter is a month of days without cells (the page's calendar)."""
    maintenant = sv.portail.horloge()
    lu = sv.lectures.mois_enfant(famille_id, enfant_id, premier, maintenant)
    if lu is None:
        # Not in the read models: the log says whether it is this family's child (else 404),
        # and a child just added is read once the views show it.
        sv.familles.enfant(famille_id, enfant_id, lecture=True)
        sv.suivi.attendre(sv.portail.recorder.max_notification_id() or 0)
        lu = sv.lectures.mois_enfant(famille_id, enfant_id, premier, maintenant)
        if lu is None:
            raise Introuvable("Enfant introuvable.")
    accueils = _accueils_du_mois(lu, accueil_id, hors_periode_vide)
    if _lire_l_eligibilite(lu, accueils):
        accueils = _eligibles(sv, famille_id, enfant_id, premier, lu, accueils)
    return MoisAffiche(sv.lectures.planning_mois(lu, accueils, maintenant), lu.offres_ouvertes)


async def cases_du_mois_async(
    sv: Services,
    famille_id: UUID,
    enfant_id: UUID,
    premier: date,
    accueil_id: UUID | None = None,
    *,
    hors_periode_vide: bool = False,
) -> MoisAffiche:
    """`cases_du_mois` on the event loop: the month's statement awaited, the cells built here;
    whatever must read an aggregate or wait for the views goes to a worker thread."""

    def en_fil() -> MoisAffiche:
        return cases_du_mois(
            sv, famille_id, enfant_id, premier, accueil_id, hors_periode_vide=hors_periode_vide
        )

    lecteur = sv.lecteur_async
    if lecteur is None:
        return await anyio.to_thread.run_sync(en_fil)
    maintenant = sv.portail.horloge()
    lu = await sv.lectures.mois_enfant_async(lecteur, famille_id, enfant_id, premier, maintenant)
    if callable(lu):
        lu = await anyio.to_thread.run_sync(lu)
    if lu is None:
        return await anyio.to_thread.run_sync(en_fil)
    accueils = _accueils_du_mois(lu, accueil_id, hors_periode_vide)
    if _lire_l_eligibilite(lu, accueils):
        accueils = await anyio.to_thread.run_sync(
            _eligibles, sv, famille_id, enfant_id, premier, lu, accueils
        )
    return MoisAffiche(sv.lectures.planning_mois(lu, accueils, maintenant), lu.offres_ouvertes)


def _accueils_du_mois(lu: MoisLu, accueil_id: UUID | None, hors_periode_vide: bool) -> list[Accueil]:
    accueils = lu.accueils
    if accueil_id is not None:
        accueils = [a for a in accueils if a.id == accueil_id]
        if not accueils and not hors_periode_vide:
            raise Introuvable("Accueil introuvable pour ce mois.")
    return accueils


def _lire_l_eligibilite(lu: MoisLu, accueils: list[Accueil]) -> bool:
    """Whether an accueil to show, where the child has no planning, has eligibility rules."""
    return any(
        r.selon_enfant or r.residents_seulement
        for r in (a.config.eligibilite for a in accueils if a.id not in lu.plannings)
    )


def _eligibles(
    sv: Services, famille_id: UUID, enfant_id: UUID, premier: date, lu: MoisLu, accueils: list[Accueil]
) -> list[Accueil]:
    """The accueils the child has a planning at or may book: the child's level and age, the
    family's residence, each read from its aggregate only when an accueil's rules ask for it."""
    regles = [a.config.eligibilite for a in accueils if a.id not in lu.plannings]
    niveau, naissance, resident = None, None, True
    if any(r.selon_enfant for r in regles):
        enfant = sv.familles.enfant(famille_id, enfant_id, lecture=True)
        niveau = enfant.scolarite.niveau
        naissance = enfant.identite.date_naissance if enfant.identite else None
    if any(r.residents_seulement for r in regles):
        resident = sv.reservations.resident(famille_id)
    return [
        a
        for a in accueils
        if a.id in lu.plannings
        or a.motif_non_eligible(niveau, naissance, resident, max(premier, a.config.periode.debut)) is None
    ]


def repondre_offre(
    sv: Services, contexte_commande: Contexte, famille_id: UUID, offre_id: UUID, accepter: bool
) -> Resultat:
    """Accept or refuse one of the family's offers (another family's: 404)."""
    ligne = sv.lectures.offre_par_id(offre_id)
    if ligne is None or ligne["famille_id"] != famille_id:
        raise NotFoundException("Offre introuvable.")
    lieu = LieuOffre(ligne["enfant_id"], ligne["accueil_id"], ligne["jour"], ligne["unite"])
    try:
        return sv.reservations.repondre_offre(contexte_commande, famille_id, offre_id, accepter, lieu)
    finally:
        # Even a refused answer may have recorded an expiry: the next read must show it.
        sv.apres_ecriture()


class PlanningController(Controller):
    path = "/api/enfants/{enfant_id:uuid}"
    security = SECURITE
    tags = ["Mon planning"]  # noqa: RUF012
    guards = [exige_famille]  # noqa: RUF012

    @get(
        "/planning",
        summary="Calendrier du mois d'un enfant",
        responses=reponses_probleme(401, 403, 404, 422),
    )
    async def planning(
        self,
        request: Request[Utilisateur, Any, Any],
        enfant_id: FromPath[UUID],
        mois: Annotated[str, QueryParameter(name="mois", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
        accueil_id: Annotated[UUID | None, QueryParameter()] = None,
    ) -> s.PlanningOut:
        sv = services(request)
        famille_id = famille_de(request.user)
        try:
            premier = _mois(mois)
        except ErreurValidation:
            # Another family's child: 404 first.
            await anyio.to_thread.run_sync(lambda: sv.familles.enfant(famille_id, enfant_id, lecture=True))
            raise
        jours = (await cases_du_mois_async(sv, famille_id, enfant_id, premier, accueil_id)).jours
        return s.PlanningOut(
            enfant_id=enfant_id,
            mois=mois,
            jours=[
                s.JourOut(
                    date=jour,
                    unites=[
                        s.UniteJourOut(c.accueil_id, c.code, c.etat, c.modifiable_jusqu_au, c.motif)  # type: ignore[arg-type]
                        for c in cases
                    ],
                )
                for jour, cases in jours.items()
            ],
        )

    @post(
        "/reservations",
        status_code=200,
        summary="Réserver des jours et unités",
        responses=ECRITURE,
    )
    async def reserver(
        self,
        request: Request[Utilisateur, Any, Any],
        enfant_id: FromPath[UUID],
        data: JSONBody[s.ReservationIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.ResultatsOut:
        famille_id = famille_de(request.user)
        demandes = [DemandeReservation(p.date, p.unite) for p in data.presences]
        demande = {"enfant_id": str(enfant_id), "corps": data}
        sv = services(request)
        if sv.lecteur_async is not None:
            corps = await _reserver_sur_la_boucle(
                request, idempotency_key, demande, famille_id, enfant_id, data.accueil_id, demandes
            )
            if corps is not None:
                return msgspec.json.decode(corps, type=s.ResultatsOut)
        return await anyio.to_thread.run_sync(
            lambda: _reservations_une_fois(
                request,
                idempotency_key,
                demande,
                lambda ctx: sv.reservations.reserver(ctx, famille_id, enfant_id, data.accueil_id, demandes),
            )
        )

    @post(
        "/reservations/recopier",
        status_code=200,
        sync_to_thread=True,
        summary="Recopier une semaine",
        responses=ECRITURE,
    )
    def recopier(
        self,
        request: Request[Utilisateur, Any, Any],
        enfant_id: FromPath[UUID],
        data: JSONBody[s.RecopieIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.ResultatsOut:
        famille_id = famille_de(request.user)
        return _reservations_une_fois(
            request,
            idempotency_key,
            {"recopie": str(enfant_id), "corps": data},
            lambda ctx: services(request).reservations.recopier(
                ctx, famille_id, enfant_id, data.accueil_id, data.semaine_du, data.jusqu_au
            ),
        )

    @post(
        "/annulations",
        status_code=200,
        sync_to_thread=True,
        summary="Annuler des réservations",
        responses=ECRITURE,
    )
    def annuler(
        self,
        request: Request[Utilisateur, Any, Any],
        enfant_id: FromPath[UUID],
        data: JSONBody[s.AnnulationIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.ResultatsOut:
        famille_id = famille_de(request.user)
        demandes = [DemandeReservation(p.date, p.unite) for p in data.presences]
        return _reservations_une_fois(
            request,
            idempotency_key,
            {"annulation": str(enfant_id), "corps": data},
            lambda ctx: services(request).reservations.annuler(
                ctx, famille_id, enfant_id, data.accueil_id, demandes, data.motif
            ),
        )

    @post(
        "/absences", status_code=201, sync_to_thread=True, summary="Signaler une absence", responses=ECRITURE
    )
    def absence(
        self,
        request: Request[Utilisateur, Any, Any],
        enfant_id: FromPath[UUID],
        data: JSONBody[s.AbsenceIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.AbsenceOut:
        sv = services(request)
        famille_id = famille_de(request.user)

        def declarer(ctx: Contexte) -> s.AbsenceOut:
            if data.document_id is not None:
                verifier_justificatif(sv.documents, famille_id, data.document_id)
            sv.reservations.declarer_absence(
                ctx,
                famille_id,
                enfant_id,
                data.accueil_id,
                data.date,
                list(data.unites),
                data.motif,
                data.document_id,
            )
            justifiee = data.document_id is not None
            return s.AbsenceOut(
                enfant_id,
                data.accueil_id,
                data.date,
                list(dict.fromkeys(data.unites)),
                "absent_justifie" if justifiee else "absent_non_justifie",
            )

        return une_seule_fois(request, idempotency_key, data, declarer, s.AbsenceOut)


async def _reserver_sur_la_boucle(
    request: Request[Utilisateur, Any, Any],
    cle: str | None,
    demande: dict[str, Any],
    famille_id: UUID,
    enfant_id: UUID,
    accueil_id: UUID,
    demandes: list[DemandeReservation],
) -> bytes | None:
    """The booking's answer, served without leaving the event loop
    (`ServiceReservations.reserver_sur_la_boucle`); None, having booked nothing, when it is to be
    served in a worker thread (`_reservations_une_fois`)."""
    sv = services(request)
    lecteur = sv.lecteur_async
    assert lecteur is not None
    position = 0

    async def commande(ctx: Contexte) -> list[Resultat] | None:
        nonlocal position
        fait = await sv.reservations.reserver_sur_la_boucle(
            ctx, famille_id, enfant_id, accueil_id, demandes, lecteur
        )
        if fait is None:
            return None
        resultats, position = fait
        return resultats

    def encoder(resultats: list[Resultat]) -> bytes:
        return msgspec.json.encode(_resultats(resultats))

    if cle:
        reponse = await sv.idempotence.servir_async(
            request.user.compte_id,
            cle,
            msgspec.json.encode(demande),
            encoder,
            lambda en_cours: commande(replace(contexte(request), idempotence=en_cours)),
            lecteur,
        )
        if reponse is None:
            return None
        corps = reponse.corps
    else:
        resultats = await commande(contexte(request))
        if resultats is None:
            return None
        corps = encoder(resultats)
    if position:
        # The save changed a read model only the runner writes (a waiting-list offer).
        await anyio.to_thread.run_sync(sv.suivi.attendre, position)
    return corps


def _reservations_une_fois(
    request: Request[Utilisateur, Any, Any],
    cle: str | None,
    demande: dict[str, Any],
    commande: Callable[[Contexte], list[Resultat]],
) -> s.ResultatsOut:
    """A booking command's answer; with a key, its row and answer commit with the command's events
    (the command hands its results to its save)."""
    sv = services(request)

    def encoder(resultats: list[Resultat]) -> bytes:
        return msgspec.json.encode(_resultats(resultats))

    if cle:
        reponse = sv.idempotence.servir(
            request.user.compte_id,
            cle,
            msgspec.json.encode(demande),
            encoder,
            lambda en_cours: commande(replace(contexte(request), idempotence=en_cours)),
            lire_d_abord=False,
        )
        corps = reponse.corps
    else:
        corps = encoder(commande(contexte(request)))
    sv.apres_reservation()
    return msgspec.json.decode(corps, type=s.ResultatsOut)


class PointageController(Controller):
    path = "/api/agent"
    security = SECURITE
    tags = ["Pointage"]  # noqa: RUF012
    guards = [exige_role(Role.AGENT, Role.ADMIN)]  # noqa: RUF012

    @get(
        "/pointage",
        sync_to_thread=True,
        summary="Enfants attendus, avec allergies et PAI",
        responses=reponses_probleme(401, 403, 404),
    )
    def liste(
        self,
        request: Request[Any, Any, Any],
        accueil_id: FromQuery[UUID],
        date_: Annotated[date, QueryParameter(name="date")],
    ) -> s.PointageOut:
        return _pointage(request, accueil_id, date_)

    @post(
        "/pointage",
        status_code=200,
        sync_to_thread=True,
        summary="Pointer les présences",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def pointer(self, request: Request[Any, Any, Any], data: JSONBody[s.PointageIn]) -> s.PointageOut:
        sv = services(request)
        sv.reservations.pointer(
            contexte(request),
            data.accueil_id,
            data.date,
            [
                DemandePointage(
                    p.enfant_id, p.unite, STATUTS_POINTAGE[p.statut], heure(p.arrivee), heure(p.depart)
                )
                for p in data.pointages
            ],
        )
        return _pointage(request, data.accueil_id, data.date)

    @get(
        "/occupation",
        sync_to_thread=True,
        summary="Occupation d'un accueil par jour et unité",
        responses=reponses_probleme(401, 403, 404, 422),
    )
    def occupation(
        self,
        request: Request[Any, Any, Any],
        accueil_id: FromQuery[UUID],
        du: FromQuery[date],
        au: FromQuery[date],
    ) -> s.OccupationsOut:
        if au < du or (au - du).days > 366:
            raise ErreurValidation.sur("au", "période d'au plus un an, après « du »")
        sv = services(request)
        accueil = sv.catalogue.accueil(accueil_id)
        return s.OccupationsOut(
            accueil_id=accueil.id,
            occupation=[
                s.OccupationOut(o.jour, o.unite, o.capacite, o.reserves, o.attente)
                for o in sv.lectures.occupation(accueil, du, au)
            ],
        )


def _pointage(request: Request[Any, Any, Any], accueil_id: UUID, jour: date) -> s.PointageOut:
    sv = services(request)
    accueil = sv.catalogue.accueil(accueil_id)
    return s.PointageOut(
        accueil_id=accueil.id,
        date=jour,
        enfants=[
            s.EnfantPointageOut(
                enfant_id=e["enfant_id"],
                nom=e["nom"],
                prenom=e["prenom"],
                allergies=e["allergies"],
                pai=e["pai"],
                unites=[
                    s.UnitePointageOut(
                        u["code"],
                        u["etat"],
                        u["arrivee"].strftime("%H:%M") if u["arrivee"] else None,
                        u["depart"].strftime("%H:%M") if u["depart"] else None,
                    )
                    for u in e["unites"]
                ],
            )
            for e in sv.familles.attendus(sv.lectures.pointage(accueil, jour))
        ],
    )


class OffresController(Controller):
    path = "/api/offres"
    security = SECURITE
    tags = ["Mon planning"]  # noqa: RUF012
    guards = [exige_famille]  # noqa: RUF012

    @get(
        "/",
        sync_to_thread=True,
        summary="Places proposées depuis la liste d'attente",
        responses=reponses_probleme(401, 403),
    )
    def lister(self, request: Request[Utilisateur, Any, Any]) -> list[s.OffreOut]:
        sv = services(request)
        lignes = sv.lectures.offres_ouvertes(famille_de(request.user), sv.portail.horloge())
        return [
            s.OffreOut(o["offre_id"], o["enfant_id"], o["accueil_id"], o["jour"], o["unite"], o["expire_le"])
            for o in lignes
        ]

    def _repondre(
        self, request: Request[Utilisateur, Any, Any], offre_id: UUID, accepter: bool
    ) -> s.ResultatOut:
        resultat = repondre_offre(
            services(request), contexte(request), famille_de(request.user), offre_id, accepter
        )
        return _resultats([resultat]).resultats[0]

    @post(
        "/{offre_id:uuid}/acceptation",
        status_code=200,
        sync_to_thread=True,
        summary="Accepter une place proposée",
        responses=ECRITURE,
    )
    def accepter(self, request: Request[Utilisateur, Any, Any], offre_id: FromPath[UUID]) -> s.ResultatOut:
        return self._repondre(request, offre_id, accepter=True)

    @post(
        "/{offre_id:uuid}/refus",
        status_code=200,
        sync_to_thread=True,
        summary="Refuser une place proposée",
        responses=ECRITURE,
    )
    def refuser(self, request: Request[Utilisateur, Any, Any], offre_id: FromPath[UUID]) -> s.ResultatOut:
        return self._repondre(request, offre_id, accepter=False)
