"""A mapper that encrypts each event's personal fields with the key of the event's subject.

Events are written in the typed MessagePack format (`format_evenements`); rows of the earlier
JSON format, and snapshots, go through the library's JSON transcoder as before.
"""

from __future__ import annotations

import base64
import os
from typing import Any
from uuid import UUID

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol, Snapshot
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

from portail.store import format_evenements as fmt
from portail.store.chaine import EvenementStocke
from portail.store.cles import SujetEfface, Trousseau
from portail.store.index_audit import indexer

MARQUEUR = "_chiffre_"
CHAMP_MOTIF = fmt.CHAMP_MOTIF


def _aad(sujet_id: UUID, champ: str) -> bytes:
    # Binding subject and field stops a ciphertext from being moved to another field or family.
    return sujet_id.bytes + champ.encode()


class MapperPersonnel(Mapper[UUID]):
    def __init__(self, transcoder: Transcoder, trousseau: Trousseau) -> None:
        super().__init__(transcoder=transcoder)
        self.trousseau = trousseau

    # Writing

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        if isinstance(domain_event, Snapshot):
            return self._vers_json(domain_event)
        return self._vers_msgpack(domain_event)

    def _vers_msgpack(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        cls = type(domain_event)
        etat = dict(vars(domain_event))
        sujet_id = etat.pop("originator_id")
        version = etat.pop("originator_version")
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            etat["class_version"] = class_version
        champs = [c for c in getattr(cls, "PERSONNEL", ()) if etat.get(c) is not None]
        audit = etat.get("audit")
        motif = audit.get("motif") if isinstance(audit, dict) else None
        sujet_personnel = getattr(cls, "SUJET_PERSONNEL", False)
        chiffrer_motif = bool(motif) and sujet_personnel
        creation = version == 1
        if champs or chiffrer_motif:
            try:
                cle = AESGCM(
                    self.trousseau.cle_pour_evenement(
                        sujet_id, self._famille_du_sujet(domain_event), creation=creation
                    )
                )
            except SujetEfface:
                if champs:
                    raise
                # Staff acting on an erased child's planning may give a reason; it names someone
                # who is gone, so it is not kept.
                etat["audit"] = {**audit, "motif": None} if isinstance(audit, dict) else audit
            else:
                for champ in champs:
                    etat[champ] = self._envelopper(cle, sujet_id, champ, etat[champ])
                if chiffrer_motif and isinstance(audit, dict):
                    # A reason typed by a person may name someone: it goes with the subject's data.
                    etat["audit"] = {**audit, "motif": self._envelopper(cle, sujet_id, CHAMP_MOTIF, motif)}
        elif sujet_personnel and isinstance(etat.get("famille_id"), UUID):
            # Created with its family link now, so that erasing the family reaches this subject
            # even if its first personal field comes later.
            self.trousseau.cle_pour_evenement(sujet_id, etat["famille_id"], creation=creation)
        return EvenementStocke(
            originator_id=sujet_id,
            originator_version=version,
            topic=get_topic(cls),
            state=fmt.MARQUEUR_MSGPACK + fmt.encoder(etat),
            index=indexer(domain_event),
        )

    @staticmethod
    def _envelopper(cle: AESGCM, sujet_id: UUID, champ: str, valeur: Any) -> Any:
        nonce = os.urandom(12)
        return fmt.enveloppe(nonce, cle.encrypt(nonce, fmt.encoder(valeur), _aad(sujet_id, champ)))

    def _vers_json(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """The earlier format, kept for snapshots (a cache of an aggregate's whole state)."""
        etat = dict(vars(domain_event))
        champs = [c for c in self._champs_personnels(domain_event) if etat.get(c) is not None]
        audit = etat.get("audit")
        motif = audit.get("motif") if isinstance(audit, dict) else None
        chiffrer_motif = bool(motif) and getattr(type(domain_event), "SUJET_PERSONNEL", False)
        sujet_id = domain_event.originator_id
        if not champs and not chiffrer_motif:
            famille_id = etat.get("famille_id")
            if getattr(type(domain_event), "SUJET_PERSONNEL", False) and isinstance(famille_id, UUID):
                # Created with its family link now, so that erasing the family reaches this subject
                # even if its first personal field comes later.
                self.trousseau.cle_pour_ecrire(sujet_id, famille_id)
            return super().to_stored_event(domain_event)
        try:
            cle = AESGCM(self.trousseau.cle_pour_ecrire(sujet_id, self._famille_du_sujet(domain_event)))
        except SujetEfface:
            if champs:
                raise
            # Staff acting on an erased child's planning may give a reason; it names someone who
            # is gone, so it is not kept.
            etat["audit"] = {**audit, "motif": None} if isinstance(audit, dict) else audit
            return super().to_stored_event(_copie(domain_event, etat))
        for champ in champs:
            etat[champ] = self._chiffrer(cle, sujet_id, champ, etat[champ])
        if chiffrer_motif and isinstance(audit, dict):
            # A reason typed by a person may name someone: it goes with the subject's data.
            etat["audit"] = {**audit, "motif": self._chiffrer(cle, sujet_id, CHAMP_MOTIF, motif)}
        return super().to_stored_event(_copie(domain_event, etat))

    def _chiffrer(self, cle: AESGCM, sujet_id: UUID, champ: str, valeur: Any) -> dict[str, str]:
        nonce = os.urandom(12)
        clair = self.transcoder.encode(valeur)
        chiffre = cle.encrypt(nonce, clair, _aad(sujet_id, champ))
        return {
            MARQUEUR: base64.b64encode(nonce).decode(),
            "c": base64.b64encode(chiffre).decode(),
        }

    @staticmethod
    def _champs_personnels(domain_event: DomainEventProtocol[UUID]) -> tuple[str, ...]:
        if isinstance(domain_event, Snapshot):
            aggregate_cls = resolve_topic(vars(domain_event)["topic"])
            return ("state",) if getattr(aggregate_cls, "DONNEES_PERSONNELLES", False) else ()
        return tuple(getattr(type(domain_event), "PERSONNEL", ()))

    @staticmethod
    def _famille_du_sujet(domain_event: DomainEventProtocol[UUID]) -> UUID | None:
        if getattr(type(domain_event), "SUJET_EST_FAMILLE", False):
            return domain_event.originator_id
        famille_id = vars(domain_event).get("famille_id")
        return famille_id if isinstance(famille_id, UUID) else None

    # Reading

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        if stored_event.state[:1] == fmt.MARQUEUR_MSGPACK:
            return self._depuis_msgpack(stored_event)
        return self._depuis_json(stored_event)

    def _depuis_msgpack(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        sujet_id = stored_event.originator_id
        assert isinstance(sujet_id, UUID)
        cle: list[AESGCM | None] = []

        def dechiffrer(champ: str, env: fmt.Enveloppe) -> bytes | None:
            if not cle:
                brute = self.trousseau.cle_pour_lire(sujet_id)
                cle.append(AESGCM(brute) if brute is not None else None)
            if cle[0] is None:
                # An erased subject's fields read as None: its key no longer exists.
                return None
            try:
                return cle[0].decrypt(env.nonce, env.chiffre, _aad(sujet_id, champ))
            except InvalidTag as erreur:
                raise MapperDeserialisationError(_illisible(champ, stored_event)) from erreur

        try:
            etat = fmt.decoder_etat(cls, stored_event.state[1:], dechiffrer)
        except (msgspec.DecodeError, msgspec.ValidationError) as erreur:
            msg = (
                f"Événement illisible (version {stored_event.originator_version} de {sujet_id},"
                f" {stored_event.topic}) : {erreur}"
            )
            raise MapperDeserialisationError(msg) from erreur
        etat["originator_id"] = sujet_id
        etat["originator_version"] = stored_event.originator_version
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", etat)
        return domain_event  # type: ignore[no-any-return]

    def _depuis_json(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        etat = vars(domain_event)
        enveloppes = [k for k, v in etat.items() if _est_enveloppe(v)]
        audit = etat.get("audit")
        motif_chiffre = isinstance(audit, dict) and _est_enveloppe(audit.get("motif"))
        if enveloppes or motif_chiffre:
            cle_brute = self.trousseau.cle_pour_lire(domain_event.originator_id)
            cle = AESGCM(cle_brute) if cle_brute is not None else None

            def lire(champ: str, enveloppe: dict[str, str]) -> Any:
                # An erased subject's fields read as None: its key no longer exists.
                return None if cle is None else self._dechiffrer(cle, stored_event, champ, enveloppe)

            for champ in enveloppes:
                etat[champ] = lire(champ, etat[champ])
            if motif_chiffre and isinstance(audit, dict):
                etat["audit"] = {**audit, "motif": lire(CHAMP_MOTIF, audit["motif"])}
        return domain_event

    def _dechiffrer(
        self, cle: AESGCM, stored_event: StoredEvent, champ: str, enveloppe: dict[str, str]
    ) -> Any:
        sujet_id = stored_event.originator_id
        assert isinstance(sujet_id, UUID)
        try:
            clair = cle.decrypt(
                base64.b64decode(enveloppe[MARQUEUR]),
                base64.b64decode(enveloppe["c"]),
                _aad(sujet_id, champ),
            )
        except (InvalidTag, KeyError, ValueError) as erreur:
            raise MapperDeserialisationError(_illisible(champ, stored_event)) from erreur
        return self.transcoder.decode(clair)


def _illisible(champ: str, stored_event: StoredEvent) -> str:
    return (
        f"Champ personnel '{champ}' illisible (version {stored_event.originator_version}"
        f" de {stored_event.originator_id}) : donnée altérée ou mauvaise clé"
    )


def _copie(evenement: DomainEventProtocol[UUID], etat: dict[str, Any]) -> DomainEventProtocol[UUID]:
    """The base mapper reads the event's attributes: hand it a copy holding the envelopes."""
    copie = object.__new__(type(evenement))
    object.__setattr__(copie, "__dict__", etat)
    return copie


def _est_enveloppe(valeur: object) -> bool:
    return isinstance(valeur, dict) and MARQUEUR in valeur
