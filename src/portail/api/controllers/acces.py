"""Access: login, logout, password reset, registration, staff accounts."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import structlog
from litestar import Controller, Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from portail.api import presentation
from portail.api import schemas as s
from portail.api.auth import COOKIES_EFFACES, SECURITE, Session, exige_role, ouvrir_session
from portail.api.etat import adresse_ip, contexte, services
from portail.api.idempotence import CleIdempotence, une_seule_fois
from portail.api.problemes import reponses_probleme
from portail.application.contexte import Contexte
from portail.application.saisies import SaisieAdresse, SaisieResponsable
from portail.bootstrap import Services
from portail.domain.valeurs import Role

log = structlog.get_logger("portail.acces")


class AccesController(Controller):
    path = "/api"
    tags = ["Accès"]  # noqa: RUF012

    @post(
        "/auth/connexion",
        status_code=200,
        sync_to_thread=True,
        summary="Se connecter",
        responses=reponses_probleme(401, 403, 422, 429),
        exclude_from_auth=True,
    )
    def connexion(
        self, request: Request[Any, Any, Any], data: JSONBody[s.ConnexionIn]
    ) -> Response[s.ConnexionOut]:
        sv = services(request)
        compte = sv.comptes.connecter(data.email, data.mot_de_passe, adresse_ip(request))
        emis, cookies = ouvrir_session(
            sv.jetons, sv.settings, compte.id, sv.portail.horloge(), data.se_souvenir_de_moi
        )
        corps = s.ConnexionOut(
            token=emis.jeton, expire_le=emis.expire_le, compte=presentation.compte(compte), csrf=emis.csrf
        )
        return Response(corps, cookies=cookies)

    @post(
        "/auth/deconnexion",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Se déconnecter (le jeton est révoqué)",
        security=SECURITE,
        responses=reponses_probleme(401, 403),
        # Declared here, not on a returned Response: the document then says the 204 has no body.
        response_cookies=COOKIES_EFFACES,
    )
    def deconnexion(self, request: Request[Any, Session, Any]) -> None:
        session: Session = request.auth
        services(request).revocations.revoquer(session.jti, session.expire_le)

    @post(
        "/auth/mot-de-passe-oublie",
        status_code=HTTP_202_ACCEPTED,
        summary="Recevoir un lien de réinitialisation",
        responses=reponses_probleme(422),
        exclude_from_auth=True,
    )
    async def mot_de_passe_oublie(
        self, request: Request[Any, Any, Any], data: JSONBody[s.MotDePasseOublieIn]
    ) -> Response[None]:
        # The work happens after the answer, so its timing says nothing about the account.
        sv = services(request)
        ctx = contexte(request)
        return Response(
            None,
            status_code=HTTP_202_ACCEPTED,
            background=BackgroundTask(demander_reinitialisation, sv, ctx, data.email, adresse_ip(request)),
        )

    @post(
        "/auth/reinitialisation",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Choisir un nouveau mot de passe avec le lien reçu",
        responses=reponses_probleme(422),
        exclude_from_auth=True,
    )
    def reinitialisation(self, request: Request[Any, Any, Any], data: JSONBody[s.ReinitialisationIn]) -> None:
        services(request).comptes.reinitialiser(contexte(request), data.token, data.mot_de_passe)

    @post(
        "/auth/confirmation-email",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Confirmer une nouvelle adresse e-mail avec le lien reçu (toutes les sessions sont fermées)",
        responses=reponses_probleme(409, 422),
        exclude_from_auth=True,
    )
    def confirmation_email(
        self, request: Request[Any, Any, Any], data: JSONBody[s.ConfirmationEmailIn]
    ) -> None:
        services(request).comptes.confirmer_email(contexte(request), data.token)

    @post(
        "/inscription",
        status_code=201,
        sync_to_thread=True,
        summary="Créer un compte famille",
        responses=reponses_probleme(403, 409, 422),
        exclude_from_auth=True,
    )
    def inscription(
        self, request: Request[Any, Any, Any], data: JSONBody[s.InscriptionIn]
    ) -> s.InscriptionOut:
        r = data.responsable
        a = r.adresse
        compte_id, famille_id = services(request).comptes.inscrire(
            contexte(request),
            data.email,
            data.mot_de_passe,
            SaisieResponsable(civilite=r.civilite, nom=r.nom, prenom=r.prenom, telephone=r.telephone),
            SaisieAdresse(a.ligne1, a.code_postal, a.commune, a.ligne2),
        )
        return s.InscriptionOut(compte_id=compte_id, famille_id=famille_id)

    @post(
        "/admin/comptes",
        status_code=201,
        sync_to_thread=True,
        summary="Créer un compte du personnel",
        security=SECURITE,
        guards=[exige_role(Role.ADMIN)],
        responses=reponses_probleme(401, 403, 409, 422),
    )
    def creer_compte(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[s.CompteCreationIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.IdOut:
        def faire(ctx: Contexte) -> s.IdOut:
            compte_id = services(request).comptes.creer_compte_personnel(
                ctx, data.email, data.mot_de_passe, list(data.roles)
            )
            return s.IdOut(id=compte_id)

        # The password stays out of the stored fingerprint.
        demande = {"email": data.email, "roles": list(data.roles)}
        return une_seule_fois(request, idempotency_key, demande, faire, s.IdOut)


async def demander_reinitialisation(sv: Services, ctx: Contexte, email: str, ip: str) -> None:
    try:
        envoye = await anyio.to_thread.run_sync(sv.comptes.demander_reinitialisation, ctx, email, ip)
        if not envoye:
            log.warning("reinitialisation_limitee")
    except Exception as erreur:
        # The type only: mail errors quote the recipient's address.
        log.error("reinitialisation_echec", type_erreur=type(erreur).__name__)
