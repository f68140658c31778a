"""Entrance pages: connexion, déconnexion, mot de passe oublié, réinitialisation, inscription."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.response import Redirect, Template

from portail.api.auth import COOKIES_EFFACES, Session, ouvrir_session
from portail.api.controllers.acces import demander_reinitialisation
from portail.api.etat import adresse_ip, contexte, services
from portail.application.comptes import TropDeTentatives
from portail.application.saisies import SaisieAdresse, SaisieResponsable
from portail.web.pages import (
    Erreurs,
    Formulaire,
    FormulairePoste,
    essayer,
    rediriger,
    rendu,
    suite_sure,
    utilisateur_de,
)


def page_connexion(
    request: Request[Any, Any, Any], *, statut: int = 200, erreurs: Erreurs | None = None, **contexte: Any
) -> Template:
    suite = suite_sure(request.query_params.get("suite"))
    return rendu(
        request, "entree/connexion.html", statut=statut, erreurs=erreurs or Erreurs(), suite=suite, **contexte
    )


class EntreePages(Controller):
    include_in_schema = False

    @get("/connexion")
    async def connexion(self, request: Request[Any, Any, Any]) -> Response[Any]:
        if utilisateur_de(request) is not None:
            return Redirect(path="/", status_code=303)
        return page_connexion(request)

    @post("/connexion", sync_to_thread=True)
    def se_connecter(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        sv = services(request)
        f = Formulaire(data)
        email, mot_de_passe = f.texte("email"), f.brut("mot_de_passe")
        if not email:
            f.erreurs.ajouter("email", "saisissez votre adresse e-mail")
        if not mot_de_passe:
            f.erreurs.ajouter("mot_de_passe", "saisissez votre mot de passe")
        try:
            compte, erreurs = essayer(
                lambda: sv.comptes.connecter(email, mot_de_passe, adresse_ip(request)), f
            )
        except TropDeTentatives as erreur:
            return page_connexion(
                request,
                statut=429,
                erreurs=Erreurs.depuis(erreur),
                entetes={"Retry-After": str(erreur.reessayer_dans)},
                saisie={"email": email},
            )
        if compte is None:
            statut = 422 if f.erreurs.de("email") or f.erreurs.de("mot_de_passe") else 401
            return page_connexion(request, statut=statut, erreurs=erreurs, saisie={"email": email})
        _, cookies = ouvrir_session(
            sv.jetons, sv.settings, compte.id, sv.portail.horloge(), f.case("se_souvenir_de_moi")
        )
        return Redirect(path=suite_sure(request.query_params.get("suite")), status_code=303, cookies=cookies)

    @post("/deconnexion", sync_to_thread=True)
    def deconnexion(self, request: Request[Any, Any, Any]) -> Response[Any]:
        session = request.scope.get("auth")
        if isinstance(session, Session):
            services(request).revocations.revoquer(session.jti, session.expire_le)
        return Redirect(path="/connexion?message=deconnecte", status_code=303, cookies=COOKIES_EFFACES)

    @get("/mot-de-passe-oublie")
    async def mot_de_passe_oublie(self, request: Request[Any, Any, Any]) -> Template:
        return rendu(request, "entree/mot_de_passe_oublie.html")

    @post("/mot-de-passe-oublie")
    async def demander_lien(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        f = Formulaire(data)
        email = f.texte("email")
        if not email:
            f.erreurs.ajouter("email", "saisissez l'adresse e-mail de votre compte")
            return rendu(request, "entree/mot_de_passe_oublie.html", statut=422, erreurs=f.erreurs)
        # As the API: the same answer whatever the address, the work after it.
        reponse = rediriger("/connexion", "lien-envoye")
        reponse.background = BackgroundTask(
            demander_reinitialisation, services(request), contexte(request), email, adresse_ip(request)
        )
        return reponse

    @get("/reinitialisation")
    async def reinitialisation(self, request: Request[Any, Any, Any]) -> Template:
        token = request.query_params.get("token") or ""
        return rendu(request, "entree/reinitialisation.html", token=token, lien_invalide=False)

    @post("/reinitialisation", sync_to_thread=True)
    def reinitialiser(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        f = Formulaire(data)
        token, mot_de_passe = f.texte("token"), f.brut("mot_de_passe")
        if mot_de_passe != f.brut("confirmation"):
            f.erreurs.ajouter("confirmation", "les deux mots de passe ne sont pas identiques")
        _, erreurs = essayer(
            lambda: services(request).comptes.reinitialiser(contexte(request), token, mot_de_passe), f
        )
        if erreurs:
            return rendu(
                request,
                "entree/reinitialisation.html",
                statut=422,
                erreurs=erreurs,
                token=token,
                # A refused link (no field) cannot be retried: offer a new one.
                lien_invalide=any(not e.champ for e in erreurs.liste),
            )
        return rediriger("/connexion", "mot-de-passe-change")

    @get("/confirmation-email")
    async def confirmation_email(self, request: Request[Any, Any, Any]) -> Template:
        """The page the e-mail change's link opens: a button confirms (a link opened by a mail
        scanner changes nothing)."""
        token = request.query_params.get("token") or ""
        return rendu(request, "entree/confirmation_email.html", token=token)

    @post("/confirmation-email", sync_to_thread=True)
    def confirmer_email(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        f = Formulaire(data)
        token = f.texte("token")
        _, erreurs = essayer(lambda: services(request).comptes.confirmer_email(contexte(request), token), f)
        if erreurs:
            return rendu(request, "entree/confirmation_email.html", statut=422, erreurs=erreurs, token=token)
        # Every session of the account ended with the change.
        return Redirect(path="/connexion?message=email-confirme", status_code=303, cookies=COOKIES_EFFACES)

    @get("/inscription")
    async def inscription(self, request: Request[Any, Any, Any]) -> Response[Any]:
        if utilisateur_de(request) is not None:
            return Redirect(path="/", status_code=303)
        return rendu(request, "entree/inscription.html")

    @post("/inscription", sync_to_thread=True)
    def inscrire(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        sv = services(request)
        f = Formulaire(data)
        r = "responsable."
        responsable = SaisieResponsable(
            civilite=f.texte(r + "civilite"),
            nom=f.texte(r + "nom"),
            prenom=f.texte(r + "prenom"),
            telephone=f.texte(r + "telephone"),
        )
        adresse = SaisieAdresse(
            f.texte(r + "adresse.ligne1"),
            f.texte(r + "adresse.code_postal"),
            f.texte(r + "adresse.commune"),
            f.optionnel(r + "adresse.ligne2"),
        )
        cree, erreurs = essayer(
            lambda: sv.comptes.inscrire(
                contexte(request), f.texte("email"), f.brut("mot_de_passe"), responsable, adresse
            ),
            f,
        )
        if cree is None:
            saisie = {k: v for k, v in f.saisie().items() if k != "mot_de_passe"}
            return rendu(request, "entree/inscription.html", statut=422, erreurs=erreurs, saisie=saisie)
        compte_id, _ = cree
        _, cookies = ouvrir_session(sv.jetons, sv.settings, compte_id, sv.portail.horloge(), False)
        return Redirect(path="/?message=inscrit", status_code=303, cookies=cookies)
