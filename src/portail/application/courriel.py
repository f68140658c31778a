"""Outgoing mail: SMTP when configured, else one .eml file per message in the mail folder."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse


class Courrier(Protocol):
    def envoyer(self, destinataire: str, sujet: str, texte: str) -> None: ...


def _message(expediteur: str, destinataire: str, sujet: str, texte: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = expediteur
    message["To"] = destinataire
    message["Subject"] = sujet
    message["Message-ID"] = make_msgid(domain="portail-familles.local")
    message.set_content(texte)
    return message


class CourrierDossier:
    def __init__(self, dossier: Path, expediteur: str) -> None:
        self.dossier = dossier
        self.expediteur = expediteur

    def envoyer(self, destinataire: str, sujet: str, texte: str) -> None:
        self.dossier.mkdir(parents=True, exist_ok=True)
        message = _message(self.expediteur, destinataire, sujet, texte)
        nom = str(message["Message-ID"]).strip("<>").replace("@", "_")
        chemin = self.dossier / f"{nom}.eml"
        chemin.write_bytes(bytes(message))
        chemin.chmod(0o600)


class CourrierSmtp:
    """`smtp://user:password@host:port` or `smtps://…` (implicit TLS); STARTTLS when offered."""

    def __init__(self, url: str, expediteur: str) -> None:
        self.url = urlparse(url)
        self.expediteur = expediteur

    def envoyer(self, destinataire: str, sujet: str, texte: str) -> None:
        message = _message(self.expediteur, destinataire, sujet, texte)
        hote = self.url.hostname or "localhost"
        classe = smtplib.SMTP_SSL if self.url.scheme == "smtps" else smtplib.SMTP
        with classe(hote, self.url.port or (465 if self.url.scheme == "smtps" else 25), timeout=10) as smtp:
            if classe is smtplib.SMTP and smtp.has_extn("starttls"):
                smtp.starttls()
            if self.url.username:
                smtp.login(unquote(self.url.username), unquote(self.url.password or ""))
            smtp.send_message(message)
