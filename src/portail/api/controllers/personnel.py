"""Staff routes of this stage: the régie's quotient familial, the administrator's erasure."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from portail.api import presentation
from portail.api import schemas as s
from portail.api.auth import SECURITE, exige_role
from portail.api.etat import contexte, services
from portail.api.problemes import reponses_probleme
from portail.application.effacement import effacer_famille
from portail.domain.valeurs import Role


class RegieController(Controller):
    path = "/api/regie"
    security = SECURITE
    tags = ["Régie"]  # noqa: RUF012
    guards = [exige_role(Role.REGISSEUR, Role.ADMIN)]  # noqa: RUF012

    @put(
        "/familles/{famille_id:uuid}/quotient-familial",
        sync_to_thread=True,
        summary="Enregistrer le quotient familial d'une famille (daté d'effet)",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def quotient_familial(
        self, request: Request[Any, Any, Any], famille_id: FromPath[UUID], data: JSONBody[s.QuotientIn]
    ) -> s.QuotientOut:
        quotient = services(request).familles.enregistrer_quotient(
            contexte(request), famille_id, data.valeur, data.valable_du, data.source
        )
        sortie = presentation.quotient(quotient)
        assert sortie is not None
        return sortie


class AdminController(Controller):
    path = "/api/admin"
    security = SECURITE
    tags = ["Administration"]  # noqa: RUF012
    guards = [exige_role(Role.ADMIN)]  # noqa: RUF012

    @delete(
        "/familles/{famille_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Effacer une famille (droit à l'effacement ; les données comptables restent)",
        responses=reponses_probleme(401, 403, 404, 409),
    )
    def effacer(self, request: Request[Any, Any, Any], famille_id: FromPath[UUID]) -> None:
        sv = services(request)
        ctx = contexte(request)

        def liberer(enfant_id: UUID) -> None:
            for accueil_id in sv.lectures.accueils_de_l_enfant(enfant_id):
                sv.reservations.liberer_avenir(ctx, famille_id, enfant_id, accueil_id)

        effacer_famille(ctx, sv.familles, sv.comptes, famille_id, liberer)
        # The read models drop the family's personal rows before the erasure is confirmed.
        sv.apres_ecriture()
