"""Documents (families upload, staff check) and news."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter

from portail.api import schemas as s
from portail.api.auth import SECURITE, Utilisateur, exige_famille, exige_role, famille_de
from portail.api.etat import contexte, services
from portail.api.idempotence import CleIdempotence, une_seule_fois
from portail.api.problemes import reponses_probleme
from portail.application.contexte import Contexte
from portail.application.documents import TAILLE_MAX
from portail.domain.document import Document
from portail.domain.valeurs import Role


@dataclass
class DepotDocument:
    fichier: UploadFile
    type: Literal[
        "justificatif_absence", "certificat_medical", "attestation_qf", "pai", "vaccinations", "autre"
    ]
    enfant_id: UUID | None = None


class DocumentOut(msgspec.Struct):
    id: UUID
    type: str
    enfant_id: UUID | None
    media_type: str
    taille: int
    statut: Literal["depose", "valide", "refuse"]


class RefusIn(s.Entree):
    motif: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class ActualiteIn(s.Entree):
    titre: Annotated[str, msgspec.Meta(max_length=200)]
    contenu: Annotated[str, msgspec.Meta(max_length=10_000)]
    accueils: Annotated[list[UUID], msgspec.Meta(max_length=50)] = []  # noqa: RUF012


class ActualiteOut(s.Horodatee):
    id: UUID
    titre: str
    contenu: str
    accueils: list[UUID]
    publiee_le: datetime


def _out(d: Document) -> DocumentOut:
    return DocumentOut(d.id, d.type.value, d.enfant_id, d.media_type, d.taille, d.statut.value)


def _ligne_out(ligne: dict[str, Any]) -> DocumentOut:
    return DocumentOut(
        ligne["document_id"],
        ligne["type"],
        ligne["enfant_id"],
        ligne["media_type"],
        ligne["taille"],
        ligne["statut"],
    )


class DocumentsController(Controller):
    path = "/api/documents"
    tags = ["Mes documents"]  # noqa: RUF012
    guards = [exige_famille]  # noqa: RUF012
    security = SECURITE

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        summary="Déposer un document (PDF, JPEG ou PNG, 10 Mo au plus)",
        request_max_body_size=TAILLE_MAX + 64 * 1024,
        responses=reponses_probleme(401, 403, 404, 409, 413, 422),
    )
    def deposer(
        self,
        request: Request[Utilisateur, Any, Any],
        data: Annotated[DepotDocument, Body(media_type=RequestEncodingType.MULTI_PART)],
        idempotency_key: CleIdempotence = None,
    ) -> DocumentOut:
        sv = services(request)
        contenu = data.fichier.file.read(TAILLE_MAX + 1)

        def faire(ctx: Contexte) -> DocumentOut:
            document = sv.documents.deposer(
                ctx, famille_de(request.user), data.enfant_id, data.type, data.fichier.filename, contenu
            )
            sv.apres_ecriture()
            return _out(document)

        demande = {
            "type": data.type,
            "enfant_id": data.enfant_id,
            "nom": data.fichier.filename,
            "contenu": hashlib.sha256(contenu).hexdigest(),
        }
        return une_seule_fois(request, idempotency_key, demande, faire, DocumentOut)

    @get("/", sync_to_thread=True, summary="Mes documents", responses=reponses_probleme(401, 403))
    def lister(self, request: Request[Utilisateur, Any, Any]) -> list[DocumentOut]:
        return [_ligne_out(ligne) for ligne in services(request).lectures.documents(famille_de(request.user))]

    @get(
        "/{document_id:uuid}/contenu",
        sync_to_thread=True,
        summary="Le fichier déposé",
        media_type="application/octet-stream",
        responses=reponses_probleme(401, 403, 404),
    )
    def contenu(
        self, request: Request[Utilisateur, Any, Any], document_id: FromPath[UUID]
    ) -> Response[bytes]:
        documents = services(request).documents
        document = documents.document(document_id, famille_de(request.user))
        return Response(documents.contenu(document), media_type=document.media_type)


class DocumentsAgentController(Controller):
    path = "/api/agent/documents"
    tags = ["Documents"]  # noqa: RUF012
    guards = [exige_role(Role.AGENT, Role.REGISSEUR, Role.ADMIN)]  # noqa: RUF012
    security = SECURITE

    @get("/", sync_to_thread=True, summary="Documents à vérifier", responses=reponses_probleme(401, 403))
    def lister(
        self,
        request: Request[Any, Any, Any],
        statut: Annotated[Literal["depose", "valide", "refuse"] | None, QueryParameter()] = None,
    ) -> list[DocumentOut]:
        return [_ligne_out(ligne) for ligne in services(request).lectures.documents(statut=statut)]

    @get(
        "/{document_id:uuid}/contenu",
        sync_to_thread=True,
        summary="Le fichier déposé",
        media_type="application/octet-stream",
        responses=reponses_probleme(401, 403, 404),
    )
    def contenu(self, request: Request[Any, Any, Any], document_id: FromPath[UUID]) -> Response[bytes]:
        documents = services(request).documents
        document = documents.document(document_id)
        return Response(documents.contenu(document), media_type=document.media_type)

    @post(
        "/{document_id:uuid}/validation",
        status_code=200,
        sync_to_thread=True,
        summary="Valider un document",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def valider(self, request: Request[Any, Any, Any], document_id: FromPath[UUID]) -> DocumentOut:
        sv = services(request)
        document = sv.documents.valider(contexte(request), document_id)
        sv.apres_ecriture()
        return _out(document)

    @post(
        "/{document_id:uuid}/refus",
        status_code=200,
        sync_to_thread=True,
        summary="Refuser un document",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def refuser(
        self, request: Request[Any, Any, Any], document_id: FromPath[UUID], data: JSONBody[RefusIn]
    ) -> DocumentOut:
        sv = services(request)
        document = sv.documents.refuser(contexte(request), document_id, data.motif)
        sv.apres_ecriture()
        return _out(document)


class ActualitesController(Controller):
    path = "/api"
    tags = ["Actualités"]  # noqa: RUF012
    security = SECURITE

    @post(
        "/admin/actualites",
        status_code=201,
        sync_to_thread=True,
        summary="Publier une actualité (pour tous ou pour les familles de certains accueils)",
        guards=[exige_role(Role.ADMIN)],
        responses=reponses_probleme(401, 403, 409, 422),
    )
    def publier(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ActualiteIn],
        idempotency_key: CleIdempotence = None,
    ) -> ActualiteOut:
        sv = services(request)

        def faire(ctx: Contexte) -> ActualiteOut:
            actualite = sv.documents.publier(ctx, data.titre, data.contenu, list(data.accueils))
            sv.apres_ecriture()
            return ActualiteOut(
                actualite.id,
                actualite.titre,
                actualite.contenu,
                list(actualite.accueils),
                actualite.publiee_le,
            )

        return une_seule_fois(request, idempotency_key, data, faire, ActualiteOut)

    @get(
        "/actualites",
        sync_to_thread=True,
        summary="Les actualités de ma famille",
        guards=[exige_famille],
        responses=reponses_probleme(401, 403),
    )
    def lister(self, request: Request[Utilisateur, Any, Any]) -> list[ActualiteOut]:
        return [
            ActualiteOut(a["actualite_id"], a["titre"], a["contenu"], list(a["accueils"]), a["publiee_le"])
            for a in services(request).lectures.actualites(famille_de(request.user))
        ]
