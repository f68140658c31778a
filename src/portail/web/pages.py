"""What every page shares: rendering with the layout's context, redirects, the parent guard, the
forms' fields and their errors."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, TypeVar
from uuid import uuid4

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body
from litestar.response import Redirect, Template

from portail.api.auth import COOKIE_CSRF_FORMULAIRE, Session, Utilisateur
from portail.api.etat import services
from portail.domain.erreurs import ErreurChamp, ErreurDomaine, ErreurValidation
from portail.domain.valeurs import Role

T = TypeVar("T")

FormulairePoste = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A posted page form (`application/x-www-form-urlencoded`): a handler's `data`."""

MESSAGES = {
    "connecte": "Vous êtes connecté.",
    "deconnecte": "Vous êtes déconnecté.",
    "inscrit": "Votre compte est créé. Ajoutez maintenant vos enfants dans « Mes enfants ».",
    "lien-envoye": (
        "Si un compte existe pour cette adresse, un lien de réinitialisation vient de lui être envoyé. "
        "Il reste valable 30 minutes."
    ),
    "mot-de-passe-change": "Votre mot de passe est changé. Connectez-vous avec le nouveau.",
    "enregistre": "Vos modifications sont enregistrées.",
    "enfant-ajoute": "L'enfant est ajouté à votre foyer.",
    "document-depose": "Votre document est déposé ; il sera vérifié par les services de la commune.",
    "mandat-signe": "Votre mandat de prélèvement est signé.",
    "mandat-revoque": "Votre mandat de prélèvement est révoqué.",
    "email-demande": (
        "Un lien de confirmation vient d'être envoyé à la nouvelle adresse ; votre adresse change "
        "quand vous l'ouvrez (il reste valable 24 heures). L'ancienne adresse en est prévenue."
    ),
    "email-confirme": "Votre nouvelle adresse e-mail est confirmée. Connectez-vous avec elle.",
}
"""Status messages a redirect names by code (`?message=`): a page never echoes free text from a URL."""


LIBELLES = {
    "email": "Adresse e-mail",
    "mot_de_passe": "Mot de passe",
    "confirmation": "Confirmation du mot de passe",
    "ancien": "Mot de passe actuel",
    "nouveau": "Nouveau mot de passe",
    "civilite": "Civilité",
    "nom": "Nom",
    "prenom": "Prénom",
    "telephone": "Téléphone",
    "telephone_professionnel": "Téléphone professionnel",
    "date_naissance": "Date de naissance",
    "lieu_naissance": "Lieu de naissance",
    "profession": "Profession",
    "employeur": "Employeur",
    "lien": "Lien avec l'enfant",
    "adresse": "Adresse",
    "adresse.ligne1": "Adresse",
    "adresse.ligne2": "Complément d'adresse",
    "adresse.code_postal": "Code postal",
    "adresse.commune": "Commune",
    "situation_familiale": "Situation familiale",
    "ecole": "École",
    "niveau": "Niveau",
    "classe": "Classe",
    "allergies": "Allergies",
    "regime_alimentaire": "Régime alimentaire",
    "pai": "PAI",
    "pai_detail": "Détail du PAI",
    "medecin.nom": "Médecin traitant",
    "medecin.telephone": "Téléphone du médecin",
    "remarques": "Remarques",
    "titulaire": "Titulaire du compte",
    "iban": "IBAN",
    "bic": "BIC",
    "type": "Type de document",
    "fichier": "Fichier",
    "enfant_id": "Enfant concerné",
    "vaccinations_a_jour": "Vaccinations",
    "accord": "Autorisation de prélèvement",
    "droit_image": "Droit à l'image",
    "sortie_seul": "Sortie seul",
    "transport": "Transport",
    "soins_urgence": "Soins d'urgence",
}


def libelle(champ: str) -> str:
    """The label of a field an error names: `responsable.adresse.commune` → « Commune »."""
    if champ in LIBELLES:
        return LIBELLES[champ]
    for prefixe in ("responsable.", "autre_responsable."):
        if champ.startswith(prefixe):
            return libelle(champ.removeprefix(prefixe))
    if champ.startswith(("allergies[", "personnes[")):
        rang = champ.split("[", 1)[1].split("]", 1)[0]
        reste = champ.split("]", 1)[1].lstrip(".")
        base = "Allergie" if champ.startswith("allergies") else "Personne autorisée"
        return f"{base} {int(rang) + 1}" + (f", {libelle(reste).lower()}" if reste else "")
    return champ


class ConnexionRequise(NotAuthorizedException):
    """A page that needs a session, asked for without one: answered by a redirect to the login."""


async def exige_parent(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of the parents' pages: a session of an account linked to a family. A coroutine: the
    framework runs a plain function guard in a worker thread, a hop to and from the event loop
    for every page."""
    verifier_parent(connection)


def verifier_parent(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    utilisateur = connection.scope.get("user")
    if not isinstance(utilisateur, Utilisateur):
        raise ConnexionRequise("Connectez-vous pour accéder à cette page.")
    if not utilisateur.a_role(Role.PARENT) or utilisateur.famille_id is None:
        raise PermissionDeniedException(
            "Ces pages sont réservées aux familles ; le personnel utilise son propre outil."
        )


def utilisateur_de(request: Request[Any, Any, Any]) -> Utilisateur | None:
    utilisateur = request.scope.get("user")
    return utilisateur if isinstance(utilisateur, Utilisateur) else None


def famille_de_la_page(request: Request[Any, Any, Any]) -> Any:
    """The session's family (the guard `exige_parent` made sure there is one)."""
    utilisateur = utilisateur_de(request)
    assert utilisateur is not None and utilisateur.famille_id is not None
    return utilisateur.famille_id


def jeton_formulaire(request: Request[Any, Any, Any]) -> tuple[str, Cookie | None]:
    """The value of the forms' hidden `csrf_token`: the session's CSRF claim, or without a session
    the form cookie's value (a new one when the browser has none yet, with its cookie to set)."""
    session = request.scope.get("auth")
    if isinstance(session, Session):
        return session.csrf, None
    existant = request.cookies.get(COOKIE_CSRF_FORMULAIRE)
    if existant:
        return existant, None
    nouveau = secrets.token_urlsafe(32)
    cookie = Cookie(
        key=COOKIE_CSRF_FORMULAIRE,
        value=nouveau,
        httponly=True,
        samesite="strict",
        secure=services(request).settings.cookies_securises,
        path="/",
    )
    return nouveau, cookie


def rendu(
    request: Request[Any, Any, Any],
    gabarit: str,
    *,
    statut: int = 200,
    entetes: Mapping[str, str] | None = None,
    **contexte: Any,
) -> Template:
    """A page in the layout: the user, the forms' CSRF value, a status message named by code."""
    jeton, cookie = jeton_formulaire(request)
    code = request.query_params.get("message")
    contexte.setdefault("erreurs", Erreurs())
    contexte.setdefault("saisie", {})
    return Template(
        template_name=gabarit,
        context={
            "utilisateur": utilisateur_de(request),
            "jeton_csrf": jeton,
            "message": MESSAGES.get(code) if isinstance(code, str) else None,
            "chemin": request.url.path,
            **contexte,
        },
        status_code=statut,
        headers=dict(entetes or {}),
        cookies=[cookie] if cookie else [],
    )


def rediriger(chemin: str, message: str | None = None) -> Redirect:
    """After a form post: 303, so that reloading the next page does not post again."""
    if message is not None:
        assert message in MESSAGES
        chemin += ("&" if "?" in chemin else "?") + f"message={message}"
    return Redirect(path=chemin, status_code=303)


def suite_sure(valeur: str | None) -> str:
    """Where to go after logging in: a path of this site only (no `//host`, no scheme)."""
    if not valeur or not valeur.startswith("/") or valeur.startswith("//") or "\\" in valeur:
        return "/"
    return valeur


def cle_idempotence() -> str:
    """The hidden `idempotency_key` of a form whose double submission must act once."""
    return uuid4().hex


# Forms


@dataclass
class Erreurs:
    """Field errors of a form, by field name (the names the application's validation uses), and
    those of no field; shown beside their field and summarised at the top of the page."""

    liste: list[ErreurChamp] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.liste)

    def de(self, champ: str) -> list[str]:
        return [e.message for e in self.liste if e.champ == champ]

    def ajouter(self, champ: str, message: str) -> None:
        self.liste.append(ErreurChamp(champ, message))

    @classmethod
    def depuis(cls, erreur: ErreurDomaine) -> Erreurs:
        if isinstance(erreur, ErreurValidation):
            return cls(list(erreur.erreurs))
        return cls([ErreurChamp("", erreur.detail)])


class Formulaire:
    """Reads a posted form; what cannot be read (a malformed date) is an error of its field."""

    def __init__(self, donnees: Mapping[str, Any]) -> None:
        self.donnees = donnees
        self.erreurs = Erreurs()

    def brut(self, nom: str) -> str:
        valeur = self.donnees.get(nom, "")
        if isinstance(valeur, list):
            valeur = valeur[-1] if valeur else ""
        return str(valeur) if valeur is not None else ""

    def texte(self, nom: str) -> str:
        return self.brut(nom).strip()

    def optionnel(self, nom: str) -> str | None:
        return self.texte(nom) or None

    def liste(self, nom: str) -> list[str]:
        valeur = self.donnees.get(nom)
        if valeur is None:
            return []
        valeurs = valeur if isinstance(valeur, list) else [valeur]
        return [str(v).strip() for v in valeurs if str(v).strip()]

    def case(self, nom: str) -> bool:
        return bool(self.texte(nom))

    def date(self, nom: str, *, obligatoire: bool = False) -> date | None:
        brut = self.texte(nom)
        if not brut:
            if obligatoire:
                self.erreurs.ajouter(nom, "ce champ est obligatoire")
            return None
        try:
            return date.fromisoformat(brut)
        except ValueError:
            self.erreurs.ajouter(nom, "date invalide (format JJ/MM/AAAA)")
            return None

    def saisie(self) -> dict[str, str]:
        """What the person typed, to show again in the form beside its errors."""
        return {cle: self.brut(cle) for cle in self.donnees if cle != "csrf_token"}


def essayer(action: Callable[[], T], formulaire: Formulaire | None = None) -> tuple[T | None, Erreurs]:
    """Run a command; a refusal becomes the form's errors (merged with those of its reading)."""
    erreurs = formulaire.erreurs if formulaire is not None else Erreurs()
    if erreurs:
        return None, erreurs
    try:
        return action(), erreurs
    except ErreurDomaine as erreur:
        erreurs.liste.extend(Erreurs.depuis(erreur).liste)
        return None, erreurs
