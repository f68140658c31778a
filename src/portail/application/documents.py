"""Documents given by families (stored encrypted with the family's key, named by content hash) and
the commune's news."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portail.application.contexte import Contexte
from portail.application.familles import ServiceFamilles
from portail.application.portail import Portail
from portail.domain.accueil import Accueil
from portail.domain.actualite import Actualite
from portail.domain.document import Document, TypeDocument
from portail.domain.erreurs import ErreurValidation, Introuvable, Validateur
from portail.domain.valeurs import texte

TAILLE_MAX = 10 * 1024 * 1024
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def type_reel(contenu: bytes) -> str | None:
    """The media type read from the first bytes, whatever the file's name says."""
    return next((media for signature, media in SIGNATURES if contenu.startswith(signature)), None)


class ServiceDocuments:
    def __init__(self, portail: Portail, familles: ServiceFamilles, dossier: Path) -> None:
        self.portail = portail
        self.familles = familles
        self.dossier = dossier

    def _chemin(self, empreinte_fichier: str) -> Path:
        return self.dossier / empreinte_fichier[:2] / empreinte_fichier

    def deposer(
        self,
        contexte: Contexte,
        famille_id: UUID,
        enfant_id: UUID | None,
        type_: str,
        nom_fichier: str,
        contenu: bytes,
    ) -> Document:
        v = Validateur()
        try:
            type_document = TypeDocument(type_)
        except ValueError:
            v.ajouter("type", "type inconnu : " + ", ".join(t.value for t in TypeDocument))
        nom = v.valeur("fichier", lambda: texte(nom_fichier or "document", longueur_max=200))
        if len(contenu) > TAILLE_MAX:
            v.ajouter("fichier", "10 Mo au plus")
        media = type_reel(contenu)
        if media is None:
            v.ajouter(
                "fichier", "seuls les PDF, JPEG et PNG sont acceptés (le contenu est vérifié, pas le nom)"
            )
        v.lever_si_erreurs()
        if enfant_id is not None:
            self.familles.enfant(famille_id, enfant_id)
        document_id = uuid4()
        # The family's key: erasing the family makes the file unreadable too.
        cle = AESGCM(self.portail.trousseau.cle_pour_ecrire(famille_id, famille_id))
        nonce = os.urandom(12)
        chiffre = nonce + cle.encrypt(nonce, contenu, document_id.bytes)
        empreinte_fichier = hashlib.sha256(chiffre).hexdigest()
        chemin = self._chemin(empreinte_fichier)
        chemin.parent.mkdir(parents=True, exist_ok=True)
        chemin.write_bytes(chiffre)
        chemin.chmod(0o600)
        document = Document(
            id=document_id,
            famille_id=famille_id,
            enfant_id=enfant_id,
            type=type_document,
            nom_fichier=nom or "document",
            media_type=media or "",
            taille=len(contenu),
            empreinte=empreinte_fichier,
        )
        self.portail.enregistrer(contexte, document)
        return document

    def document(self, document_id: UUID, famille_id: UUID | None = None) -> Document:
        """A document; with `famille_id`, only that family's (another's is as unknown as none)."""
        try:
            document = self.portail.charger(Document, document_id)
        except Introuvable:
            raise Introuvable("Document introuvable.") from None
        if famille_id is not None and document.famille_id != famille_id:
            raise Introuvable("Document introuvable.")
        return document

    def contenu(self, document: Document) -> bytes:
        cle = self.portail.trousseau.cle_pour_lire(document.famille_id)
        chemin = self._chemin(document.empreinte)
        if cle is None or not chemin.exists():
            raise Introuvable("Ce document n'est plus disponible.")
        chiffre = chemin.read_bytes()
        return AESGCM(cle).decrypt(chiffre[:12], chiffre[12:], document.id.bytes)

    def valider(self, contexte: Contexte, document_id: UUID) -> Document:
        def commande() -> Document:
            document = self.document(document_id)
            document.valider()
            self.portail.enregistrer(contexte, document)
            return document

        return self.portail.avec_reessais(commande)

    def refuser(self, contexte: Contexte, document_id: UUID, motif: str) -> Document:
        motif_propre = texte(motif, longueur_max=500)

        def commande() -> Document:
            document = self.document(document_id)
            document.refuser(motif_propre)
            self.portail.enregistrer(contexte, document)
            return document

        return self.portail.avec_reessais(commande)

    def publier(self, contexte: Contexte, titre: str, contenu: str, accueils: list[UUID]) -> Actualite:
        v = Validateur()
        titre_propre = v.valeur("titre", lambda: texte(titre, longueur_max=200))
        contenu_propre = v.valeur("contenu", lambda: texte(contenu, longueur_max=10_000))
        for i, accueil_id in enumerate(accueils):
            try:
                self.portail.charger(Accueil, accueil_id)
            except Introuvable:
                v.ajouter(f"accueils[{i}]", "accueil inconnu")
        v.lever_si_erreurs()
        assert titre_propre and contenu_propre
        actualite = Actualite(
            titre=titre_propre,
            contenu=contenu_propre,
            accueils=tuple(dict.fromkeys(accueils)),
            publiee_le=self.portail.horloge(),
        )
        self.portail.enregistrer(contexte, actualite)
        return actualite


def verifier_justificatif(documents: ServiceDocuments, famille_id: UUID, document_id: UUID) -> None:
    """A justification must be a document this family gave and staff did not refuse."""
    try:
        document = documents.document(document_id, famille_id)
    except Introuvable:
        raise ErreurValidation.sur("document_id", "document inconnu pour cette famille") from None
    if document.statut.value == "refuse":
        raise ErreurValidation.sur("document_id", "ce document a été refusé")
