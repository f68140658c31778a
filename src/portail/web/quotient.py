"""Quotient familial et prélèvement: the QF and its source, the SEPA mandate (sign, revoke)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post

from portail.api.etat import contexte, services
from portail.web.pages import (
    Erreurs,
    Formulaire,
    FormulairePoste,
    essayer,
    exige_parent,
    famille_de_la_page,
    rediriger,
    rendu,
)

SOURCES = {
    "caf": "Caisse d'allocations familiales (CAF)",
    "msa": "Mutualité sociale agricole (MSA)",
    "attestation": "Attestation fournie par la famille",
    "saisie": "Saisi par la régie",
}


def _page(
    request: Request[Any, Any, Any], *, statut: int = 200, erreurs: Erreurs | None = None, saisie: Any = None
) -> Response[Any]:
    sv = services(request)
    famille = sv.familles.famille(famille_de_la_page(request))
    quotient = famille.quotient_au(sv.familles.aujourd_hui())
    mandat = famille.mandat
    responsable = famille.responsable
    titulaire = f"{responsable.prenom} {responsable.nom}" if responsable else ""
    return rendu(
        request,
        "quotient/quotient.html",
        statut=statut,
        erreurs=erreurs or Erreurs(),
        saisie={"titulaire": titulaire, **(saisie or {})},
        quotient=quotient,
        source=SOURCES.get(quotient.source.value, quotient.source.value) if quotient else "",
        historique=sorted(famille.quotients, key=lambda q: q.valable_du, reverse=True),
        sources=SOURCES,
        mandat=mandat,
        iban=mandat.iban.masque if mandat and mandat.iban else "",
    )


class QuotientPages(Controller):
    include_in_schema = False
    guards = [exige_parent]  # noqa: RUF012

    @get("/quotient-prelevement", sync_to_thread=True)
    def voir(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return _page(request)

    @post("/prelevement", sync_to_thread=True)
    def signer(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        f = Formulaire(data)
        if not f.case("accord"):
            f.erreurs.ajouter("accord", "cochez la case pour autoriser le prélèvement")
        _, erreurs = essayer(
            lambda: services(request).familles.signer_mandat(
                contexte(request),
                famille_de_la_page(request),
                f.texte("titulaire"),
                f.texte("iban"),
                f.optionnel("bic"),
            ),
            f,
        )
        if erreurs:
            return _page(request, statut=422, erreurs=erreurs, saisie=f.saisie())
        return rediriger("/quotient-prelevement", "mandat-signe")

    @post("/prelevement/revocation", sync_to_thread=True)
    def revoquer(self, request: Request[Any, Any, Any]) -> Response[Any]:
        _, erreurs = essayer(
            lambda: services(request).familles.revoquer_mandat(contexte(request), famille_de_la_page(request))
        )
        if erreurs:
            return _page(request, statut=422, erreurs=erreurs)
        return rediriger("/quotient-prelevement", "mandat-revoque")
