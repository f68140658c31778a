"""A small demo commune, written through the application: the family of the seed screens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

import click
from rich.progress import TaskID

from portail.application.catalogue import SaisieAccueil, SaisieRegle, SaisieUnite, definir_tarifs
from portail.application.contexte import Contexte, horloge_systeme
from portail.application.familles import PARIS
from portail.application.saisies import SaisieAdresse, SaisieResponsable, SaisieSante
from portail.bootstrap import Services, construire_services
from portail.domain.index_email import EmailDejaUtilise
from portail.domain.reservation import DemandeReservation
from portail.generation import PARAMETRES_REGIE, HorlogeSimulee, grilles_loisirs, grilles_periscolaire
from portail.settings import Settings
from portail.store.database import BaseDeDonnees

ADMIN = ("admin@portail-familles.local", "Admin-Portail-2026")
REGIE = ("regie@portail-familles.local", "Regie-Portail-2026")
PARENT = ("parent@portail-familles.local", "Parent-Portail-2026")


PERIODE_DEMO = (date(2026, 9, 1), date(2027, 7, 3))


def mois_facture(aujourd_hui: date) -> date | None:
    """Last month, which the demo bills, when the demo's accueils are open in it."""
    mois = (aujourd_hui.replace(day=1) - timedelta(days=1)).replace(day=1)
    return mois if PERIODE_DEMO[0] <= mois <= PERIODE_DEMO[1] else None


def remplir(settings: Settings) -> Iterator[str]:
    base = BaseDeDonnees.ouvrir(settings)
    horloge = HorlogeSimulee(horloge_systeme())
    services = construire_services(settings, base, horloge)
    try:
        ctx = Contexte.systeme("demo")
        mois = mois_facture(horloge.maintenant.astimezone(PARIS).date())
        if mois is not None and not services.portail.recorder.max_notification_id():
            # An empty log: the story starts two weeks before last month, so that its days could be
            # booked in time, and ends today with last month's invoice. The clock only goes forward.
            horloge.maintenant = datetime.combine(mois - timedelta(days=16), time(9), PARIS)
        else:
            mois = None
        comptes = services.comptes
        for (email, mdp), roles in ((ADMIN, ["admin"]), (REGIE, ["regisseur"])):
            try:
                comptes.creer_compte_personnel(ctx, email, mdp, roles)
                yield f"compte {roles[0]} : {email} / {mdp}"
            except EmailDejaUtilise:
                yield f"compte {roles[0]} déjà présent : {email}"
        if comptes.compte_par_email(PARENT[0]) is not None:
            yield f"famille de démonstration déjà présente : {PARENT[0]}"
            return
        _, famille_id = comptes.inscrire(
            ctx,
            PARENT[0],
            PARENT[1],
            SaisieResponsable(civilite="Mme", nom="Peje", prenom="Camille", telephone="06 12 34 56 78"),
            SaisieAdresse("12 rue de la Mairie", "44000", "Nantes"),
        )
        familles = services.familles
        familles.enregistrer_quotient(ctx, famille_id, 742, date(2021, 9, 1), "caf")
        enfant1 = familles.ajouter_enfant(
            ctx, famille_id, "Peje", "Enfant 1", date(2012, 1, 15), "Nantes", "École Jules Ferry", None, "CM1"
        )
        enfant2 = familles.ajouter_enfant(
            ctx, famille_id, "Peje", "Enfant 2", date(2017, 6, 3), "Nantes", "École Jules Ferry", None, "GS"
        )
        familles.modifier_sante(
            ctx,
            famille_id,
            enfant1,
            SaisieSante(allergies=["arachide"], pai=True, pai_detail="Trousse d'urgence"),
        )
        familles.signer_mandat(ctx, famille_id, "Camille Peje", "FR7630006000011234567890189", None)
        yield f"famille Peje (2 enfants) : {PARENT[0]} / {PARENT[1]}"
        services.catalogue.definir_parametres(ctx, "Nantes", "44000", PARAMETRES_REGIE, 0)
        veille = SaisieRegle(ancrage="jour", heure_limite=time(18, 0), decalage_jours=1)
        mardi = SaisieRegle(ancrage="semaine_precedente", heure_limite=time(23, 59), jour_semaine=2)
        periscolaire = services.catalogue.creer_accueil(
            ctx,
            SaisieAccueil(
                etablissement="PERISCOLAIRE",
                mode_accueil="Garderie et Restauration",
                periode_libelle="Année scolaire 2026-2027",
                periode_debut=date(2026, 9, 1),
                periode_fin=date(2027, 7, 3),
                jours=(1, 2, 4, 5),
                zone_scolaire="B",
                hors_vacances_scolaires=True,
                unites=(
                    SaisieUnite("MATIN", "Accueil du matin", time(7, 15), time(8, 20), 40),
                    SaisieUnite("MIDI", "Restauration", time(11, 45), time(13, 30), 180),
                    SaisieUnite("SOIR", "Accueil du soir", time(16, 30), time(18, 30), 40),
                ),
                regle_reservation=veille,
                regle_annulation=veille,
            ),
        )
        mercredis = services.catalogue.creer_accueil(
            ctx,
            SaisieAccueil(
                etablissement="ACCUEIL DE LOISIRS",
                mode_accueil="Mercredis",
                periode_libelle="Mercredis 2026-2027",
                periode_debut=date(2026, 9, 2),
                periode_fin=date(2027, 6, 30),
                jours=(3,),
                zone_scolaire="B",
                hors_vacances_scolaires=True,
                unites=(
                    SaisieUnite("JOURNEE", "Journée avec repas", time(8, 30), time(17, 30), 24, ("MATINEE",)),
                    SaisieUnite("MATINEE", "Matinée", time(8, 30), time(12, 0), 24),
                ),
                regle_reservation=mardi,
                regle_annulation=mardi,
                liste_attente="offre",
            ),
        )
        yield f"accueils : PERISCOLAIRE (garderie et restauration), mercredis ; paramètres : Nantes 44000 ({periscolaire})"
        services.documents.publier(
            ctx,
            "Inscriptions aux mercredis",
            "Les réservations des mercredis se font dans Mon planning, au plus tard le mardi de la "
            "semaine précédente à 23 h 59. En cas d'absence, pensez à annuler pour libérer la place.",
            [],
        )
        definir_tarifs(services.portail, ctx, periscolaire, PERIODE_DEMO[0], grilles_periscolaire())
        definir_tarifs(services.portail, ctx, mercredis, PERIODE_DEMO[0], grilles_loisirs())
        if mois is not None:
            yield from _facturer(
                services, horloge, famille_id, (enfant1, enfant2), (periscolaire, mercredis), mois
            )
        # Today: the offer runs from now.
        horloge.maintenant = max(horloge.maintenant, horloge_systeme())
        yield from _centre_d_ete(services, veille, famille_id, enfant2)
    finally:
        services.portail.close()
        base.fermer()


JOUR_ETE = date(2027, 7, 7)
VOISINS = ("voisins@portail-familles.local", "Voisins-Portail-2026")


def _centre_d_ete(services: Services, regle: SaisieRegle, famille_id: UUID, enfant_id: UUID) -> Iterator[str]:
    """The summer centre, two places a day with offers from its waiting list: a neighbouring
    family takes both places of 7 July, the younger Peje child waits, then a neighbour cancels
    and the place is offered to the Peje family (Mon planning shows the offer to answer)."""
    ctx = Contexte.systeme("demo")
    ete = services.catalogue.creer_accueil(
        ctx,
        SaisieAccueil(
            etablissement="ACCUEIL DE LOISIRS",
            mode_accueil="Centre d'été",
            periode_libelle="Été 2027",
            periode_debut=date(2027, 7, 5),
            periode_fin=date(2027, 7, 30),
            jours=(1, 2, 3, 4, 5),
            zone_scolaire="B",
            vacances_seulement=True,
            unites=(SaisieUnite("JOURNEE", "Journée avec repas", time(8, 30), time(17, 30), 2),),
            regle_reservation=regle,
            regle_annulation=regle,
            liste_attente="offre",
        ),
    )
    definir_tarifs(services.portail, ctx, ete, PERIODE_DEMO[0], grilles_loisirs())
    _, voisins = services.comptes.inscrire(
        ctx,
        VOISINS[0],
        VOISINS[1],
        SaisieResponsable(civilite="M", nom="Martin", prenom="Louis", telephone="06 98 76 54 32"),
        SaisieAdresse("4 allée des Tilleuls", "44000", "Nantes"),
    )
    enfants = [
        services.familles.ajouter_enfant(
            ctx, voisins, "Martin", prenom, naissance, "Nantes", "École Jules Ferry", None, classe
        )
        for prenom, naissance, classe in (
            ("Jade", date(2016, 4, 2), "CE1"),
            ("Hugo", date(2018, 9, 12), "MS"),
        )
    ]
    jour = [DemandeReservation(JOUR_ETE, "JOURNEE")]
    for enfant in enfants:
        services.reservations.reserver(ctx, voisins, enfant, ete, jour)
    services.reservations.reserver(ctx, famille_id, enfant_id, ete, jour)
    services.reservations.annuler(ctx, voisins, enfants[0], ete, jour, "séjour chez les grands-parents")
    yield f"centre d'été (2 places par jour, liste d'attente avec offre) ; famille Martin : {VOISINS[0]} / {VOISINS[1]}"
    yield f"la place du {JOUR_ETE:%d/%m/%Y} libérée par la famille Martin est offerte à la famille Peje"


def _facturer(
    services: Services,
    horloge: HorlogeSimulee,
    famille_id: UUID,
    enfants: tuple[UUID, UUID],
    accueils: tuple[UUID, UUID],
    mois: date,
) -> Iterator[str]:
    """The Peje children's month (lunch every day, care some evenings and mornings, Wednesdays for
    the younger one), booked ahead, then billed today: an invoice to download."""
    ctx = Contexte.systeme("demo")
    periscolaire, mercredis = accueils
    jours = [mois + timedelta(days=n) for n in range(31) if (mois + timedelta(days=n)).month == mois.month]
    demandes: dict[tuple[UUID, UUID], list[tuple[str, tuple[int, ...]]]] = {
        (enfants[0], periscolaire): [("MIDI", (0, 1, 3, 4)), ("SOIR", (0, 3))],
        (enfants[1], periscolaire): [("MIDI", (0, 1, 3, 4)), ("MATIN", (1,))],
        (enfants[1], mercredis): [("JOURNEE", (2,))],
    }
    for (enfant_id, accueil_id), unites in demandes.items():
        services.reservations.reserver(
            ctx,
            famille_id,
            enfant_id,
            accueil_id,
            [
                DemandeReservation(j, code)
                for code, semaine in unites
                for j in jours
                if j.weekday() in semaine
            ],
        )
    horloge.maintenant = max(horloge.maintenant, horloge_systeme())
    regie = Contexte.systeme("demo-regie")
    campagne, _ = services.facturation.preparer(regie, f"{mois:%Y-%m}", None)
    emise = services.facturation.emettre(regie, campagne.id)
    for facture in emise.factures:
        yield f"facture {facture.numero} ({mois:%m/%Y}) émise : GET /api/factures, puis /api/factures/<id>/pdf"


def generer_commune(settings: Settings, enfants: int, graine: int) -> Iterator[str]:
    """A generated commune of `enfants` children in an empty database, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from portail.generation import ANNEE, MOT_DE_PASSE_PARENTS, generer

    base = BaseDeDonnees.ouvrir(settings)
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    services = construire_services(settings, base, horloge)
    try:
        if services.portail.recorder.max_notification_id():
            raise click.ClickException(
                "La base contient déjà des événements : une commune générée s'écrit dans une base vide "
                "(PORTAIL_DATABASE_SCHEMA ou PORTAIL_DATA_DIR neufs)."
            )
        with Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        ) as barre:
            taches: dict[str, TaskID] = {}

            def avancer(etape: str, fait: int, total: int) -> None:
                if etape not in taches:
                    libelle = {"familles": "Familles et enfants", "mois": "Mois de l'année scolaire"}[etape]
                    taches[etape] = barre.add_task(libelle, total=total)
                barre.update(taches[etape], completed=fait)

            commune = generer(services, horloge, enfants, graine, avancer)
        yield (
            f"commune générée (graine {graine}) : {len(commune.familles)} familles, "
            f"{len(commune.enfants)} enfants, {commune.evenements} événements"
        )
        yield f"mot de passe des parents : {MOT_DE_PASSE_PARENTS} (ex. {commune.familles[0].email})"
    finally:
        services.portail.close()
        base.fermer()
