"""Compte: a login identity, its roles, password and password-reset tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from portail.domain.erreurs import RegleMetier
from portail.domain.evenements import PortailEvent
from portail.domain.valeurs import Role


class JetonInvalide(RegleMetier):
    titre = "Lien invalide ou expiré"


class Compte(Aggregate):
    TOPIC = "portail:Compte"
    DONNEES_PERSONNELLES = True

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

    def changer_mot_de_passe(self, mot_de_passe_hash: str, maintenant: datetime) -> None:
        """A new password ends every session opened before it."""
        self._verifier_actif()
        self._mot_de_passe_modifie(mot_de_passe_hash=mot_de_passe_hash, sessions_valides_apres=maintenant)

    @event(MotDePasseModifie)
    def _mot_de_passe_modifie(self, mot_de_passe_hash: str, sessions_valides_apres: datetime) -> None:
        self.mot_de_passe_hash = mot_de_passe_hash
        self.sessions_valides_apres = sessions_valides_apres

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
        # A reset spends every outstanding link, not only the one used.
        self.reinitialisations = {}

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
