"""Billing routes: the régie's campaigns and replays, the parents' invoices."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from portail.api import schemas as s
from portail.api.auth import SECURITE, Utilisateur, exige_famille, exige_role, famille_de
from portail.api.etat import contexte, correlation, services
from portail.api.idempotence import CleIdempotence, une_seule_fois
from portail.api.problemes import reponses_probleme
from portail.application.attestation import attestation
from portail.application.contexte import Contexte
from portail.application.impression import destinataire, facture_imprimee, prenoms_des_enfants
from portail.application.paiement_carte import PrestataireTest, SessionPaiement, reference_facture
from portail.application.pdf import attestation_pdf, facture_pdf
from portail.application.sepa import prelevements as fichier_prelevements
from portail.application.sepa import representation as fichier_representation
from portail.bootstrap import Services
from portail.domain.campagne import Campagne
from portail.domain.erreurs import ErreurValidation, RegleMetier
from portail.domain.facturation import Calcul, LigneFacture, Periode
from portail.domain.valeurs import Role


def ligne_out(ligne: LigneFacture, prenoms: dict[UUID, str] | None = None) -> s.LigneOut:
    return s.LigneOut(
        famille_id=ligne.famille_id,
        enfant_id=ligne.enfant_id,
        accueil=ligne.accueil,
        date=ligne.jour,
        unite=ligne.unite,
        quantite=ligne.quantite,
        prix_unitaire_cents=ligne.prix_unitaire_cents,
        montant_cents=ligne.montant_cents,
        explication=ligne.explication,
        prenom=prenoms.get(ligne.enfant_id) if prenoms is not None else None,
    )


def _anomalies(calcul: Calcul) -> list[s.AnomalieOut]:
    return [s.AnomalieOut(a.enfant_id, a.accueil_id, a.jour, a.unite, a.motif) for a in calcul.anomalies]


def campagne_out(campagne: Campagne, calcul: Calcul) -> s.CampagneOut:
    t = campagne.totaux
    return s.CampagneOut(
        id=campagne.id,
        periode=campagne.periode,
        statut="emise" if campagne.emise_le else "brouillon",
        position=campagne.position,
        campagne_origine=campagne.campagne_origine,
        totaux=s.TotauxOut(t.familles, t.lignes, t.montant_cents),
        anomalies=_anomalies(calcul),
        empreinte=campagne.empreinte,
        emise_le=campagne.emise_le,
        factures=len(campagne.factures),
    )


class CampagnesController(Controller):
    path = "/api/regie"
    security = SECURITE
    tags = ["Régie"]  # noqa: RUF012
    guards = [exige_role(Role.REGISSEUR, Role.ADMIN)]  # noqa: RUF012

    @post(
        "/campagnes",
        status_code=201,
        sync_to_thread=True,
        summary="Préparer la campagne d'un mois",
        responses=reponses_probleme(401, 403, 409, 422),
    )
    def preparer(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[s.CampagneIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.CampagneOut:
        def faire(ctx: Contexte) -> s.CampagneOut:
            campagne, calcul = services(request).facturation.preparer(ctx, data.periode, data.jusqu_a)
            return campagne_out(campagne, calcul)

        return une_seule_fois(request, idempotency_key, data, faire, s.CampagneOut)

    @get(
        "/campagnes/{campagne_id:uuid}",
        sync_to_thread=True,
        summary="Une campagne",
        responses=reponses_probleme(401, 403, 404, 422),
    )
    def lire(self, request: Request[Any, Any, Any], campagne_id: FromPath[UUID]) -> s.CampagneOut:
        facturation = services(request).facturation
        campagne = facturation.campagne(campagne_id)
        return campagne_out(campagne, facturation.lignes(campagne))

    @get(
        "/campagnes/{campagne_id:uuid}/lignes",
        sync_to_thread=True,
        summary="Les lignes expliquées d'une campagne",
        responses=reponses_probleme(401, 403, 404, 422),
    )
    def lignes(
        self,
        request: Request[Any, Any, Any],
        campagne_id: FromPath[UUID],
        famille_id: FromQuery[UUID | None] = None,
    ) -> s.LignesOut:
        facturation = services(request).facturation
        calcul = facturation.lignes(facturation.campagne(campagne_id))
        return s.LignesOut(
            [
                ligne_out(ligne)
                for ligne in calcul.lignes
                if famille_id is None or ligne.famille_id == famille_id
            ]
        )

    @post(
        "/campagnes/{campagne_id:uuid}/emission",
        status_code=200,
        sync_to_thread=True,
        summary="Émettre les factures",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def emettre(self, request: Request[Any, Any, Any], campagne_id: FromPath[UUID]) -> s.EmissionOut:
        sv = services(request)
        campagne = sv.facturation.emettre(contexte(request), campagne_id)
        sv.apres_ecriture()
        numeros = [f.numero for f in campagne.factures]
        return s.EmissionOut(
            len(numeros),
            numeros[0] if numeros else None,
            numeros[-1] if numeros else None,
            len(campagne.reportees),
        )

    @post(
        "/campagnes/{campagne_id:uuid}/correction",
        status_code=201,
        sync_to_thread=True,
        summary="Campagne corrective (différences seulement)",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def corriger(
        self,
        request: Request[Any, Any, Any],
        campagne_id: FromPath[UUID],
        data: JSONBody[s.CorrectionIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.CampagneOut:
        def faire(ctx: Contexte) -> s.CampagneOut:
            campagne, calcul = services(request).facturation.corriger(ctx, campagne_id, data.jusqu_a)
            return campagne_out(campagne, calcul)

        return une_seule_fois(request, idempotency_key, data, faire, s.CampagneOut)

    @get(
        "/campagnes/{campagne_id:uuid}/prelevements.xml",
        sync_to_thread=True,
        summary="Fichier de prélèvement SEPA (pain.008) de la campagne",
        media_type="application/xml",
        responses=reponses_probleme(401, 403, 404, 422),
    )
    def prelevements(
        self,
        request: Request[Any, Any, Any],
        campagne_id: FromPath[UUID],
        le: Annotated[date | None, QueryParameter(name="date")] = None,
    ) -> Response[bytes]:
        xml, nombre = fichier_prelevements(services(request).facturation, campagne_id, le)
        return _xml(xml, f"prelevements-{campagne_id}.xml", nombre)

    @get(
        "/brouillons",
        sync_to_thread=True,
        summary="Ce que facturerait une campagne lancée maintenant",
        responses=reponses_probleme(401, 403, 422),
    )
    def brouillons(
        self,
        request: Request[Any, Any, Any],
        mois: Annotated[str, QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
    ) -> s.BrouillonsOut:
        lignes = services(request).lectures.brouillons(mois)
        familles = [
            s.BrouillonOut(b["famille_id"], b["lignes"], b["montant_cents"], b["anomalies"]) for b in lignes
        ]
        return s.BrouillonsOut(mois, familles, sum(f.montant_cents for f in familles))

    @post(
        "/rejeu",
        status_code=200,
        sync_to_thread=True,
        summary="Recalculer une période telle qu'elle était à une position ou une date",
        responses=reponses_probleme(401, 403, 404, 422),
    )
    def rejeu(self, request: Request[Any, Any, Any], data: JSONBody[s.RejeuIn]) -> s.RejeuOut:
        facturation = services(request).facturation
        verification = None
        if data.campagne_id is not None:
            campagne = facturation.campagne(data.campagne_id)
            periode, position = Periode.lire(campagne.periode), campagne.position
            calcul, empreinte = facturation.verifier(campagne)
            verification = s.VerificationCampagneOut(
                campagne.id, campagne.empreinte, empreinte, empreinte == campagne.empreinte
            )
            # The digest in the campaign's own definition (all the lines, or the families').
            courante = empreinte
        else:
            if data.periode is None or data.jusqu_a is None:
                raise ErreurValidation.sur("periode", "periode et jusqu_a, ou campagne_id, sont requis")
            periode = Periode.lire(data.periode)
            position = facturation.position(data.jusqu_a)
            rejeu = facturation.rejouer(periode, position)
            calcul, courante = rejeu.calcul, rejeu.empreinte
        return s.RejeuOut(
            periode=str(periode),
            position=position,
            totaux=s.TotauxOut(len(calcul.par_famille()), len(calcul.lignes), calcul.montant_cents),
            lignes=[ligne_out(ligne) for ligne in calcul.lignes],
            anomalies=_anomalies(calcul),
            empreinte=courante,
            empreinte_lignes=calcul.empreinte,
            verification=verification,
        )


class ReglementsController(Controller):
    path = "/api/regie/reglements"
    security = SECURITE
    tags = ["Régie"]  # noqa: RUF012
    guards = [exige_role(Role.REGISSEUR, Role.ADMIN)]  # noqa: RUF012

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        summary="Enregistrer un règlement",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def regler(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[s.ReglementIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.ReglementOut:
        sv = services(request)

        def faire(ctx: Contexte) -> s.ReglementOut:
            reglement_id, encours = sv.facturation.regler(
                ctx, data.famille_id, data.montant_cents, data.mode, data.reference, rum=data.rum
            )
            sv.apres_ecriture()
            return s.ReglementOut(reglement_id, data.famille_id, encours.solde_cents)

        return une_seule_fois(request, idempotency_key, data, faire, s.ReglementOut)

    @post(
        "/{reglement_id:uuid}/rejet",
        status_code=200,
        sync_to_thread=True,
        summary="Prélèvement rejeté : les factures se rouvrent",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def rejeter(
        self, request: Request[Any, Any, Any], reglement_id: FromPath[UUID], data: JSONBody[s.RejetIn]
    ) -> s.ReglementOut:
        sv = services(request)
        encours = sv.facturation.rejeter_prelevement(
            contexte(request), data.famille_id, reglement_id, data.motif
        )
        sv.apres_ecriture()
        return s.ReglementOut(reglement_id, data.famille_id, encours.solde_cents)

    @post(
        "/{reglement_id:uuid}/representation",
        status_code=201,
        sync_to_thread=True,
        summary="Représenter un prélèvement rejeté, une seule fois",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def representer(
        self,
        request: Request[Any, Any, Any],
        reglement_id: FromPath[UUID],
        data: JSONBody[s.RepresentationIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.RepresentationOut:
        def faire(ctx: Contexte) -> s.RepresentationOut:
            encours, representation = services(request).facturation.representer(
                ctx, data.famille_id, reglement_id, data.date
            )
            return s.RepresentationOut(
                reglement_id,
                data.famille_id,
                representation.preleve_le,
                encours.a_representer(representation),
            )

        return une_seule_fois(request, idempotency_key, data, faire, s.RepresentationOut)

    @get(
        "/{reglement_id:uuid}/representation.xml",
        sync_to_thread=True,
        summary="Fichier de prélèvement SEPA (pain.008) d'un prélèvement représenté",
        media_type="application/xml",
        responses=reponses_probleme(401, 403, 404, 422),
    )
    def representation_xml(
        self,
        request: Request[Any, Any, Any],
        reglement_id: FromPath[UUID],
        famille_id: Annotated[UUID, QueryParameter()],
        le: Annotated[date | None, QueryParameter(name="date")] = None,
    ) -> Response[bytes]:
        xml, nombre = fichier_representation(services(request).facturation, famille_id, reglement_id, le)
        return _xml(xml, f"representation-{reglement_id}.xml", nombre)


class SoldeController(Controller):
    path = "/api/solde"
    security = SECURITE
    tags = ["Mes factures"]  # noqa: RUF012
    guards = [exige_famille]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="Mon solde", responses=reponses_probleme(401, 403))
    def lire(self, request: Request[Utilisateur, Any, Any]) -> s.SoldeOut:
        encours = services(request).facturation.encours(famille_de(request.user))
        return s.SoldeOut(encours.solde_cents, len(encours.ouvertes()), encours.credit_cents)

    @get(
        "/paiements",
        sync_to_thread=True,
        summary="Mes paiements : règlements reçus, prélèvements rejetés, remboursements",
        responses=reponses_probleme(401, 403),
    )
    def paiements(self, request: Request[Utilisateur, Any, Any]) -> list[s.MouvementOut]:
        lectures = services(request).lectures_regie
        assert lectures is not None
        return [
            s.MouvementOut(m["le"], m["nature"], m["montant_cents"], m["mode"], m["rejete"])
            for m in lectures.paiements(famille_de(request.user))
        ]


class FacturesController(Controller):
    path = "/api/factures"
    security = SECURITE
    tags = ["Mes factures"]  # noqa: RUF012
    guards = [exige_famille]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="Mes factures", responses=reponses_probleme(401, 403))
    def lister(self, request: Request[Utilisateur, Any, Any]) -> list[s.FactureResumeOut]:
        lignes = services(request).lectures.factures(famille_de(request.user))
        return [
            s.FactureResumeOut(
                f["facture_id"],
                f["numero"],
                f["periode"],
                f["emise_le"],
                f["echeance"],
                f["montant_cents"],
                f["reste_a_payer_cents"],
                f["statut"],
            )
            for f in lignes
        ]

    @get(
        "/{facture_id:uuid}",
        sync_to_thread=True,
        summary="Une facture et ses lignes expliquées",
        responses=reponses_probleme(401, 403, 404),
    )
    def lire(self, request: Request[Utilisateur, Any, Any], facture_id: FromPath[UUID]) -> s.FactureOut:
        sv = services(request)
        resume = sv.lectures.facture_resume(facture_id)
        if resume is None or resume["famille_id"] != famille_de(request.user):
            raise NotFoundException("Facture introuvable.")
        facture = sv.facturation.facture(facture_id)
        prenoms = prenoms_des_enfants(sv.portail, {ligne.enfant_id for ligne in facture.lignes})
        return s.FactureOut(
            id=facture.id,
            numero=facture.numero,
            periode=facture.periode,
            emise_le=facture.emise_le,
            echeance=facture.echeance,
            montant_cents=facture.montant_cents,
            reste_a_payer_cents=resume["reste_a_payer_cents"],
            statut=resume["statut"],
            lignes=[ligne_out(ligne, prenoms) for ligne in facture.lignes],
        )

    @get(
        "/a-venir",
        sync_to_thread=True,
        summary="Le montant du mois en cours, avant facturation",
        responses=reponses_probleme(401, 403, 422),
    )
    def a_venir(
        self,
        request: Request[Utilisateur, Any, Any],
        mois: Annotated[str, QueryParameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
    ) -> s.BrouillonsOut:
        famille_id = famille_de(request.user)
        lignes = services(request).lectures.brouillons(mois, famille_id)
        familles = [
            s.BrouillonOut(b["famille_id"], b["lignes"], b["montant_cents"], b["anomalies"]) for b in lignes
        ]
        return s.BrouillonsOut(mois, familles, sum(f.montant_cents for f in familles))

    @post(
        "/{facture_id:uuid}/paiement",
        status_code=201,
        sync_to_thread=True,
        summary="Payer une facture par carte (session chez le prestataire)",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def payer(
        self,
        request: Request[Utilisateur, Any, Any],
        facture_id: FromPath[UUID],
        idempotency_key: CleIdempotence = None,
    ) -> s.PaiementOut:
        sv = services(request)

        def faire(_: Contexte) -> s.PaiementOut:
            session = session_paiement(sv, famille_de(request.user), facture_id)
            return s.PaiementOut(session.session_id, session.url, session.montant_cents)

        return une_seule_fois(request, idempotency_key, None, faire, s.PaiementOut)

    @get(
        "/{facture_id:uuid}/pdf",
        sync_to_thread=True,
        summary="Une facture en PDF",
        media_type="application/pdf",
        responses=reponses_probleme(401, 403, 404),
    )
    def pdf(self, request: Request[Utilisateur, Any, Any], facture_id: FromPath[UUID]) -> Response[bytes]:
        sv = services(request)
        famille_id = famille_de(request.user)
        resume = sv.lectures.facture_resume(facture_id)
        if resume is None or resume["famille_id"] != famille_id:
            raise NotFoundException("Facture introuvable.")
        return reponse_pdf(sv, facture_id, resume["reste_a_payer_cents"])


class PaiementsController(Controller):
    """The provider's side: its notification, and the test provider's card form."""

    path = "/api/paiements"
    tags = ["Mes factures"]  # noqa: RUF012

    @post(
        "/notification",
        status_code=200,
        sync_to_thread=True,
        summary="Notification du prestataire de paiement",
        exclude_from_auth=True,
        responses=reponses_probleme(404, 422),
    )
    def notification(
        self, request: Request[Any, Any, Any], data: JSONBody[s.NotificationIn]
    ) -> s.NotificationOut:
        sv = services(request)
        return s.NotificationOut(paye=encaisser_session(sv, data.session_id, correlation(request)))

    @post(
        "/test/{session_id:str}/carte",
        status_code=200,
        sync_to_thread=True,
        summary="Prestataire de test : saisie de la carte",
        exclude_from_auth=True,
        responses=reponses_probleme(422),
    )
    def carte_test(
        self, request: Request[Any, Any, Any], session_id: FromPath[str], data: JSONBody[s.CarteTestIn]
    ) -> s.NotificationOut:
        return s.NotificationOut(paye=_prestataire(services(request)).saisir_carte(session_id, data.numero))


class AttestationsController(Controller):
    path = "/api/attestations/frais-de-garde"
    security = SECURITE
    tags = ["Mes factures"]  # noqa: RUF012
    guards = [exige_famille]  # noqa: RUF012

    @get(
        "/",
        sync_to_thread=True,
        summary="Frais de garde réglés dans l'année (enfants de moins de 6 ans)",
        responses=reponses_probleme(401, 403, 404, 422),
    )
    def lire(
        self, request: Request[Utilisateur, Any, Any], annee: Annotated[int, QueryParameter(ge=2000, le=2100)]
    ) -> s.AttestationOut:
        lignes = attestation(services(request).facturation, famille_de(request.user), annee)
        return s.AttestationOut(
            annee,
            [
                s.AttestationEnfantOut(x.enfant_id, x.prenom, x.nom, x.naissance, x.montant_cents)
                for x in lignes
            ],
            sum(x.montant_cents for x in lignes),
        )

    @get(
        "/pdf",
        sync_to_thread=True,
        summary="L'attestation en PDF",
        media_type="application/pdf",
        responses=reponses_probleme(401, 403, 404, 422),
    )
    def pdf(
        self, request: Request[Utilisateur, Any, Any], annee: Annotated[int, QueryParameter(ge=2000, le=2100)]
    ) -> Response[bytes]:
        sv = services(request)
        famille_id = famille_de(request.user)
        lignes = attestation(sv.facturation, famille_id, annee)
        famille = sv.familles.famille(famille_id)
        parametres = sv.catalogue.parametres()
        regie = parametres.regie.nom if parametres and parametres.regie else "Régie"
        contenu = attestation_pdf(
            annee,
            regie,
            list(destinataire(famille)),
            [(f"{x.prenom} {x.nom}", x.naissance, x.montant_cents) for x in lignes],
        )
        return Response(
            contenu,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="attestation-frais-de-garde-{annee}.pdf"'},
        )


def _xml(contenu: bytes, nom: str, nombre: int) -> Response[bytes]:
    return Response(
        contenu,
        media_type="application/xml",
        headers={
            "Content-Disposition": f'attachment; filename="{nom}"',
            "X-Nombre-Prelevements": str(nombre),
        },
    )


def reponse_pdf(sv: Services, facture_id: UUID, reste_cents: int) -> Response[bytes]:
    """An invoice's PDF, for its family or for the régie (an erased family's: without recipient)."""
    imprimee = facture_imprimee(sv.facturation, facture_id, reste_cents)
    return Response(
        facture_pdf(imprimee),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{imprimee.facture.numero}.pdf"'},
    )


def nom_regie(sv: Services) -> str:
    parametres = sv.catalogue.parametres()
    return parametres.regie.nom if parametres and parametres.regie else "Régie"


def _prestataire(sv: Services) -> PrestataireTest:
    if sv.prestataire_carte is None:
        raise RegleMetier("Le paiement par carte n'est pas disponible pour cette commune.")
    return sv.prestataire_carte


def encaisser_session(sv: Services, session_id: str, correlation_id: str) -> bool:
    """What a provider's notification does: asks the provider for the session's outcome (never
    trusting the caller) and records a paid session's payment once. False: not paid."""
    issue = _prestataire(sv).issue(session_id)
    if issue is None:
        raise NotFoundException("Session de paiement inconnue.")
    if not issue.paye:
        return False
    facture_id = UUID(issue.reference.removeprefix("facture:"))
    resume = sv.lectures.facture_resume(facture_id)
    if resume is None:
        raise NotFoundException("Facture introuvable.")
    # One session, one payment: the id is derived from the session, so a repeated
    # notification records nothing more.
    reglement_id = uuid5(NAMESPACE_URL, f"/portail/paiement-carte/{issue.session_id}")
    sv.facturation.regler(
        Contexte(correlation_id, role="prestataire", nom="paiement-carte"),
        resume["famille_id"],
        issue.montant_cents,
        "carte",
        issue.session_id,
        reglement_id,
    )
    sv.apres_ecriture()
    return True


def session_paiement(sv: Services, famille_id: UUID, facture_id: UUID) -> SessionPaiement:
    """A card-payment session at the provider for what remains to pay on the family's invoice; the
    provider sends the payer back to the invoice's page."""
    resume = sv.lectures.facture_resume(facture_id)
    if resume is None or resume["famille_id"] != famille_id:
        raise NotFoundException("Facture introuvable.")
    if resume["reste_a_payer_cents"] <= 0:
        raise ErreurValidation.sur("facture_id", "cette facture n'a plus rien à payer")
    return _prestataire(sv).creer(
        reference_facture(facture_id),
        resume["reste_a_payer_cents"],
        f"{sv.settings.url_publique}/factures/{facture_id}",
    )
