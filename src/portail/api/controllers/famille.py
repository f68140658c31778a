"""Parents' own file: Mon profil, Mon foyer, Mes enfants, quotient familial, prélèvement."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from portail.api import presentation
from portail.api import schemas as s
from portail.api.auth import SECURITE, Utilisateur, exige_famille, famille_de
from portail.api.etat import adresse_ip, contexte, services
from portail.api.idempotence import CleIdempotence, une_seule_fois
from portail.api.problemes import reponses_probleme
from portail.application.contexte import Contexte
from portail.application.saisies import (
    SaisieAdresse,
    SaisieMedecin,
    SaisiePersonne,
    SaisieResponsable,
    SaisieSante,
)
from portail.domain.personnes import Autorisations

LECTURE = reponses_probleme(401, 403, 404)
ECRITURE = reponses_probleme(401, 403, 404, 409, 422)


def _adresse(a: s.AdresseIn | None) -> SaisieAdresse | None:
    return SaisieAdresse(a.ligne1, a.code_postal, a.commune, a.ligne2) if a else None


def _presents(corps: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body carries (null or left out both mean: unchanged)."""
    return {k: v for k, v in msgspec.structs.asdict(corps).items() if v is not None}


def _moi(request: Request[Utilisateur, Any, Any]) -> s.MoiOut:
    sv = services(request)
    compte = sv.comptes.compte(request.user.compte_id)
    responsable = None
    if compte.famille_id is not None:
        famille = sv.familles.famille(compte.famille_id)
        responsable = presentation.responsable(famille.responsable, compte.email)
        if responsable is not None and famille.adresse is not None:
            responsable.adresse = presentation.adresse(famille.adresse)
    return s.MoiOut(compte=presentation.compte(compte), responsable=responsable, famille_id=compte.famille_id)


def _foyer(request: Request[Utilisateur, Any, Any]) -> s.FoyerOut:
    sv = services(request)
    foyer = sv.familles.foyer(famille_de(request.user))
    return presentation.foyer(foyer.famille, foyer.enfants, sv.familles.aujourd_hui(), request.user.email)


class ProfilController(Controller):
    path = "/api/moi"
    security = SECURITE
    tags = ["Mon profil"]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="Mon profil", responses=reponses_probleme(401))
    def lire(self, request: Request[Utilisateur, Any, Any]) -> s.MoiOut:
        return _moi(request)

    @patch(
        "/", sync_to_thread=True, guards=[exige_famille], summary="Modifier mon profil", responses=ECRITURE
    )
    def modifier(self, request: Request[Utilisateur, Any, Any], data: JSONBody[s.MoiPatch]) -> s.MoiOut:
        champs = _presents(data)
        if "adresse" in champs:
            champs["adresse"] = _adresse(data.adresse)
        services(request).familles.modifier_profil(contexte(request), famille_de(request.user), champs)
        return _moi(request)

    @put(
        "/email",
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
        summary="Changer d'adresse e-mail (effectif quand le lien envoyé à la nouvelle adresse est ouvert)",
        responses=reponses_probleme(401, 403, 404, 409, 422, 429),
    )
    def changer_email(
        self, request: Request[Utilisateur, Any, Any], data: JSONBody[s.EmailIn]
    ) -> Response[s.ChangementEmailOut]:
        en_attente, expire_le = services(request).comptes.changer_email(
            contexte(request), request.user.compte_id, data.email, data.mot_de_passe, adresse_ip(request)
        )
        corps = s.ChangementEmailOut(email_en_attente=en_attente, expire_le=expire_le)
        return Response(corps, status_code=HTTP_202_ACCEPTED)

    @put(
        "/mot-de-passe",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Changer de mot de passe (toutes les sessions sont fermées ; se reconnecter)",
        responses=reponses_probleme(401, 403, 404, 409, 422, 429),
    )
    def changer_mot_de_passe(
        self, request: Request[Utilisateur, Any, Any], data: JSONBody[s.MotDePasseIn]
    ) -> None:
        services(request).comptes.changer_mot_de_passe(
            contexte(request), request.user.compte_id, data.ancien, data.nouveau, adresse_ip(request)
        )


class FoyerController(Controller):
    path = "/api/foyer"
    security = SECURITE
    tags = ["Mon foyer"]  # noqa: RUF012
    guards = [exige_famille]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="Mon foyer", responses=LECTURE)
    def lire(self, request: Request[Utilisateur, Any, Any]) -> s.FoyerOut:
        return _foyer(request)

    @patch("/", sync_to_thread=True, summary="Modifier mon foyer", responses=ECRITURE)
    def modifier(self, request: Request[Utilisateur, Any, Any], data: JSONBody[s.FoyerPatch]) -> s.FoyerOut:
        champs = _presents(data)
        if "adresse" in champs:
            champs["adresse"] = _adresse(data.adresse)
        services(request).familles.modifier_foyer(contexte(request), famille_de(request.user), champs)
        return _foyer(request)

    @put("/autre-responsable", sync_to_thread=True, summary="Définir l'autre responsable", responses=ECRITURE)
    def autre_responsable(
        self, request: Request[Utilisateur, Any, Any], data: JSONBody[s.AutreResponsableIn]
    ) -> s.FoyerOut:
        saisie = SaisieResponsable(
            civilite=data.civilite,
            nom=data.nom,
            prenom=data.prenom,
            telephone=data.telephone,
            email=data.email,
            adresse=_adresse(data.adresse),
            date_naissance=data.date_naissance,
            profession=data.profession,
            employeur=data.employeur,
            telephone_professionnel=data.telephone_professionnel,
            lien=data.lien,
        )
        services(request).familles.definir_autre_responsable(
            contexte(request), famille_de(request.user), saisie
        )
        return _foyer(request)

    @delete(
        "/autre-responsable",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Retirer l'autre responsable",
        responses=ECRITURE,
    )
    def retirer_autre_responsable(self, request: Request[Utilisateur, Any, Any]) -> None:
        services(request).familles.retirer_autre_responsable(contexte(request), famille_de(request.user))


class EnfantsController(Controller):
    path = "/api/enfants"
    security = SECURITE
    tags = ["Mes enfants"]  # noqa: RUF012
    guards = [exige_famille]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="Mes enfants", responses=LECTURE)
    def lister(self, request: Request[Utilisateur, Any, Any]) -> list[s.EnfantOut]:
        sv = services(request)
        jour = sv.familles.aujourd_hui()
        return [presentation.enfant(e, jour) for e in sv.familles.foyer(famille_de(request.user)).enfants]

    @post("/", status_code=201, sync_to_thread=True, summary="Ajouter un enfant", responses=ECRITURE)
    def ajouter(
        self,
        request: Request[Utilisateur, Any, Any],
        data: JSONBody[s.EnfantIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.EnfantOut:
        sv = services(request)
        famille_id = famille_de(request.user)

        def faire(ctx: Contexte) -> s.EnfantOut:
            enfant_id = sv.familles.ajouter_enfant(
                ctx,
                famille_id,
                data.nom,
                data.prenom,
                data.date_naissance,
                data.lieu_naissance,
                data.ecole,
                data.niveau,
                data.classe,
            )
            return presentation.enfant(sv.familles.enfant(famille_id, enfant_id), sv.familles.aujourd_hui())

        return une_seule_fois(request, idempotency_key, data, faire, s.EnfantOut)

    def _lire(self, request: Request[Utilisateur, Any, Any], enfant_id: UUID) -> s.EnfantOut:
        sv = services(request)
        sv.apres_ecriture()
        return presentation.enfant(
            sv.familles.enfant(famille_de(request.user), enfant_id), sv.familles.aujourd_hui()
        )

    @get("/{enfant_id:uuid}", sync_to_thread=True, summary="Un enfant", responses=LECTURE)
    def lire(self, request: Request[Utilisateur, Any, Any], enfant_id: FromPath[UUID]) -> s.EnfantOut:
        return self._lire(request, enfant_id)

    @patch("/{enfant_id:uuid}", sync_to_thread=True, summary="Modifier un enfant", responses=ECRITURE)
    def modifier(
        self,
        request: Request[Utilisateur, Any, Any],
        enfant_id: FromPath[UUID],
        data: JSONBody[s.EnfantPatch],
    ) -> s.EnfantOut:
        services(request).familles.modifier_enfant(
            contexte(request), famille_de(request.user), enfant_id, _presents(data)
        )
        return self._lire(request, enfant_id)

    @put(
        "/{enfant_id:uuid}/sante", sync_to_thread=True, summary="Renseignements médicaux", responses=ECRITURE
    )
    def sante(
        self, request: Request[Utilisateur, Any, Any], enfant_id: FromPath[UUID], data: JSONBody[s.SanteIn]
    ) -> s.EnfantOut:
        saisie = SaisieSante(
            allergies=list(data.allergies),
            regime_alimentaire=data.regime_alimentaire,
            pai=data.pai,
            pai_detail=data.pai_detail,
            medecin=SaisieMedecin(data.medecin.nom, data.medecin.telephone) if data.medecin else None,
            vaccinations_a_jour=data.vaccinations_a_jour,
            remarques=data.remarques,
        )
        services(request).familles.modifier_sante(
            contexte(request), famille_de(request.user), enfant_id, saisie
        )
        return self._lire(request, enfant_id)

    @put(
        "/{enfant_id:uuid}/personnes-autorisees",
        sync_to_thread=True,
        summary="Personnes autorisées à récupérer l'enfant",
        responses=ECRITURE,
    )
    def personnes_autorisees(
        self,
        request: Request[Utilisateur, Any, Any],
        enfant_id: FromPath[UUID],
        data: JSONBody[s.PersonnesAutoriseesIn],
    ) -> s.EnfantOut:
        saisies = [SaisiePersonne(p.nom, p.prenom, p.telephone, p.lien) for p in data.personnes]
        services(request).familles.modifier_personnes_autorisees(
            contexte(request), famille_de(request.user), enfant_id, saisies
        )
        return self._lire(request, enfant_id)

    @put("/{enfant_id:uuid}/autorisations", sync_to_thread=True, summary="Autorisations", responses=ECRITURE)
    def autorisations(
        self,
        request: Request[Utilisateur, Any, Any],
        enfant_id: FromPath[UUID],
        data: JSONBody[s.AutorisationsIn],
    ) -> s.EnfantOut:
        services(request).familles.modifier_autorisations(
            contexte(request),
            famille_de(request.user),
            enfant_id,
            Autorisations(data.droit_image, data.sortie_seul, data.transport, data.soins_urgence),
        )
        return self._lire(request, enfant_id)


class QuotientPrelevementController(Controller):
    path = "/api"
    security = SECURITE
    tags = ["Quotient familial et prélèvement"]  # noqa: RUF012
    guards = [exige_famille]  # noqa: RUF012

    @get("/quotient-familial", sync_to_thread=True, summary="Mon quotient familial", responses=LECTURE)
    def quotient_familial(self, request: Request[Utilisateur, Any, Any]) -> s.QuotientFamilialOut:
        sv = services(request)
        famille = sv.familles.famille(famille_de(request.user))
        historique = [q for q in (presentation.quotient(x) for x in famille.quotients) if q]
        return s.QuotientFamilialOut(
            actuel=presentation.quotient(famille.quotient_au(sv.familles.aujourd_hui())),
            historique=historique,
        )

    @get("/prelevement", sync_to_thread=True, summary="Mon mandat de prélèvement", responses=LECTURE)
    def lire_prelevement(self, request: Request[Utilisateur, Any, Any]) -> s.MandatOut:
        famille = services(request).familles.famille(famille_de(request.user))
        mandat = presentation.mandat(famille.mandat)
        if mandat is None:
            raise NotFoundException("Aucun mandat de prélèvement actif.")
        return mandat

    @put(
        "/prelevement",
        sync_to_thread=True,
        summary="Signer un mandat de prélèvement SEPA",
        responses=ECRITURE,
    )
    def signer(self, request: Request[Utilisateur, Any, Any], data: JSONBody[s.PrelevementIn]) -> s.MandatOut:
        mandat = services(request).familles.signer_mandat(
            contexte(request), famille_de(request.user), data.titulaire, data.iban, data.bic
        )
        sortie = presentation.mandat(mandat)
        assert sortie is not None
        return sortie

    @delete(
        "/prelevement",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Révoquer mon mandat de prélèvement",
        responses=ECRITURE,
    )
    def revoquer(self, request: Request[Utilisateur, Any, Any]) -> None:
        services(request).familles.revoquer_mandat(contexte(request), famille_de(request.user))
