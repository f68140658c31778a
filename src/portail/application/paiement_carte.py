"""Card payment through a provider (PayFiP, a PSP…) behind one small interface.

The portal creates a payment session for an invoice's remaining amount and sends the parent to
the provider; the provider then notifies the portal, which asks the provider for the session's
outcome (never trusting the notification itself) and records the payment once.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True)
class SessionPaiement:
    session_id: str
    url: str
    montant_cents: int
    reference: str


@dataclass(frozen=True)
class IssuePaiement:
    session_id: str
    paye: bool
    montant_cents: int
    reference: str


class PrestataireCarte(Protocol):
    def creer(self, reference: str, montant_cents: int, url_retour: str) -> SessionPaiement: ...

    def issue(self, session_id: str) -> IssuePaiement | None: ...


class PrestataireTest:
    """A provider for tests and demos: a session is paid when the test card is submitted."""

    CARTE_ACCEPTEE = "4970101010101010"

    def __init__(self, url_publique: str) -> None:
        self._url = url_publique
        self._sessions: dict[str, tuple[SessionPaiement, bool]] = {}
        self._verrou = threading.Lock()

    def creer(self, reference: str, montant_cents: int, url_retour: str) -> SessionPaiement:
        session_id = secrets.token_urlsafe(16)
        session = SessionPaiement(
            session_id, f"{self._url}/paiement-test/{session_id}", montant_cents, reference
        )
        with self._verrou:
            self._sessions[session_id] = (session, False)
        return session

    def saisir_carte(self, session_id: str, numero: str) -> bool:
        with self._verrou:
            if session_id not in self._sessions:
                return False
            session, _ = self._sessions[session_id]
            paye = numero.replace(" ", "") == self.CARTE_ACCEPTEE
            self._sessions[session_id] = (session, paye)
            return paye

    def issue(self, session_id: str) -> IssuePaiement | None:
        with self._verrou:
            entree = self._sessions.get(session_id)
        if entree is None:
            return None
        session, paye = entree
        return IssuePaiement(session.session_id, paye, session.montant_cents, session.reference)


def reference_facture(facture_id: UUID) -> str:
    return f"facture:{facture_id}"
