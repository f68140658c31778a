"""Billing identities on random months (PostgreSQL): replay as of a position equals the campaign
computed then; original plus corrective equals a fresh computation; issued invoices minus credit
notes equal what families owe; invoice numbers have no gap."""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from outils_services import inscrire_famille
from portail.application.catalogue import SaisieAccueil, SaisieRegle, SaisieUnite, definir_tarifs
from portail.application.contexte import Contexte
from portail.application.effacement import effacer_famille
from portail.application.facturation import ServiceFacturation
from portail.domain.campagne import Facture
from portail.domain.erreurs import ErreurValidation
from portail.domain.facturation import Periode
from portail.domain.reservation import DemandePointage, DemandeReservation, StatutPointage
from portail.domain.tarifs import Grille, ModeTarif, ReductionFratrie, Residence, SeuilRetard, Tranche

CTX = Contexte("proprietes", role="regisseur")
ANNEES = itertools.count(2031)
JOURS = [0, 1, 3, 4, 7, 8]  # offsets from the first Monday of November
OPERATION = st.tuples(
    st.sampled_from(["reserver", "annuler", "present", "absent", "qf"]),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(JOURS),
    st.sampled_from(["MIDI", "SOIR"]),
    st.integers(min_value=0, max_value=2500),
)


def _premier_lundi(annee: int) -> date:
    """The first Monday of November after All Saints' Day, a public holiday (Monday in 2038)."""
    jour = date(annee, 11, 2)
    return jour + timedelta(days=(7 - jour.weekday()) % 7)


def _commune(services, horloge, annee: int, regles_roncq: bool = False):
    """With `regles_roncq`, a presence without booking at MIDI costs 2,50 € more and a departure
    from SOIR after 18:30 or 18:45 costs 1 € or 3 €."""
    horloge.maintenant = datetime(annee, 10, 1, 8, 0, tzinfo=UTC)
    regle = SaisieRegle(ancrage="jour", heure_limite=time(18, 0), decalage_jours=1)
    accueil_id = services.catalogue.creer_accueil(
        Contexte.systeme("test"),
        SaisieAccueil(
            etablissement="PERISCOLAIRE",
            mode_accueil="Garderie",
            periode_libelle=str(annee),
            periode_debut=date(annee, 9, 1),
            periode_fin=date(annee + 1, 7, 1),
            jours=(1, 2, 3, 4, 5),
            unites=(
                SaisieUnite("MIDI", "Repas", time(11, 45), time(13, 30), 50),
                SaisieUnite("SOIR", "Soir", time(16, 30), time(18, 30), 50),
            ),
            regle_reservation=regle,
            regle_annulation=regle,
        ),
    )
    definir_tarifs(
        services.portail,
        Contexte.systeme("test"),
        accueil_id,
        date(annee, 9, 1),
        [
            Grille(
                unite="MIDI",
                residence=Residence.TOUS,
                mode=ModeTarif.TRANCHES_QF,
                tranches=(Tranche(0, 600, 100), Tranche(600, 1000, 305), Tranche(1000, None, 315)),
                fratrie=(ReductionFratrie(2, Decimal(50)),),
                min_cents=100,
                absence_non_justifiee_pourcent=Decimal(50),
                non_reserve_majoration_cents=250 if regles_roncq else None,
            ),
            Grille(
                unite="SOIR",
                residence=Residence.TOUS,
                mode=ModeTarif.TAUX_EFFORT,
                taux_pourcent=Decimal("0.36"),
                min_cents=260,
                max_cents=450,
                non_reserve_cents=500,
                retards=(SeuilRetard(time(18, 30), 100), SeuilRetard(time(18, 45), 300))
                if regles_roncq
                else (),
            ),
        ],
    )
    enfants = []
    for i in range(2):
        famille_id = inscrire_famille(services, CTX)
        for j in range(2):
            enfants.append(
                (
                    famille_id,
                    services.familles.ajouter_enfant(
                        CTX, famille_id, "Martin", f"E{i}{j}", date(2015 + j, 1, 1)
                    ),
                )
            )
    return accueil_id, enfants


def _appliquer(services, horloge, accueil_id, enfants, annee, operations, apres_le_mois: bool) -> None:
    lundi = _premier_lundi(annee)
    for nature, qui, decalage, unite, valeur in operations:
        famille_id, enfant_id = enfants[qui]
        jour = lundi + timedelta(days=decalage)
        if nature == "qf":
            services.familles.enregistrer_quotient(
                CTX, famille_id, valeur, date(annee, 11, 1) + timedelta(days=decalage), "caf"
            )
        elif nature == "reserver" and not apres_le_mois:
            services.reservations.reserver(
                CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(jour, unite)]
            )
        elif nature == "annuler" and not apres_le_mois:
            services.reservations.annuler(
                CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(jour, unite)], None
            )
        elif nature in ("present", "absent") and apres_le_mois:
            # A closed day, or an absence with no booking, is refused, as it should be.
            with contextlib.suppress(ErreurValidation):
                services.reservations.pointer(
                    CTX,
                    accueil_id,
                    jour,
                    [
                        DemandePointage(
                            enfant_id, unite, StatutPointage(nature), time(16, 30), _depart(valeur)
                        )
                    ],
                )


def _depart(valeur: int) -> time:
    """From 18:00 to 18:59: in time, late, very late."""
    return time(18, valeur % 60)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    avant=st.lists(OPERATION, min_size=3, max_size=14),
    apres=st.lists(OPERATION, max_size=10),
    regles_roncq=st.booleans(),
)
# Always once: a late departure from a booked SOIR and an unbooked MIDI, pointed after the issue.
@example(
    avant=[("reserver", 0, 0, "SOIR", 0), ("reserver", 2, 1, "SOIR", 0), ("qf", 2, 0, "MIDI", 700)],
    apres=[("present", 0, 0, "SOIR", 50), ("present", 2, 1, "SOIR", 35), ("present", 1, 1, "MIDI", 0)],
    regles_roncq=True,
)
def test_identites_de_facturation(services, horloge, avant, apres, regles_roncq) -> None:
    annee = next(ANNEES)
    accueil_id, enfants = _commune(services, horloge, annee, regles_roncq)
    services.reservations.reserver(
        CTX, enfants[0][0], enfants[0][1], accueil_id, [DemandeReservation(_premier_lundi(annee), "MIDI")]
    )
    _appliquer(services, horloge, accueil_id, enfants, annee, avant, apres_le_mois=False)
    horloge.maintenant = datetime(annee, 12, 2, 9, 0, tzinfo=UTC)
    facturation = services.facturation
    periode = f"{annee}-11"
    campagne, _ = facturation.preparer(CTX, periode, None)
    calcul = facturation.lignes(campagne)
    facturation.emettre(CTX, campagne.id)
    _appliquer(services, horloge, accueil_id, enfants, annee, apres, apres_le_mois=True)

    # The running drafts equal what a campaign would compute now, a backdated QF coming last.
    services.projecteur.rattraper()
    services.familles.enregistrer_quotient(CTX, enfants[0][0], 100, date(annee, 11, 1), "msa")
    services.projecteur.rattraper()
    maintenant = facturation.calculer(Periode.lire(periode), services.portail.recorder.max_notification_id())
    brouillons = {b["famille_id"]: b["montant_cents"] for b in services.lectures.brouillons(periode)}
    attendus = {
        f: sum(ligne.montant_cents for ligne in lignes) for f, lignes in maintenant.par_famille().items()
    }
    assert {f: m for f, m in brouillons.items() if f in {x for x, _ in enfants}} == attendus

    # Replay as of the campaign's position gives exactly what the campaign computed.
    assert facturation.rejouer(Periode.lire(periode), campagne.position).empreinte == campagne.empreinte

    # Original plus corrective equals a fresh computation on today's facts, family by family.
    corrective, differences = facturation.corriger(CTX, campagne.id, None)
    frais = facturation.calculer(Periode.lire(periode), corrective.position)
    for famille_id in {f for f, _ in enfants}:
        original = sum(ligne.montant_cents for ligne in calcul.lignes if ligne.famille_id == famille_id)
        delta = sum(ligne.montant_cents for ligne in differences.lignes if ligne.famille_id == famille_id)
        maintenant = sum(ligne.montant_cents for ligne in frais.lignes if ligne.famille_id == famille_id)
        assert original + delta == maintenant
    facturation.emettre(CTX, corrective.id)

    # Issued invoices minus credit notes equal what the families owe (no payment recorded).
    factures = [
        services.portail.charger(Facture, f.facture_id)
        for c in (facturation.campagne(campagne.id), facturation.campagne(corrective.id))
        for f in c.factures
    ]
    familles = {f for f, _ in enfants}
    emis = sum(f.montant_cents for f in factures if f.famille_id in familles)
    du = sum(facturation.encours(f).solde_cents for f in familles)
    assert emis == du
    # A second correction finds nothing left to change.
    assert facturation.corriger(CTX, campagne.id, None)[1].montant_cents == 0

    # Paid up and erased, a family's campaigns still read as issued, birth order included, in a
    # process that never read its data (a new service: no facts cached); drafts still agree.
    effacee = enfants[0][0]
    solde = facturation.encours(effacee).solde_cents
    if solde > 0:
        facturation.regler(CTX, effacee, solde, "cheque", None)
    effacer_famille(Contexte.systeme("test"), services.familles, services.comptes, effacee)
    autre = ServiceFacturation(services.portail)
    for c in (campagne, corrective):
        # The replay (in the campaign's own digest version), and the lines served for it.
        assert autre.verifier(autre.campagne(c.id))[1] == c.empreinte
        assert autre.lignes(autre.campagne(c.id)).montant_cents == c.totaux.montant_cents
    services.projecteur.rattraper()
    fin = autre.calculer(Periode.lire(periode), services.portail.recorder.max_notification_id())
    brouillon = {b["famille_id"]: b["montant_cents"] for b in services.lectures.brouillons(periode)}
    assert brouillon.get(effacee, 0) == sum(
        ligne.montant_cents for ligne in fin.par_famille().get(effacee, [])
    )


def test_numeros_sans_trou(services, horloge) -> None:
    annee = next(ANNEES)
    accueil_id, enfants = _commune(services, horloge, annee)
    lundi = _premier_lundi(annee)
    for famille_id, enfant_id in enfants:
        services.reservations.reserver(
            CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(lundi, "MIDI")]
        )
    horloge.maintenant = datetime(annee, 12, 2, 9, 0, tzinfo=UTC)
    campagne, _ = services.facturation.preparer(CTX, f"{annee}-11", None)
    emise = services.facturation.emettre(CTX, campagne.id)
    numeros = sorted(int(f.numero[-6:]) for f in emise.factures)
    assert numeros == list(range(numeros[0], numeros[0] + len(numeros)))
