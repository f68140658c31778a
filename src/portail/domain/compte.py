"""Compte: a login identity, its roles, password and password-reset tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from portail.domain.erreurs import RegleMetier
from portail.domain.evenements import PortailEvent
from portail.domain.valeurs import Role


class JetonInvalide(RegleMetier):
    titre = "Lien invalide ou expiré"


LIEN_EMAIL_INVALIDE = "Ce lien de confirmation d'adresse e-mail est invalide ou a expiré."


@dataclass(frozen=True)
class ChangementEmail:
    """A new address waiting for its owner to follow the link sent to it."""

    email: str
    jeton_empreinte: str
    expire_le: datetime


class Compte(Aggregate):
    TOPIC = "portail:Compte"
    DONNEES_PERSONNELLES = True
    changement_email: ChangementEmail | None = None
    """Class default: snapshots taken before the field existed do not hold it."""

    class Event(Aggregate.Event, PortailEvent):
        SUJET_PERSONNEL = True

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Compte.Created"

    class Cree(Event, Aggregate.Created):
        TOPIC = "portail:Compte.Cree"
        PERSONNEL = ("email", "mot_de_passe_hash")
        email: str
        mot_de_passe_hash: str
        roles: tuple[Role, ...]
        famille_id: UUID | None

    class EmailModifie(Event):
        TOPIC = "portail:Compte.EmailModifie"
        PERSONNEL = ("email",)
        email: str

    class MotDePasseModifie(Event):
        TOPIC = "portail:Compte.MotDePasseModifie"
        PERSONNEL = ("mot_de_passe_hash",)
        mot_de_passe_hash: str
        sessions_valides_apres: datetime

    class ReinitialisationDemandee(Event):
        TOPIC = "portail:Compte.ReinitialisationDemandee"
        jeton_empreinte: str
        expire_le: datetime

    class MotDePasseReinitialise(Event):
        TOPIC = "portail:Compte.MotDePasseReinitialise"
        PERSONNEL = ("mot_de_passe_hash",)
        jeton_empreinte: str
        mot_de_passe_hash: str
        sessions_valides_apres: datetime

    class ChangementEmailDemande(Event):
        TOPIC = "portail:Compte.ChangementEmailDemande"
        PERSONNEL = ("email",)
        email: str
        jeton_empreinte: str
        expire_le: datetime

    class EmailConfirme(Event):
        TOPIC = "portail:Compte.EmailConfirme"
        PERSONNEL = ("email",)
        email: str
        jeton_empreinte: str
        sessions_valides_apres: datetime

    class RolesModifies(Event):
        TOPIC = "portail:Compte.RolesModifies"
        roles: tuple[Role, ...]

    class Desactive(Event):
        TOPIC = "portail:Compte.Desactive"
        desactive_le: datetime

    @event(Cree)
    def __init__(
        self,
        email: str,
        mot_de_passe_hash: str,
        roles: tuple[Role, ...],
        famille_id: UUID | None,
    ) -> None:
        self.email: str | None = email
        self.mot_de_passe_hash: str | None = mot_de_passe_hash
        self.roles = tuple(roles)
        self.famille_id = famille_id
        self.sessions_valides_apres: datetime | None = None
        self.reinitialisations: dict[str, datetime] = {}
        self.desactive_le: datetime | None = None
        self.changement_email = None

    @property
    def actif(self) -> bool:
        return self.desactive_le is None

    def a_role(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    def _verifier_actif(self) -> None:
        if not self.actif:
            raise RegleMetier("Ce compte est désactivé.")

    def modifier_email(self, email: str) -> None:
        self._verifier_actif()
        if email != self.email:
            self._email_modifie(email=email)

    @event(EmailModifie)
    def _email_modifie(self, email: str) -> None:
        self.email = email

    def demander_changement_email(self, email: str, jeton_empreinte: str, expire_le: datetime) -> None:
        """The new address is only pending: a later request replaces it, and its link with it."""
        self._verifier_actif()
        self._changement_email_demande(email=email, jeton_empreinte=jeton_empreinte, expire_le=expire_le)

    @event(ChangementEmailDemande)
    def _changement_email_demande(self, email: str, jeton_empreinte: str, expire_le: datetime) -> None:
        self.changement_email = ChangementEmail(email, jeton_empreinte, expire_le)

    def confirmer_email(self, jeton_empreinte: str, maintenant: datetime) -> str:
        """The pending address becomes the account's; every session opened before ends. Returns it."""
        attente = self.changement_email
        if (
            not self.actif
            or attente is None
            or attente.jeton_empreinte != jeton_empreinte
            or maintenant >= attente.expire_le
        ):
            raise JetonInvalide(LIEN_EMAIL_INVALIDE)
        self._email_confirme(
            email=attente.email, jeton_empreinte=jeton_empreinte, sessions_valides_apres=maintenant
        )
        return attente.email

    @event(EmailConfirme)
    def _email_confirme(self, email: str, jeton_empreinte: str, sessions_valides_apres: datetime) -> None:
        self.email = email
        self.sessions_valides_apres = sessions_valides_apres
        self.changement_email = None

    def changer_mot_de_passe(self, mot_de_passe_hash: str, maintenant: datetime) -> None:
        """A new password ends every session opened before it."""
        self._verifier_actif()
        self._mot_de_passe_modifie(mot_de_passe_hash=mot_de_passe_hash, sessions_valides_apres=maintenant)

    @event(MotDePasseModifie)
    def _mot_de_passe_modifie(self, mot_de_passe_hash: str, sessions_valides_apres: datetime) -> None:
        self.mot_de_passe_hash = mot_de_passe_hash
        self.sessions_valides_apres = sessions_valides_apres
        # Whoever asked for the pending address may have known the old password only.
        self.changement_email = None

    def demander_reinitialisation(self, jeton_empreinte: str, expire_le: datetime) -> None:
        self._verifier_actif()
        self._reinitialisation_demandee(jeton_empreinte=jeton_empreinte, expire_le=expire_le)

    @event(ReinitialisationDemandee)
    def _reinitialisation_demandee(self, jeton_empreinte: str, expire_le: datetime) -> None:
        self.reinitialisations[jeton_empreinte] = expire_le

    def reinitialiser(self, jeton_empreinte: str, mot_de_passe_hash: str, maintenant: datetime) -> None:
        """Only an unused, unexpired token opens a reset; using it spends it."""
        expire_le = self.reinitialisations.get(jeton_empreinte)
        if not self.actif or expire_le is None or maintenant >= expire_le:
            raise JetonInvalide("Ce lien de réinitialisation est invalide ou a expiré.")
        self._reinitialise(
            jeton_empreinte=jeton_empreinte,
            mot_de_passe_hash=mot_de_passe_hash,
            sessions_valides_apres=maintenant,
        )

    @event(MotDePasseReinitialise)
    def _reinitialise(
        self, jeton_empreinte: str, mot_de_passe_hash: str, sessions_valides_apres: datetime
    ) -> None:
        self.mot_de_passe_hash = mot_de_passe_hash
        self.sessions_valides_apres = sessions_valides_apres
        # A reset spends every outstanding link, not only the one used, the e-mail one included.
        self.reinitialisations = {}
        self.changement_email = None

    def modifier_roles(self, roles: tuple[Role, ...]) -> None:
        self._verifier_actif()
        if not roles:
            raise RegleMetier("Un compte doit avoir au moins un rôle.")
        if set(roles) != set(self.roles):
            self._roles_modifies(roles=tuple(roles))

    @event(RolesModifies)
    def _roles_modifies(self, roles: tuple[Role, ...]) -> None:
        self.roles = tuple(roles)

    def desactiver(self, maintenant: datetime) -> None:
        if self.actif:
            self._desactive(desactive_le=maintenant)

    @event(Desactive)
    def _desactive(self, desactive_le: datetime) -> None:
        self.desactive_le = desactive_le
        self.reinitialisations = {}
        self.changement_email = None
