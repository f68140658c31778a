"""The catalogue: commune settings and accueils (staff), and the accueils a child may book (parents)."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody

from portail.api import schemas as s
from portail.api.auth import SECURITE, Utilisateur, exige_famille, exige_role, famille_de
from portail.api.etat import contexte, services
from portail.api.idempotence import CleIdempotence, une_seule_fois
from portail.api.problemes import reponses_probleme
from portail.application.catalogue import SaisieAccueil, SaisieRegle, SaisieUnite, definir_tarifs
from portail.application.contexte import Contexte
from portail.domain.accueil import Accueil
from portail.domain.commune import Parametres
from portail.domain.tarifs import Grille, ModeTarif, ReductionFratrie, Residence, SeuilRetard, Tranche
from portail.domain.valeurs import Role


def heure(valeur: str | None) -> time | None:
    return time.fromisoformat(valeur) if valeur else None


def _regle(r: s.RegleIn) -> SaisieRegle:
    return SaisieRegle(
        ancrage=r.ancrage,
        heure_limite=time.fromisoformat(r.heure_limite),
        decalage_jours=r.decalage_jours,
        jours_ouvres=r.jours_ouvres,
        jour_semaine=r.jour_semaine,
        jours_semaine=tuple(r.jours_semaine or ()),
        jour_mois=r.jour_mois,
        jours_exclus=tuple(r.jours_exclus or ()),
        majoration_cents=r.retard.majoration_cents if r.retard else None,
        majoration_pourcent=r.retard.majoration_pourcent if r.retard else None,
        retard=r.retard is not None,
    )


def accueil_out(a: Accueil) -> s.AccueilOut:
    c = a.config
    return s.AccueilOut(
        id=a.id,
        etablissement=c.etablissement,
        mode_accueil=c.mode_accueil,
        periode=s.PeriodeOut(c.periode.libelle, c.periode.debut, c.periode.fin),
        unites=[
            s.UniteOut(
                u.code,
                u.libelle,
                u.debut.strftime("%H:%M") if u.debut else None,
                u.fin.strftime("%H:%M") if u.fin else None,
            )
            for u in c.unites
        ],
    )


def _parametres_out(p: Parametres) -> s.ParametresOut:
    r = p.regie
    return s.ParametresOut(
        commune=s.CommuneIn(p.commune.nom, p.commune.code_postal),
        regie=s.RegieIn(
            r.nom,
            r.prefixe_factures,
            r.ics,
            r.iban,
            r.bic,
            r.delai_prenotification_jours,
            r.siret,
            r.adresse,
            r.horaires,
            r.ordre_cheques,
            r.payfip_client,
        )
        if r
        else None,
        seuil_facturation_cents=p.seuil_facturation_cents,
    )


class CatalogueController(Controller):
    path = "/api/admin"
    security = SECURITE
    tags = ["Offre"]  # noqa: RUF012
    guards = [exige_role(Role.ADMIN)]  # noqa: RUF012

    @put(
        "/parametres",
        sync_to_thread=True,
        summary="Commune, régie et seuil de facturation",
        responses=reponses_probleme(401, 403, 409, 422),
    )
    def definir_parametres(
        self, request: Request[Any, Any, Any], data: JSONBody[s.ParametresIn]
    ) -> s.ParametresOut:
        regie = None
        if data.regie is not None:
            r = data.regie
            regie = {
                "nom": r.nom,
                "prefixe_factures": r.prefixe_factures,
                "ics": r.ics,
                "iban": r.iban,
                "bic": r.bic,
                "delai_prenotification_jours": r.delai_prenotification_jours,
                "siret": r.siret,
                "adresse": r.adresse,
                "horaires": r.horaires,
                "ordre_cheques": r.ordre_cheques,
                "payfip_client": r.payfip_client,
            }
        sv = services(request)
        parametres = sv.catalogue.definir_parametres(
            contexte(request), data.commune.nom, data.commune.code_postal, regie, data.seuil_facturation_cents
        )
        return _parametres_out(parametres)

    @get(
        "/parametres",
        sync_to_thread=True,
        summary="Paramètres de la commune",
        responses=reponses_probleme(401, 403, 404),
    )
    def lire_parametres(self, request: Request[Any, Any, Any]) -> s.ParametresOut:
        parametres = services(request).catalogue.parametres()
        if parametres is None:
            raise NotFoundException("Les paramètres de la commune ne sont pas encore définis.")
        return _parametres_out(parametres)

    @post(
        "/accueils",
        status_code=201,
        sync_to_thread=True,
        summary="Créer un accueil",
        responses=reponses_probleme(401, 403, 409, 422),
    )
    def creer_accueil(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[s.AccueilIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.IdOut:
        e = data.eligibilite or s.EligibiliteIn()
        saisie = SaisieAccueil(
            etablissement=data.etablissement,
            mode_accueil=data.mode_accueil,
            periode_libelle=data.periode.libelle,
            periode_debut=data.periode.debut,
            periode_fin=data.periode.fin,
            jours=tuple(data.jours),
            unites=tuple(
                SaisieUnite(
                    u.code,
                    u.libelle,
                    heure(u.debut),
                    heure(u.fin),
                    u.capacite,
                    tuple(u.incompatibles or ()),
                    tuple(u.requiert or ()),
                    u.repas,
                )
                for u in data.unites
            ),
            regle_reservation=_regle(data.regle_reservation),
            regle_annulation=_regle(data.regle_annulation),
            zone_scolaire=data.zone_scolaire,
            hors_vacances_scolaires=data.hors_vacances_scolaires,
            vacances_seulement=data.vacances_seulement,
            liste_attente=data.liste_attente,
            facturation=data.facturation,
            ouverture_inscriptions=data.ouverture_inscriptions,
            ouverture_exterieurs=data.ouverture_exterieurs,
            niveaux=tuple(e.niveaux or ()),
            age_min_mois=e.age_min_mois,
            age_max_mois=e.age_max_mois,
            residents_seulement=e.residents_seulement,
            duree_offre_heures=data.duree_offre_heures,
            imputation_budgetaire=data.imputation_budgetaire,
        )
        sv = services(request)

        def faire(ctx: Contexte) -> s.IdOut:
            accueil_id = sv.catalogue.creer_accueil(ctx, saisie)
            sv.apres_ecriture()
            return s.IdOut(id=accueil_id)

        return une_seule_fois(request, idempotency_key, data, faire, s.IdOut)

    @post(
        "/accueils/{accueil_id:uuid}/fermetures",
        status_code=201,
        sync_to_thread=True,
        summary="Fermer un accueil un jour (grève, sortie…)",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def fermer(
        self,
        request: Request[Any, Any, Any],
        accueil_id: FromPath[UUID],
        data: JSONBody[s.FermetureIn],
        idempotency_key: CleIdempotence = None,
    ) -> s.IdOut:
        def faire(ctx: Contexte) -> s.IdOut:
            services(request).catalogue.fermer(ctx, accueil_id, data.date, data.motif)
            return s.IdOut(id=accueil_id)

        return une_seule_fois(request, idempotency_key, data, faire, s.IdOut)


class TarifsController(Controller):
    path = "/api/admin/accueils/{accueil_id:uuid}/tarifs"
    security = SECURITE
    tags = ["Offre"]  # noqa: RUF012
    guards = [exige_role(Role.ADMIN, Role.REGISSEUR)]  # noqa: RUF012

    @put(
        "/",
        sync_to_thread=True,
        summary="Grilles tarifaires en vigueur à partir d'une date",
        responses=reponses_probleme(401, 403, 404, 409, 422),
    )
    def definir(
        self, request: Request[Any, Any, Any], accueil_id: FromPath[UUID], data: JSONBody[s.TarifsIn]
    ) -> s.TarifsOut:
        grilles = [
            Grille(
                unite=g.unite,
                residence=Residence(g.residence),
                mode=ModeTarif(g.mode),
                tranches=tuple(
                    Tranche(t.qf_min, t.qf_max, t.prix_cents, t.pai_cents) for t in g.tranches or ()
                ),
                taux_pourcent=Decimal(str(g.taux_pourcent)) if g.taux_pourcent is not None else None,
                min_cents=g.min_cents,
                max_cents=g.max_cents,
                prix_cents=g.prix_cents,
                pai_cents=g.pai_cents,
                fratrie=tuple(
                    ReductionFratrie(f.rang, Decimal(str(f.reduction_pourcent))) for f in g.fratrie or ()
                ),
                non_reserve_cents=g.non_reserve_cents,
                absence_non_justifiee_pourcent=(
                    Decimal(str(g.absence_non_justifiee_pourcent))
                    if g.absence_non_justifiee_pourcent is not None
                    else None
                ),
                absence_non_justifiee_cents=g.absence_non_justifiee_cents,
                non_reserve_majoration_cents=g.non_reserve_majoration_cents,
                retards=tuple(
                    SeuilRetard(time.fromisoformat(r.apres), r.montant_cents) for r in g.retards or ()
                ),
            )
            for g in data.grilles
        ]
        sv = services(request)
        sv.catalogue.accueil(accueil_id)
        definir_tarifs(sv.portail, contexte(request), accueil_id, data.valable_du, grilles)
        return s.TarifsOut(accueil_id, data.valable_du, len(grilles))


class AccueilsController(Controller):
    path = "/api/accueils"
    security = SECURITE
    tags = ["Offre"]  # noqa: RUF012
    guards = [exige_famille]  # noqa: RUF012

    @get(
        "/",
        sync_to_thread=True,
        summary="Les accueils qu'un enfant peut réserver",
        responses=reponses_probleme(401, 403, 404),
    )
    def lister(
        self, request: Request[Utilisateur, Any, Any], enfant_id: FromQuery[UUID | None] = None
    ) -> list[s.AccueilOut]:
        sv = services(request)
        aujourd_hui = sv.familles.aujourd_hui()
        if enfant_id is None:
            accueils = sv.lectures.accueils_ouverts(aujourd_hui, aujourd_hui + timedelta(days=730))
        else:
            famille_id = famille_de(request.user)
            enfant = sv.familles.enfant(famille_id, enfant_id)
            naissance = enfant.identite.date_naissance if enfant.identite else None
            resident = sv.reservations.resident(famille_id)
            accueils = sv.lectures.accueils_pour(enfant.scolarite.niveau, naissance, resident, aujourd_hui)
        return [accueil_out(a) for a in accueils]
