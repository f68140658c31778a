"""The régie's back office: the journal of invoices and pieces, reprints, adjustments and refunds
recorded by hand, receipts by payment mode and the accounting export."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter

from portail.api import schemas as s
from portail.api.auth import SECURITE, exige_role
from portail.api.controllers.factures import nom_regie, reponse_pdf
from portail.api.etat import services
from portail.api.idempotence import CleIdempotence, une_seule_fois
from portail.api.problemes import reponses_probleme
from portail.application.contexte import Contexte
from portail.application.export_comptable import export_comptable
from portail.application.impression import destinataire
from portail.application.pdf import bordereau_pdf, piece_pdf
from portail.application.regie import ajuster, rembourser
from portail.bootstrap import Services
from portail.domain.erreurs import ErreurValidation
from portail.domain.famille import Famille
from portail.domain.valeurs import Role
from portail.projections.lectures_regie import FiltresJournal, LecturesRegie

MOIS = r"^\d{4}-(0[1-9]|1[0-2])$"
SANS_NUL = r"^[^\x00]*$"
"""PostgreSQL's text holds no NUL: a value compared in SQL that has one is refused (400), not a 500."""
TITRES_PIECES = {
    "geste_commercial": ("Avoir", "Geste commercial"),
    "greve": ("Avoir", "Journée de grève"),
    "admission_en_non_valeur": ("Admission en non-valeur", "Créance admise en non-valeur"),
    "ajustement_positif": ("Facture", "Ajustement"),
}
LIBELLES_MODES = {
    "carte": "carte bancaire",
    "prelevement": "prélèvements",
    "cheque": "chèques",
    "especes": "espèces",
    "cesu": "CESU",
}


def _lectures(sv: Services) -> LecturesRegie:
    assert sv.lectures_regie is not None
    return sv.lectures_regie


def _piece_out(p: Any) -> s.PieceOut:
    return s.PieceOut(
        id=p["facture_id"],
        numero=p["numero"],
        nature=p["nature"],
        famille_id=p["famille_id"],
        payeur=p["payeur"],
        periode=p["periode"],
        emise_le=p["emise_le"],
        echeance=p["echeance"],
        montant_cents=p["montant_cents"],
        reste_a_payer_cents=p["reste_a_payer_cents"],
        statut=p["statut"],
        campagne_id=p["campagne_id"],
        facture_origine=p["facture_origine"],
    )


def _periode(du: date, au: date) -> None:
    if au < du:
        raise ErreurValidation.sur("au", "la fin de la période précède son début")


class ComptesController(Controller):
    path = "/api/regie"
    security = SECURITE
    tags = ["Régie"]  # noqa: RUF012
    guards = [exige_role(Role.REGISSEUR, Role.ADMIN)]  # noqa: RUF012

    @get(
        "/factures",
        sync_to_thread=True,
        summary="Journal des factures et des pièces",
        description=(
            "Factures émises et pièces saisies par la régie (avoirs, admissions en non-valeur, "
            "ajustements), par numéro croissant, filtrées par famille, enfant facturé, numéro "
            "(exact ou début), statut, nature ou période ; page suivante avec `apres` = `suivant`."
        ),
        responses=reponses_probleme(401, 403),
    )
    def journal(
        self,
        request: Request[Any, Any, Any],
        famille_id: Annotated[UUID | None, QueryParameter()] = None,
        enfant_id: Annotated[UUID | None, QueryParameter()] = None,
        numero: Annotated[str | None, QueryParameter(max_length=40, pattern=SANS_NUL)] = None,
        statut: Annotated[s.StatutPiece | None, QueryParameter()] = None,
        nature: Annotated[s.NaturePiece | None, QueryParameter()] = None,
        periode: Annotated[str | None, QueryParameter(pattern=MOIS)] = None,
        apres: Annotated[str | None, QueryParameter(max_length=40, pattern=SANS_NUL)] = None,
        limite: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> s.JournalOut:
        filtres = FiltresJournal(famille_id, enfant_id, numero, statut, nature, periode)
        lignes = _lectures(services(request)).journal(filtres, apres, limite)
        suivant = lignes[limite - 1]["numero"] if len(lignes) > limite else None
        return s.JournalOut([_piece_out(p) for p in lignes[:limite]], suivant)

    @get(
        "/factures/{facture_id:uuid}/pdf",
        sync_to_thread=True,
        summary="Réimprimer une facture ou une pièce en PDF",
        description=(
            "Le PDF qu'a la famille pour une facture émise ; pour une pièce saisie par la régie, "
            "un PDF d'une ligne (avoir, admission en non-valeur, ajustement)."
        ),
        media_type="application/pdf",
        responses=reponses_probleme(401, 403, 404),
    )
    def pdf(self, request: Request[Any, Any, Any], facture_id: FromPath[UUID]) -> Response[bytes]:
        sv = services(request)
        lectures = _lectures(sv)
        piece = lectures.piece(facture_id)
        if piece is None:
            raise NotFoundException("Facture introuvable.")
        if piece["nature"] == "facture":
            return reponse_pdf(sv, facture_id, piece["reste_a_payer_cents"])
        titre, libelle = TITRES_PIECES[piece["nature"]]
        citee = lectures.piece(piece["facture_origine"]) if piece["facture_origine"] else None
        contenu = piece_pdf(
            f"{titre} n° {piece['numero']}",
            libelle,
            nom_regie(sv),
            list(destinataire(sv.portail.charger(Famille, piece["famille_id"]))),
            (piece["emise_le"], piece["echeance"]),
            citee["numero"] if citee else None,
            (piece["montant_cents"], piece["reste_a_payer_cents"]),
        )
        return Response(
            contenu,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{piece["numero"]}.pdf"'},
        )

    @post(
        "/familles/{famille_id:uuid}/ajustements",
        status_code=201,
        sync_to_thread=True,
        summary="Avoir, admission en non-valeur ou ajustement sur le compte d'une famille",
        description=(
            "Un geste commercial ou une journée de grève est un avoir numéroté comme les factures ; "
            "une admission en non-valeur efface tout ou partie du reste à payer d'une facture ; "
            "un ajustement positif est une somme due, réglée comme une facture. Le motif est obligatoire."
        ),
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def ajuster(
        self,
        request: Request[Any, Any, Any],
        famille_id: FromPath[UUID],
        data: JSONBody[s.AjustementIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.AjustementOut:
        sv = services(request)

        def faire(ctx: Contexte) -> s.AjustementOut:
            fait = ajuster(
                sv.facturation, ctx, famille_id, data.nature, data.montant_cents, data.facture_id, data.motif
            )
            sv.apres_ecriture()
            return s.AjustementOut(
                fait.id,
                famille_id,
                data.nature,
                fait.numero,
                fait.montant_cents,
                fait.facture_id,
                fait.encours.solde_cents,
            )

        return une_seule_fois(request, idempotency_key, data, faire, s.AjustementOut)

    @post(
        "/familles/{famille_id:uuid}/remboursements",
        status_code=201,
        sync_to_thread=True,
        summary="Rembourser tout ou partie du crédit d'une famille",
        description="Refusé (409) au-delà du crédit inutilisé de la famille.",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def rembourser(
        self,
        request: Request[Any, Any, Any],
        famille_id: FromPath[UUID],
        data: JSONBody[s.RemboursementIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.ReglementOut:
        sv = services(request)

        def faire(ctx: Contexte) -> s.ReglementOut:
            remboursement_id, encours = rembourser(
                sv.facturation, ctx, famille_id, data.montant_cents, data.mode, data.reference
            )
            sv.apres_ecriture()
            return s.ReglementOut(remboursement_id, famille_id, encours.solde_cents)

        return une_seule_fois(request, idempotency_key, data, faire, s.ReglementOut)

    @get(
        "/encaissements",
        sync_to_thread=True,
        summary="Encaissements d'une période, par mode de règlement",
        description=(
            "Les règlements reçus du `du` au `au` inclus (d'un seul mode avec `mode`), leurs totaux "
            "par mode et la liste : date, famille, payeur, montant, mode, référence."
        ),
        responses=reponses_probleme(401, 403, 422),
    )
    def encaissements(
        self,
        request: Request[Any, Any, Any],
        du: Annotated[date, QueryParameter()],
        au: Annotated[date, QueryParameter()],
        mode: Annotated[s.ModeReglement | None, QueryParameter()] = None,
    ) -> s.EncaissementsOut:
        _periode(du, au)
        lignes = _lectures(services(request)).encaissements(du, au, mode)
        totaux: dict[s.ModeReglement, list[int]] = {}
        for ligne in lignes:
            total = totaux.setdefault(ligne["mode"], [0, 0])
            total[0] += 1
            total[1] += ligne["montant_cents"]
        return s.EncaissementsOut(
            du,
            au,
            [s.TotalModeOut(m, n, montant) for m, (n, montant) in sorted(totaux.items())],
            sum(ligne["montant_cents"] for ligne in lignes),
            [
                s.EncaissementOut(
                    ligne["mouvement_id"],
                    ligne["le"],
                    ligne["famille_id"],
                    ligne["payeur"],
                    ligne["montant_cents"],
                    ligne["mode"],
                    ligne["reference"],
                    ligne["rejete"],
                )
                for ligne in lignes
            ],
        )

    @get(
        "/encaissements/bordereau.pdf",
        sync_to_thread=True,
        summary="Bordereau de remise (chèques, espèces…) en PDF",
        description="Les règlements de la période, d'un mode, avec leur nombre et leur total.",
        media_type="application/pdf",
        responses=reponses_probleme(401, 403, 422),
    )
    def bordereau(
        self,
        request: Request[Any, Any, Any],
        du: Annotated[date, QueryParameter()],
        au: Annotated[date, QueryParameter()],
        mode: Annotated[s.ModeReglement, QueryParameter()] = "cheque",
    ) -> Response[bytes]:
        _periode(du, au)
        sv = services(request)
        lignes = _lectures(sv).encaissements(du, au, mode)
        titre = (
            "Bordereau de remise de chèques"
            if mode == "cheque"
            else f"Encaissements : {LIBELLES_MODES[mode]}"
        )
        contenu = bordereau_pdf(
            titre,
            nom_regie(sv),
            f"Du {du:%d/%m/%Y} au {au:%d/%m/%Y}",
            [(x["le"], x["payeur"] or "", x["reference"] or "", x["montant_cents"]) for x in lignes],
        )
        return Response(
            contenu,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="bordereau-{mode}-{du}-{au}.pdf"'},
        )

    @get(
        "/export-comptable.csv",
        sync_to_thread=True,
        summary="Export comptable (CSV) d'une période",
        description=(
            "Une ligne par écriture datée du `du` au `au` inclus : factures (une ligne par imputation "
            "budgétaire), avoirs, ajustements, règlements, rejets de prélèvement, remboursements ; "
            "montants en centimes, positifs quand la famille doit davantage."
        ),
        media_type="text/csv",
        responses=reponses_probleme(401, 403, 422),
    )
    def export(
        self,
        request: Request[Any, Any, Any],
        du: Annotated[date, QueryParameter()],
        au: Annotated[date, QueryParameter()],
    ) -> Response[str]:
        _periode(du, au)
        return Response(
            export_comptable(_lectures(services(request)), du, au),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="export-comptable-{du}-{au}.csv"'},
        )
