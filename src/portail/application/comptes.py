"""Accounts: registration, login with throttling, e-mail and password changes, password reset."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from portail.application.contexte import Contexte
from portail.application.courriel import Courrier
from portail.application.mots_de_passe import Hacheur, verifier_politique
from portail.application.portail import Portail
from portail.application.saisies import SaisieAdresse, SaisieResponsable, construire_responsable
from portail.domain.compte import LIEN_EMAIL_INVALIDE, Compte, JetonInvalide
from portail.domain.erreurs import (
    ErreurDomaine,
    ErreurValidation,
    Validateur,
    valider,
)
from portail.domain.famille import Famille
from portail.domain.index_email import EmailDejaUtilise, IndexEmail
from portail.domain.installation import ID_INSTALLATION, Installation
from portail.domain.valeurs import Role, email
from portail.store import lecture
from portail.store.chaine import RecorderChaine
from portail.store.invalidation import Invalidations
from portail.store.lecture import LecteurAsync
from portail.store.securite import EchecsConnexion

DUREE_LIEN_REINITIALISATION = timedelta(minutes=30)
DUREE_LIEN_EMAIL = timedelta(hours=24)
LIEN_REINITIALISATION_INVALIDE = "Ce lien de réinitialisation est invalide ou a expiré."
ROLES_PERSONNEL = (Role.AGENT, Role.REGISSEUR, Role.AUDITEUR, Role.ADMIN)

log = structlog.get_logger("portail.comptes")


class IdentifiantsInvalides(ErreurDomaine):
    type_probleme = "identifiants-invalides"
    titre = "Identifiants invalides"


class TropDeTentatives(ErreurDomaine):
    type_probleme = "trop-de-tentatives"
    titre = "Trop de tentatives"

    def __init__(self, detail: str, reessayer_dans: int) -> None:
        super().__init__(detail)
        self.reessayer_dans = reessayer_dans


@dataclass(frozen=True)
class EtatSession:
    """What checking a session needs of its account: kept in memory between requests."""

    compte_id: UUID
    email: str | None
    roles: tuple[Role, ...]
    famille_id: UUID | None
    actif: bool
    valides_apres: float | None
    """Tokens issued at or before this instant (a timestamp) are void."""

    def accepte(self, emis_le: float) -> bool:
        # Tokens carry their issue time to the microsecond: any issued before the change is void.
        return self.actif and (self.valides_apres is None or emis_le > self.valides_apres)


@dataclass(frozen=True)
class LimitesConnexion:
    echecs_compte: int
    echecs_ip: int
    fenetre: timedelta
    demandes_adresse: int = 3
    """Reset links mailed to one address, and e-mail changes asked by one account, per window."""
    demandes_ip: int = 20
    """Reset requests from one client address per window."""


class ServiceComptes:
    def __init__(
        self,
        portail: Portail,
        hacheur: Hacheur,
        echecs: EchecsConnexion,
        limites: LimitesConnexion,
        courrier: Courrier,
        url_publique: str,
        secret: bytes,
        sessions: Invalidations[EtatSession] | None = None,
    ) -> None:
        self.portail = portail
        self.sessions = sessions
        """The accounts' session states this process keeps (None: read on every request)."""
        self.hacheur = hacheur
        self.echecs = echecs
        self.limites = limites
        self.courrier = courrier
        self.url_publique = url_publique
        self._secret = secret

    # Digests: the e-mail index and the throttling keys never hold the address itself.

    def _empreinte(self, genre: str, valeur: str) -> str:
        return hmac.new(self._secret, f"{genre}:{valeur}".encode(), hashlib.sha256).hexdigest()

    def _id_index(self, adresse: str) -> UUID:
        return IndexEmail.id_pour(self._empreinte("email", adresse))

    def index_de(self, adresse: str) -> IndexEmail | None:
        try:
            index: IndexEmail = self.portail.repository.get(self._id_index(adresse))
        except AggregateNotFoundError:
            return None
        assert isinstance(index, IndexEmail)
        return index

    def compte_par_email(self, adresse: str) -> Compte | None:
        index = self.index_de(adresse)
        if index is None or index.compte_id is None:
            return None
        return self.portail.charger(Compte, index.compte_id)

    def compte(self, compte_id: UUID) -> Compte:
        return self.portail.charger(Compte, compte_id)

    def reserver_email(self, adresse: str, compte_id: UUID) -> IndexEmail:
        """The e-mail's index, given to `compte_id` (saved by the caller with the account)."""
        index = self.index_de(adresse)
        if index is None:
            return IndexEmail(id=self._id_index(adresse), compte_id=compte_id)
        index.attribuer(compte_id)
        return index

    # Registration

    def inscrire(
        self,
        contexte: Contexte,
        adresse_email: str,
        mot_de_passe: str,
        responsable: SaisieResponsable,
        adresse: SaisieAdresse,
    ) -> tuple[UUID, UUID]:
        """Create the account, its family and the e-mail index together, or nothing."""
        v = Validateur()
        courriel = v.valeur("email", lambda: email(adresse_email))
        v.valeur("mot_de_passe", lambda: verifier_politique(mot_de_passe))
        moi = construire_responsable(v, responsable, "responsable", obligatoires=("telephone",))
        adresse_foyer = v.valeur("responsable.adresse", adresse.construire)
        v.lever_si_erreurs()
        assert courriel and moi and adresse_foyer
        empreinte_mdp = self.hacheur.hacher(mot_de_passe)

        def commande() -> tuple[UUID, UUID]:
            famille = Famille(responsable=moi, adresse=adresse_foyer)
            compte = Compte(
                email=courriel,
                mot_de_passe_hash=empreinte_mdp,
                roles=(Role.PARENT,),
                famille_id=famille.id,
            )
            index = self.reserver_email(courriel, compte.id)
            famille.rattacher_compte(compte.id)
            acteur = Contexte(contexte.correlation_id, compte.id, Role.PARENT.value)
            self.portail.enregistrer(acteur, famille, compte, index)
            return compte.id, famille.id

        return self.portail.avec_reessais(commande)

    def creer_compte_personnel(
        self, contexte: Contexte, adresse_email: str, mot_de_passe: str, roles: list[str]
    ) -> UUID:
        v = Validateur()
        courriel = v.valeur("email", lambda: email(adresse_email))
        v.valeur("mot_de_passe", lambda: verifier_politique(mot_de_passe))
        roles_valides: list[Role] = []
        for i, nom in enumerate(roles):
            try:
                role = Role(nom)
            except ValueError:
                v.ajouter(f"roles[{i}]", f"rôle inconnu : {nom}")
                continue
            if role not in ROLES_PERSONNEL:
                v.ajouter(f"roles[{i}]", "les comptes parents se créent par l'inscription")
            roles_valides.append(role)
        if not roles:
            v.ajouter("roles", "au moins un rôle est nécessaire")
        v.lever_si_erreurs()
        assert courriel
        empreinte_mdp = self.hacheur.hacher(mot_de_passe)

        def commande() -> UUID:
            compte = Compte(
                email=courriel,
                mot_de_passe_hash=empreinte_mdp,
                roles=tuple(dict.fromkeys(roles_valides)),
                famille_id=None,
            )
            index = self.reserver_email(courriel, compte.id)
            self.portail.enregistrer(contexte, compte, index)
            return compte.id

        return self.portail.avec_reessais(commande)

    def assurer_admin(self, adresse_email: str, mot_de_passe: str) -> UUID | None:
        """First start: create the administrator, once in the life of the installation, and only
        when no active administrator exists (one made by `portail demo` or by hand)."""
        if self.portail.repository.__contains__(ID_INSTALLATION) or self.administrateur_existe():
            return None
        v = Validateur()
        courriel = v.valeur("PORTAIL_ADMIN_EMAIL", lambda: email(adresse_email))
        v.valeur("PORTAIL_ADMIN_PASSWORD", lambda: verifier_politique(mot_de_passe))
        v.lever_si_erreurs()
        assert courriel
        empreinte_mdp = self.hacheur.hacher(mot_de_passe)
        compte = Compte(email=courriel, mot_de_passe_hash=empreinte_mdp, roles=(Role.ADMIN,), famille_id=None)
        index = self.reserver_email(courriel, compte.id)
        installation = Installation(id=ID_INSTALLATION, compte_id=compte.id)
        try:
            self.portail.enregistrer(Contexte.systeme("demarrage"), compte, index, installation)
        except IntegrityError:
            return None  # another process created it first
        return compte.id

    def administrateur_existe(self) -> bool:
        """An active account with the role `admin`. Candidates are the accounts created without a
        family, or whose roles changed: staff, a handful, each then loaded."""
        recorder = self.portail.recorder
        assert isinstance(recorder, RecorderChaine)
        table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
        candidats = lecture.tuples(
            recorder.datastore,
            f"SELECT DISTINCT originator_id FROM {table}"
            " WHERE (topic = %s AND famille_id IS NULL) OR topic = %s",
            (Compte.Cree.TOPIC, Compte.RolesModifies.TOPIC),
        )
        for (compte_id,) in candidats:
            compte = self.portail.charger(Compte, compte_id)
            if compte.actif and compte.a_role(Role.ADMIN):
                return True
        return False

    # Login

    def connecter(self, adresse_email: str, mot_de_passe: str, adresse_ip: str) -> Compte:
        """Check the throttles, then the password; only failures count toward the limits."""
        maintenant = self.portail.horloge()
        cles = self._cles_echec(adresse_email, adresse_ip)
        self._freiner(cles, maintenant, "Trop de tentatives de connexion.")
        cle_compte, cle_ip = (cle for cle, _ in cles)
        try:
            compte = self.compte_par_email(email(adresse_email))
        except ErreurValidation:
            compte = None
        empreinte = compte.mot_de_passe_hash if compte is not None and compte.actif else None
        if not self.hacheur.verifier(empreinte, mot_de_passe) or compte is None:
            self.echecs.ajouter([cle_compte, cle_ip], maintenant)
            raise IdentifiantsInvalides("Adresse e-mail ou mot de passe incorrect.")
        return compte

    def _cles_echec(self, adresse_email: str, adresse_ip: str) -> list[tuple[str, int]]:
        """The login throttle's keys: a wrong current password on a change counts as a failed
        login, so guessing through either way spends the same allowance."""
        return [
            (self._empreinte("echec-compte", adresse_email.strip().lower()), self.limites.echecs_compte),
            (self._empreinte("echec-ip", adresse_ip), self.limites.echecs_ip),
        ]

    def _attente(self, cle: str, limite: int, depuis: datetime, maintenant: datetime) -> int:
        recents = self.echecs.recents(cle, depuis)
        if len(recents) < limite:
            return 0
        # Blocked until the limit-th most recent failure leaves the window.
        libere_le = recents[limite - 1] + self.limites.fenetre
        return max(1, math.ceil((libere_le - maintenant).total_seconds()))

    def _attente_max(self, cles: list[tuple[str, int]], maintenant: datetime) -> int:
        depuis = maintenant - self.limites.fenetre
        return max(self._attente(cle, limite, depuis, maintenant) for cle, limite in cles)

    def _freiner(self, cles: list[tuple[str, int]], maintenant: datetime, quoi: str) -> None:
        """429 while any key has reached its limit within the window."""
        attente = self._attente_max(cles, maintenant)
        if attente > 0:
            raise TropDeTentatives(f"{quoi} Réessayez dans {math.ceil(attente / 60)} minute(s).", attente)

    def _verifier_mot_de_passe_actuel(
        self, compte: Compte, mot_de_passe: str, champ: str, adresse_ip: str | None
    ) -> None:
        """Throttled like login: checked against the limits first, a wrong password recorded."""
        maintenant = self.portail.horloge()
        cles = self._cles_echec(compte.email or compte.id.hex, adresse_ip or "inconnue")
        if adresse_ip is None:
            cles = cles[:1]
        self._freiner(cles, maintenant, "Trop de mots de passe incorrects.")
        if not self.hacheur.verifier(compte.mot_de_passe_hash, mot_de_passe):
            self.echecs.ajouter([cle for cle, _ in cles], maintenant)
            raise ErreurValidation.sur(champ, "le mot de passe est incorrect")

    def etat_en_memoire(self, compte_id: UUID) -> EtatSession | None:
        """The account's session state if this process keeps it: no query, no wait."""
        return None if self.sessions is None else self.sessions.compte(compte_id)

    def etat_session(self, compte_id: UUID) -> EtatSession | None:
        """Read from the log (one query when the account is already held), then kept."""
        jeton = None if self.sessions is None else self.sessions.jeton()
        try:
            compte = self.portail.lire(Compte, compte_id)
        except ErreurDomaine:
            return None
        return self._garder_etat(compte, jeton)

    async def etat_session_async(self, compte_id: UUID, lecteur: LecteurAsync) -> EtatSession | None:
        """`etat_session` on the event loop (`Portail.lire_async`: `LectureEnFil` when a worker
        thread must read it)."""
        jeton = None if self.sessions is None else self.sessions.jeton()
        try:
            compte = await self.portail.lire_async(Compte, compte_id, lecteur)
        except ErreurDomaine:
            return None
        return self._garder_etat(compte, jeton)

    def prechauffer_sessions(self, par_lot: int = 500, maximum: int | None = None) -> int:
        """Every account's session state read into memory, a batch per statement, so that the
        first request of a parent this process has not met (a registration morning: thousands
        at once, logged in elsewhere or long ago) reads nothing. A batch read while an
        invalidation came is dropped (`Invalidations.garder`); stops when the memory is not
        trusted any more. Returns the states kept."""
        if self.sessions is None:
            return 0
        gardes = 0
        ids = self.portail.ids_de(Compte)
        if maximum is not None:
            ids = ids[:maximum]
        for debut in range(0, len(ids), par_lot):
            jeton = self.sessions.jeton()
            if jeton is None:
                break
            try:
                lus = self.portail.lire_lot(Compte, ids[debut : debut + par_lot])
            except Exception as erreur:
                # An unreadable record (the audit chain names it) must not cost every later
                # account its reading ahead: this batch's are read at their first request.
                log.warning("prechauffage_lot_illisible", type_erreur=type(erreur).__name__)
                continue
            for compte in lus.values():
                self._garder_etat(compte, jeton)
                gardes += 1
        return gardes

    def _garder_etat(self, compte: Compte, jeton: int | None) -> EtatSession:
        sva = compte.sessions_valides_apres
        etat = EtatSession(
            compte.id,
            compte.email,
            compte.roles,
            compte.famille_id,
            compte.actif,
            None if sva is None else sva.timestamp(),
        )
        if self.sessions is not None:
            self.sessions.garder(compte.id, etat, jeton)
        return etat

    def session_valide(self, compte_id: UUID, emis_le: float) -> EtatSession | None:
        """Asked on every request: kept in memory, invalidated when the account changes."""
        etat = self.etat_en_memoire(compte_id) or self.etat_session(compte_id)
        return etat if etat is not None and etat.accepte(emis_le) else None

    def oublier_sessions(self, *compte_ids: UUID) -> None:
        """Accounts just changed by this process: its next request sees the change at once; the
        other processes learn it from the log's notification."""
        if self.sessions is not None:
            self.sessions.oublier(*compte_ids)

    # Changes by the account holder

    def changer_email(
        self,
        contexte: Contexte,
        compte_id: UUID,
        nouvel_email: str,
        mot_de_passe: str,
        adresse_ip: str | None = None,
    ) -> tuple[str, datetime]:
        """Mail a confirmation link to the new address and a notice to the current one; the
        address changes only when the link is followed (`confirmer_email`). Returns the pending
        address and the link's expiry."""
        courriel = valider("email", lambda: email(nouvel_email))
        compte = self.compte(compte_id)
        self._verifier_mot_de_passe_actuel(compte, mot_de_passe, "mot_de_passe", adresse_ip)
        if courriel == compte.email:
            raise ErreurValidation.sur("email", "c'est déjà l'adresse de ce compte")
        index = self.index_de(courriel)
        if index is not None and index.compte_id not in (None, compte_id):
            raise EmailDejaUtilise("Cette adresse e-mail est déjà utilisée par un autre compte.")
        maintenant = self.portail.horloge()
        cle = [(self._empreinte("changement-email", compte_id.hex), self.limites.demandes_adresse)]
        self._freiner(cle, maintenant, "Trop de demandes de changement d'adresse.")
        secret = secrets.token_urlsafe(32)
        expire_le = maintenant + DUREE_LIEN_EMAIL

        def commande() -> str | None:
            a_jour = self.compte(compte_id)
            a_jour.demander_changement_email(courriel, _empreinte_jeton(secret), expire_le)
            self.portail.enregistrer(contexte, a_jour)
            return a_jour.email

        actuel = self.portail.avec_reessais(commande)
        self.echecs.ajouter([cle[0][0]], maintenant)
        self.courrier.envoyer(
            courriel,
            "Confirmez votre nouvelle adresse e-mail",
            "Bonjour,\n\n"
            "Cette adresse a été indiquée comme nouvelle adresse de connexion d'un compte "
            "Portail Familles.\nPour la confirmer, ouvrez ce lien dans les 24 heures :\n\n"
            f"{self.url_publique}/confirmation-email?token={compte_id.hex}.{secret}\n\n"
            "Tant que ce lien n'est pas ouvert, l'adresse du compte ne change pas. Si vous n'êtes "
            "pas à l'origine de cette demande, ignorez ce message.\n",
        )
        if actuel is not None:
            self.courrier.envoyer(
                actuel,
                "Changement d'adresse e-mail demandé",
                "Bonjour,\n\n"
                "Un changement de l'adresse de connexion de votre compte Portail Familles a été "
                f"demandé, vers {courriel}.\nIl ne prendra effet que lorsque le lien envoyé à "
                "cette nouvelle adresse aura été ouvert ; toutes les sessions ouvertes seront "
                "alors fermées.\n\nSi vous n'êtes pas à l'origine de cette demande, changez "
                "dès maintenant votre mot de passe : cela annule la demande.\n",
            )
        return courriel, expire_le

    def confirmer_email(self, contexte: Contexte, jeton: str) -> UUID:
        """Follow the link: the address changes, both index entries with it, and every session
        of the account ends. Returns the account's id."""
        compte_id, secret = _lire_jeton(jeton, LIEN_EMAIL_INVALIDE)

        def commande() -> None:
            try:
                compte = self.compte(compte_id)
            except ErreurDomaine:
                raise JetonInvalide(LIEN_EMAIL_INVALIDE) from None
            ancien = compte.email
            nouveau = compte.confirmer_email(_empreinte_jeton(secret), self.portail.horloge())
            nouvel_index = self.reserver_email(nouveau, compte.id)
            ancien_index = self.index_de(ancien) if ancien else None
            if ancien_index is not None:
                ancien_index.liberer()
            acteur = Contexte(contexte.correlation_id, compte.id, "confirmation-email")
            self.portail.enregistrer(acteur, compte, nouvel_index, ancien_index)

        self.portail.avec_reessais(commande)
        self.oublier_sessions(compte_id)
        return compte_id

    def changer_mot_de_passe(
        self, contexte: Contexte, compte_id: UUID, ancien: str, nouveau: str, adresse_ip: str | None = None
    ) -> None:
        compte = self.compte(compte_id)
        self._verifier_mot_de_passe_actuel(compte, ancien, "ancien", adresse_ip)
        valider("nouveau", lambda: verifier_politique(nouveau))
        empreinte = self.hacheur.hacher(nouveau)

        def commande() -> None:
            compte = self.compte(compte_id)
            compte.changer_mot_de_passe(empreinte, self.portail.horloge())
            self.portail.enregistrer(contexte, compte)

        self.portail.avec_reessais(commande)
        self.oublier_sessions(compte_id)

    # Password reset (OWASP: same answer whether or not the account exists)

    def demander_reinitialisation(
        self, contexte: Contexte, adresse_email: str, adresse_ip: str | None = None
    ) -> bool:
        """Mail a reset link to an active account. Every request counts toward the limits per
        address and per client address, known or not; over them nothing is sent. Returns False
        when the request was over a limit (the caller answers the same either way)."""
        maintenant = self.portail.horloge()
        cles = [
            (self._empreinte("reinit-adresse", adresse_email.strip().lower()), self.limites.demandes_adresse),
            (self._empreinte("reinit-ip", adresse_ip or "inconnue"), self.limites.demandes_ip),
        ]
        if self._attente_max(cles, maintenant) > 0:
            return False
        self.echecs.ajouter([cle for cle, _ in cles], maintenant)
        self._envoyer_lien_reinitialisation(contexte, adresse_email)
        return True

    def _envoyer_lien_reinitialisation(self, contexte: Contexte, adresse_email: str) -> None:
        try:
            compte = self.compte_par_email(email(adresse_email))
        except ErreurValidation:
            return
        if compte is None or not compte.actif or compte.email is None:
            return
        secret = secrets.token_urlsafe(32)
        expire_le = self.portail.horloge() + DUREE_LIEN_REINITIALISATION

        def commande() -> None:
            a_jour = self.compte(compte.id)
            a_jour.demander_reinitialisation(_empreinte_jeton(secret), expire_le)
            self.portail.enregistrer(contexte, a_jour)

        self.portail.avec_reessais(commande)
        jeton = f"{compte.id.hex}.{secret}"
        self.courrier.envoyer(
            compte.email,
            "Réinitialisation de votre mot de passe",
            "Bonjour,\n\n"
            "Une réinitialisation du mot de passe de votre compte Portail Familles a été demandée.\n"
            "Pour choisir un nouveau mot de passe, ouvrez ce lien dans les 30 minutes :\n\n"
            f"{self.url_publique}/reinitialisation?token={jeton}\n\n"
            "Ce lien ne sert qu'une fois. Si vous n'êtes pas à l'origine de cette demande, "
            "ignorez ce message : votre mot de passe reste inchangé.\n",
        )

    def reinitialiser(self, contexte: Contexte, jeton: str, mot_de_passe: str) -> None:
        compte_id, secret = _lire_jeton(jeton, LIEN_REINITIALISATION_INVALIDE)
        valider("mot_de_passe", lambda: verifier_politique(mot_de_passe))
        empreinte = self.hacheur.hacher(mot_de_passe)

        def commande() -> None:
            try:
                compte = self.compte(compte_id)
            except ErreurDomaine:
                raise JetonInvalide(LIEN_REINITIALISATION_INVALIDE) from None
            compte.reinitialiser(_empreinte_jeton(secret), empreinte, self.portail.horloge())
            acteur = Contexte(contexte.correlation_id, compte.id, "reinitialisation")
            self.portail.enregistrer(acteur, compte)

        self.portail.avec_reessais(commande)
        self.oublier_sessions(compte_id)


def _empreinte_jeton(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _lire_jeton(jeton: str, refus: str) -> tuple[UUID, str]:
    """A mailed link's token: `<account id hex>.<secret>`."""
    compte_hex, _, secret = jeton.partition(".")
    try:
        compte_id = UUID(hex=compte_hex)
    except ValueError:
        raise JetonInvalide(refus) from None
    if not secret:
        raise JetonInvalide(refus)
    return compte_id, secret
