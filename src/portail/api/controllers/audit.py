"""Auditors' routes (read-only)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal
from uuid import UUID

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from portail.api import schemas as s
from portail.api.auth import SECURITE, exige_role
from portail.api.etat import services
from portail.api.problemes import reponses_probleme
from portail.application.audit import Filtres
from portail.domain.regles.calendrier import PARIS
from portail.domain.valeurs import Role

TYPE_EVENEMENT = r"^[A-Za-z][A-Za-z0-9_.]*$"
"""An event type as the log names it (`Campagne.Preparee`, `Famille`): letters, digits, dots."""


class AuditController(Controller):
    path = "/api/audit"
    security = SECURITE
    tags = ["Audit"]  # noqa: RUF012
    guards = [exige_role(Role.AUDITEUR, Role.ADMIN)]  # noqa: RUF012

    @get(
        "/verification",
        sync_to_thread=True,
        summary="Vérifier la chaîne d'empreintes du journal",
        responses=reponses_probleme(401, 403),
    )
    def verification(self, request: Request[Any, Any, Any]) -> s.VerificationOut:
        resultat = services(request).portail.verifier_chaine()
        anomalie = resultat.premiere_anomalie
        return s.VerificationOut(
            ok=resultat.ok,
            evenements_verifies=resultat.evenements_verifies,
            premiere_anomalie=s.AnomalieChaineOut(anomalie.position, anomalie.nature, anomalie.description)  # type: ignore[arg-type]
            if anomalie
            else None,
            derniere_empreinte=resultat.derniere_empreinte,
        )

    @get(
        "/evenements",
        sync_to_thread=True,
        summary="Le journal filtré (famille, enfant, acteur, type, dates), par pages",
        responses=reponses_probleme(401, 403),
    )
    def evenements(
        self,
        request: Request[Any, Any, Any],
        famille_id: Annotated[UUID | None, QueryParameter()] = None,
        enfant_id: Annotated[UUID | None, QueryParameter()] = None,
        acteur: Annotated[UUID | None, QueryParameter()] = None,
        type_: Annotated[
            str | None, QueryParameter(name="type", max_length=100, pattern=TYPE_EVENEMENT)
        ] = None,
        du: Annotated[date | None, QueryParameter()] = None,
        au: Annotated[date | None, QueryParameter()] = None,
        apres: Annotated[int, QueryParameter(ge=0)] = 0,
        limite: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> Response[dict[str, Any]]:
        filtres = _filtres(famille_id, enfant_id, acteur, type_, du, au)
        # The index is written with each event: the log is read as it stands, with no wait.
        evenements, suivant = services(request).audit.evenements(filtres, apres, limite)
        return Response({"evenements": evenements, "suivant": suivant})

    @get(
        "/agregats/{agregat_id:uuid}/historique",
        sync_to_thread=True,
        summary="L'historique champ par champ d'un agrégat : qui, quand, pourquoi",
        responses=reponses_probleme(401, 403, 404),
    )
    def historique(
        self, request: Request[Any, Any, Any], agregat_id: FromPath[UUID]
    ) -> Response[dict[str, Any]]:
        return Response(services(request).audit.historique(agregat_id))

    @get(
        "/export",
        summary="Export du journal filtré (JSON lines ou CSV), en flux",
        responses=reponses_probleme(401, 403),
    )
    async def export(
        self,
        request: Request[Any, Any, Any],
        format_: Annotated[Literal["jsonl", "csv"], QueryParameter(name="format")] = "jsonl",
        famille_id: Annotated[UUID | None, QueryParameter()] = None,
        enfant_id: Annotated[UUID | None, QueryParameter()] = None,
        acteur: Annotated[UUID | None, QueryParameter()] = None,
        type_: Annotated[
            str | None, QueryParameter(name="type", max_length=100, pattern=TYPE_EVENEMENT)
        ] = None,
        du: Annotated[date | None, QueryParameter()] = None,
        au: Annotated[date | None, QueryParameter()] = None,
    ) -> Stream:
        filtres = _filtres(famille_id, enfant_id, acteur, type_, du, au)
        sv = services(request)
        media = "application/x-ndjson" if format_ == "jsonl" else "text/csv"
        return Stream(
            iterate_in_threadpool(sv.audit.exporter(filtres, format_)),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="journal.{format_}"'},
        )


async def iterate_in_threadpool(lignes: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The export reads the database: each page is fetched off the event loop."""
    fin = object()
    while True:
        morceau = await anyio.to_thread.run_sync(next, lignes, fin)
        if morceau is fin:
            return
        yield morceau  # type: ignore[misc]


def _filtres(
    famille_id: UUID | None,
    enfant_id: UUID | None,
    acteur: UUID | None,
    type_: str | None,
    du: date | None,
    au: date | None,
) -> Filtres:
    """Dates are whole days in Paris."""
    debut = datetime.combine(du, time(0), tzinfo=PARIS).astimezone(UTC) if du else None
    fin = datetime.combine(au, time(23, 59, 59, 999999), tzinfo=PARIS).astimezone(UTC) if au else None
    return Filtres(famille_id, enfant_id, acteur, type_, debut, fin)
