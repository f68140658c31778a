"""Mes factures: the list with what remains to pay, an invoice's lines explained under each child's
first name, its PDF, the family's payments, and paying online where the commune offers it (the
test provider's card page included, when it is the one configured)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portail.api.controllers.factures import encaisser_session, session_paiement
from portail.api.etat import correlation, services
from portail.application.impression import facture_imprimee
from portail.application.paiement_carte import PrestataireTest
from portail.application.pdf import periode_en_lettres
from portail.bootstrap import Services
from portail.domain.facturation import LigneFacture
from portail.web.pages import (
    LIBELLES,
    MESSAGES,
    Erreurs,
    Formulaire,
    FormulairePoste,
    essayer,
    exige_parent,
    famille_de_la_page,
    rediriger,
    rendu,
)

MESSAGES.update({"paiement-enregistre": "Votre paiement est enregistré. Merci !"})
LIBELLES.update({"numero": "Numéro de carte", "facture_id": "Facture"})

STATUTS = {
    "a_payer": "À payer",
    "partiellement_payee": "Partiellement payée",
    "payee": "Payée",
    "avoir": "Avoir",
    "admise_en_non_valeur": "Admise en non-valeur",
}
MODES = {
    "carte": "Carte bancaire",
    "prelevement": "Prélèvement",
    "cheque": "Chèque",
    "especes": "Espèces",
    "cesu": "CESU",
    "virement": "Virement",
}


@dataclass(frozen=True)
class GroupeEnfant:
    """An invoice's lines for one child, under the child's first name."""

    prenom: str
    lignes: list[LigneFacture]
    total_cents: int


def _resume(sv: Services, famille_id: UUID, facture_id: UUID) -> Any:
    resume = sv.lectures.facture_resume(facture_id)
    if resume is None or resume["famille_id"] != famille_id:
        raise NotFoundException("Facture introuvable.")
    return resume


class FacturesPages(Controller):
    include_in_schema = False
    guards = [exige_parent]  # noqa: RUF012

    @get("/factures", sync_to_thread=True)
    def lister(self, request: Request[Any, Any, Any]) -> Template:
        sv = services(request)
        famille_id = famille_de_la_page(request)
        encours = sv.facturation.encours(famille_id)
        return rendu(
            request,
            "factures/liste.html",
            factures=[
                {
                    **f,
                    "periode_texte": periode_en_lettres(f["periode"]),
                    "statut_texte": STATUTS.get(f["statut"], ""),
                }
                for f in sv.lectures.factures(famille_id)
            ],
            solde_cents=encours.solde_cents,
            credit_cents=encours.credit_cents,
            reglements=[
                {**r, "mode_texte": MODES.get(r["mode"], r["mode"])}
                for r in (sv.lectures_regie.paiements(famille_id) if sv.lectures_regie is not None else [])
                if r["nature"] == "reglement"
            ],
        )

    @get("/factures/{facture_id:uuid}", sync_to_thread=True)
    def lire(self, request: Request[Any, Any, Any], facture_id: FromPath[UUID]) -> Template:
        return self._facture(request, facture_id)

    def _facture(
        self,
        request: Request[Any, Any, Any],
        facture_id: UUID,
        statut: int = 200,
        erreurs: Erreurs | None = None,
    ) -> Template:
        sv = services(request)
        resume = _resume(sv, famille_de_la_page(request), facture_id)
        imprimee = facture_imprimee(sv.facturation, facture_id, resume["reste_a_payer_cents"])
        groupes: dict[str, list[LigneFacture]] = {}
        for ligne in sorted(imprimee.facture.lignes, key=lambda x: (imprimee.prenom(x), x.jour, x.unite)):
            groupes.setdefault(imprimee.prenom(ligne), []).append(ligne)
        reste = resume["reste_a_payer_cents"]
        return rendu(
            request,
            "factures/facture.html",
            statut=statut,
            erreurs=erreurs or Erreurs(),
            facture=imprimee.facture,
            titre=imprimee.titre,
            periode_texte=periode_en_lettres(imprimee.facture.periode),
            statut_texte=STATUTS.get(resume["statut"], ""),
            reste_cents=reste,
            regle_cents=imprimee.facture.montant_cents - reste if imprimee.facture.montant_cents > 0 else 0,
            groupes=[
                GroupeEnfant(p, lignes, sum(x.montant_cents for x in lignes)) for p, lignes in groupes.items()
            ],
            prelevement=imprimee.prelevement,
            regie=imprimee.regie,
            corrigees=imprimee.corrigees,
            carte=sv.prestataire_carte is not None and reste > 0,
        )

    @post("/factures/{facture_id:uuid}/paiement", sync_to_thread=True)
    def payer(self, request: Request[Any, Any, Any], facture_id: FromPath[UUID]) -> Response[Any]:
        sv = services(request)
        famille_id = famille_de_la_page(request)
        _resume(sv, famille_id, facture_id)
        session, erreurs = essayer(lambda: session_paiement(sv, famille_id, facture_id))
        if session is None:
            return self._facture(request, facture_id, statut=422, erreurs=erreurs)
        # The provider's page; it sends the payer back to the invoice's page.
        return Redirect(path=session.url, status_code=303)


class PaiementTestPages(Controller):
    """The test provider's card page (`PORTAIL_PAIEMENT_CARTE=test` only): what PayFiP or a bank's
    page would be, so that a demo or a test pays an invoice end to end."""

    include_in_schema = False

    def _prestataire(self, request: Request[Any, Any, Any], session_id: str) -> PrestataireTest:
        prestataire = services(request).prestataire_carte
        if prestataire is None or prestataire.issue(session_id) is None:
            raise NotFoundException("Session de paiement inconnue.")
        return prestataire

    def _page(self, request: Request[Any, Any, Any], session_id: str, **contexte: Any) -> Template:
        issue = self._prestataire(request, session_id).issue(session_id)
        assert issue is not None
        return rendu(
            request,
            "factures/paiement_test.html",
            session_id=session_id,
            montant_cents=issue.montant_cents,
            **contexte,
        )

    @get("/paiement-test/{session_id:str}", sync_to_thread=True)
    def carte(self, request: Request[Any, Any, Any], session_id: FromPath[str]) -> Template:
        return self._page(request, session_id)

    @post("/paiement-test/{session_id:str}", sync_to_thread=True)
    def saisir(
        self, request: Request[Any, Any, Any], session_id: FromPath[str], data: FormulairePoste
    ) -> Response[Any]:
        prestataire = self._prestataire(request, session_id)
        f = Formulaire(data)
        if not prestataire.saisir_carte(session_id, f.texte("numero")):
            f.erreurs.ajouter("numero", "carte refusée (carte de test : 4970 1010 1010 1010)")
            return self._page(request, session_id, statut=422, erreurs=f.erreurs, saisie=f.saisie())
        # The provider notifies the portal: the same path as its notification.
        encaisser_session(services(request), session_id, correlation(request))
        issue = prestataire.issue(session_id)
        assert issue is not None
        return rediriger(f"/factures/{issue.reference.removeprefix('facture:')}", "paiement-enregistre")
