"""Reminders by mail, each sent once (claimed under a deterministic key before it is sent): a
booking deadline coming, an invoice past its due date, a document or a fiche sanitaire expiring."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

import structlog

from portail.application.pdf import euros
from portail.domain.accueil import Accueil
from portail.domain.document import TypeDocument
from portail.domain.enfant import Enfant
from portail.domain.regles.calendrier import PARIS
from portail.jobs.destinataires import ecrire_a_la_famille
from portail.jobs.outils import Outils

DELAIS = "rappel-delai-reservation"
IMPAYES = "relance-impaye"
DOCUMENTS = "rappel-document"
FICHES = "rappel-fiche-sanitaire"

HORIZON_JOURS = 62
"""How far ahead deadlines are looked for: the furthest rule (a day of the previous month)."""

DOCUMENTS_A_RENOUVELER = (
    TypeDocument.CERTIFICAT_MEDICAL,
    TypeDocument.ATTESTATION_QF,
    TypeDocument.PAI,
    TypeDocument.VACCINATIONS,
)
LIBELLES_DOCUMENTS = {
    TypeDocument.CERTIFICAT_MEDICAL.value: "certificat médical",
    TypeDocument.ATTESTATION_QF.value: "attestation de quotient familial",
    TypeDocument.PAI.value: "projet d'accueil individualisé (PAI)",
    TypeDocument.VACCINATIONS.value: "carnet de vaccinations",
}

log = structlog.get_logger("portail.jobs")


def _le(instant: datetime) -> str:
    return instant.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def _envoyer_une_fois(outils: Outils, tache: str, cle: str, famille_id: UUID, sujet: str, texte: str) -> bool:
    try:
        with outils.marqueurs.une_fois(tache, cle, outils.maintenant()) as pris:
            # A family erased or without an active account keeps the claim: nobody to tell.
            return pris and ecrire_a_la_famille(outils.portail, outils.courrier, famille_id, sujet, texte)
    except Exception as erreur:
        # The claim was given back: the next run tries again. Mail errors quote the address.
        log.warning("rappel_echec", tache=tache, type_erreur=type(erreur).__name__)
        return False


def prochaine_limite(accueil: Accueil, outils: Outils) -> tuple[datetime, date, date] | None:
    """The next booking deadline of the accueil still to come, with the first and last open
    days it closes; None when no open day is ahead."""
    maintenant = outils.maintenant()
    calendrier = outils.calendrier
    regle = accueil.config.regle_reservation
    jours: dict[datetime, list[date]] = {}
    jour = outils.aujourd_hui()
    for _ in range(HORIZON_JOURS):
        if accueil.config.periode.contient(jour) and accueil.motif_fermeture(jour, calendrier) is None:
            limite = regle.limite(jour, calendrier)
            if limite > maintenant:
                jours.setdefault(limite, []).append(jour)
        jour += timedelta(days=1)
    if not jours:
        return None
    limite = min(jours)
    return limite, jours[limite][0], jours[limite][-1]


def rappeler_delais(outils: Outils) -> int:
    """Families with a planning on an accueil whose next booking deadline falls 24 to 48 hours
    from now. A deadline every day (the day before at 18:00) is never that far ahead, so only
    weekly or monthly deadlines are reminded."""
    maintenant = outils.maintenant()
    aujourd_hui = outils.aujourd_hui()
    envoyes = 0
    for accueil in outils.lectures.accueils_ouverts(aujourd_hui, aujourd_hui + timedelta(days=HORIZON_JOURS)):
        prochaine = prochaine_limite(accueil, outils)
        if prochaine is None:
            continue
        limite, premier, dernier = prochaine
        if not maintenant + timedelta(hours=24) <= limite < maintenant + timedelta(hours=48):
            continue
        nom = f"{accueil.config.etablissement} — {accueil.config.mode_accueil}"
        periode = (
            f"le {premier:%d/%m/%Y}" if premier == dernier else f"du {premier:%d/%m/%Y} au {dernier:%d/%m/%Y}"
        )
        texte = (
            f"Bonjour,\n\nLes réservations {nom} pour {periode} sont ouvertes jusqu'au {_le(limite)}.\n"
            "Si ce n'est pas déjà fait, pensez à réserver sur le portail familles.\n"
        )
        for famille_id in outils.echeances.familles_de_l_accueil(accueil.id):
            cle = f"{accueil.id}/{famille_id}/{limite.isoformat()}"
            if _envoyer_une_fois(outils, DELAIS, cle, famille_id, f"Réservations : {nom}", texte):
                envoyes += 1
    return envoyes


def relancer_impayes(outils: Outils) -> int:
    """One reminder per invoice past its due date with something left to pay."""
    envoyes = 0
    for ligne in outils.echeances.impayes(outils.aujourd_hui()):
        texte = (
            f"Bonjour,\n\nLa facture {ligne['numero']} ({ligne['periode']}), arrivée à échéance le "
            f"{ligne['echeance']:%d/%m/%Y}, reste à régler : {euros(ligne['reste_a_payer_cents'])}.\n"
            "Vous pouvez la régler sur le portail familles ou auprès de la régie.\n"
        )
        sujet = f"Facture {ligne['numero']} à régler"
        if _envoyer_une_fois(outils, IMPAYES, str(ligne["facture_id"]), ligne["famille_id"], sujet, texte):
            envoyes += 1
    return envoyes


def rappeler_documents(outils: Outils) -> int:
    """Documents (a year after their deposit, by default) and fiches sanitaires (at the end of the
    school year) expiring within the reminder window, or expired within it: once each."""
    settings = outils.reglages
    aujourd_hui = outils.aujourd_hui()
    fenetre = timedelta(days=settings.rappel_document_jours)
    envoyes = 0
    types = [t.value for t in DOCUMENTS_A_RENOUVELER]
    for ligne in outils.echeances.derniers_documents(types):
        expire = ligne["depose_le"].astimezone(PARIS).date() + timedelta(
            days=settings.document_validite_jours
        )
        if not aujourd_hui - fenetre <= expire <= aujourd_hui + fenetre:
            continue
        libelle = LIBELLES_DOCUMENTS[ligne["type"]]
        texte = (
            f"Bonjour,\n\nVotre {libelle} déposé(e) le {ligne['depose_le'].astimezone(PARIS):%d/%m/%Y} "
            f"n'est plus valable après le {expire:%d/%m/%Y}.\n"
            "Merci d'en déposer un nouveau sur le portail familles.\n"
        )
        sujet = f"Document à renouveler : {libelle}"
        if _envoyer_une_fois(outils, DOCUMENTS, str(ligne["document_id"]), ligne["famille_id"], sujet, texte):
            envoyes += 1
    for ligne in outils.echeances.fiches_expirant(aujourd_hui - fenetre, aujourd_hui + fenetre):
        valable = ligne["fiche_valable_jusqu_au"]
        # The first name is not in the read model: the child's aggregate says it.
        identite = outils.portail.lire(Enfant, ligne["enfant_id"]).identite
        qui = identite.prenom if identite else "votre enfant"
        texte = (
            f"Bonjour,\n\nLa fiche sanitaire de {qui} est valable jusqu'au {valable:%d/%m/%Y}.\n"
            "Merci de la mettre à jour sur le portail familles (rubrique Mes enfants).\n"
        )
        cle = f"{ligne['enfant_id']}/{valable.isoformat()}"
        if _envoyer_une_fois(
            outils, FICHES, cle, ligne["famille_id"], "Fiche sanitaire à mettre à jour", texte
        ):
            envoyes += 1
    return envoyes
