"""Mes documents (deposit, status, reason of a refusal) and Actualités."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from portail.api.etat import contexte, services
from portail.application.documents import TAILLE_MAX
from portail.web.pages import Erreurs, Formulaire, essayer, exige_parent, famille_de_la_page, rediriger, rendu

TYPES = (
    ("justificatif_absence", "Justificatif d'absence"),
    ("certificat_medical", "Certificat médical"),
    ("attestation_qf", "Attestation de quotient familial"),
    ("pai", "Projet d'accueil individualisé (PAI)"),
    ("vaccinations", "Carnet de vaccinations"),
    ("autre", "Autre document"),
)
STATUTS = {"depose": "En cours de vérification", "valide": "Accepté", "refuse": "Refusé"}


def _page(
    request: Request[Any, Any, Any], *, statut: int = 200, erreurs: Erreurs | None = None, saisie: Any = None
) -> Response[Any]:
    sv = services(request)
    famille_id = famille_de_la_page(request)
    foyer = sv.familles.foyer(famille_id)
    prenoms = {e.id: e.identite.prenom for e in foyer.enfants if e.identite is not None}
    documents = []
    for ligne in sv.lectures.documents(famille_id):
        document = sv.documents.document(ligne["document_id"], famille_id)
        documents.append(
            {
                "nom": document.nom_fichier or "document",
                "type": dict(TYPES).get(ligne["type"], ligne["type"]),
                "enfant": prenoms.get(ligne["enfant_id"], ""),
                "depose_le": ligne["depose_le"],
                "statut": ligne["statut"],
                "statut_libelle": STATUTS.get(ligne["statut"], ligne["statut"]),
                "motif": document.motif_refus,
            }
        )
    return rendu(
        request,
        "documents/documents.html",
        statut=statut,
        erreurs=erreurs or Erreurs(),
        saisie=saisie or {},
        documents=documents,
        types=TYPES,
        enfants=[("", "Toute la famille"), *((str(i), p) for i, p in prenoms.items())],
        taille_max_mo=TAILLE_MAX // (1024 * 1024),
    )


class DocumentsPages(Controller):
    include_in_schema = False
    guards = [exige_parent]  # noqa: RUF012

    @get("/documents", sync_to_thread=True)
    def voir(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return _page(request)

    @post("/documents", sync_to_thread=True, request_max_body_size=TAILLE_MAX + 64 * 1024)
    def deposer(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        f = Formulaire({k: v for k, v in data.items() if not isinstance(v, UploadFile)})
        fichier = data.get("fichier")
        if not isinstance(fichier, UploadFile) or not fichier.filename:
            f.erreurs.ajouter("fichier", "choisissez un fichier")
        enfant_id: UUID | None = None
        if f.texte("enfant_id"):
            try:
                enfant_id = UUID(f.texte("enfant_id"))
            except ValueError:
                f.erreurs.ajouter("enfant_id", "enfant inconnu")
        sv = services(request)
        _, erreurs = essayer(
            lambda: sv.documents.deposer(
                contexte(request),
                famille_de_la_page(request),
                enfant_id,
                f.texte("type"),
                fichier.filename,  # type: ignore[union-attr]  # checked above
                fichier.file.read(TAILLE_MAX + 1),  # type: ignore[union-attr]
            ),
            f,
        )
        if erreurs:
            return _page(request, statut=422, erreurs=erreurs, saisie=f.saisie())
        sv.apres_ecriture()
        return rediriger("/documents", "document-depose")

    @get("/actualites", sync_to_thread=True)
    def actualites(self, request: Request[Any, Any, Any]) -> Response[Any]:
        sv = services(request)
        return rendu(
            request,
            "documents/actualites.html",
            actualites=sv.lectures.actualites(famille_de_la_page(request)),
        )
