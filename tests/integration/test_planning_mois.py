"""A parent's month is one prepared statement merged with each accueil's month skeleton, kept per
process: its answer must be the one the earlier read gave (child and accueils loaded, each day's
deadlines evaluated) for the same data, at any instant."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from time import sleep
from typing import Any
from uuid import UUID

import pytest
from litestar.serialization import decode_json, encode_json
from litestar.testing import TestClient

from outils_sql import instructions
from portail.api import schemas as s
from portail.api.app import create_app
from portail.application.catalogue import SaisieAccueil, SaisieRegle, SaisieUnite
from portail.application.contexte import Contexte
from portail.bootstrap import Services, construire_services
from portail.domain.accueil import Accueil
from portail.domain.regles.delais import evaluer
from portail.domain.reservation import DemandeReservation
from portail.generation import ANNEE, MOT_DE_PASSE_PARENTS, PARIS, HorlogeSimulee, generer

from outils_http import Session, compte_personnel, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, reserver

pytestmark = pytest.mark.postgres

CTX = Contexte.systeme("test-planning-mois")
MODIFIABLES = {"reserve", "liste_attente"}


def _ancien_planning(sv: Services, famille_id: UUID, enfant_id: UUID, mois: str) -> Any:
    """The month as the earlier read built it, kept here as the reference."""
    enfant = sv.familles.enfant(famille_id, enfant_id, lecture=True)
    annee, m = (int(x) for x in mois.split("-"))
    premier = date(annee, m, 1)
    fin = premier.replace(day=calendar.monthrange(annee, m)[1])
    naissance = enfant.identite.date_naissance if enfant.identite else None
    resident = sv.reservations.resident(famille_id)
    accueils = [
        a
        for a in sv.lectures.accueils_ouverts(premier, fin)
        if a.motif_non_eligible(
            enfant.scolarite.niveau, naissance, resident, max(premier, a.config.periode.debut)
        )
        is None
        or sv.reservations.planning_existant(enfant.id, a.id) is not None
    ]
    jours = _ancien_mois(sv, enfant.id, premier, fin, accueils, sv.portail.horloge())
    sortie = s.PlanningOut(
        enfant_id=enfant.id,
        mois=mois,
        jours=[
            s.JourOut(date=jour, unites=[s.UniteJourOut(*case) for case in cases])
            for jour, cases in jours.items()
        ],
    )
    return decode_json(encode_json(sortie))


def _ancien_mois(
    sv: Services, enfant_id: UUID, debut: date, fin: date, accueils: list[Accueil], maintenant: datetime
) -> dict[date, list[tuple[Any, ...]]]:
    schema = sv.lectures._s
    etats = {
        (ligne["accueil_id"], ligne["jour"], ligne["unite"]): ligne["etat"]
        for ligne in sv.lectures._lignes(
            f"SELECT accueil_id, jour, unite, etat FROM {schema}.proj_calendrier"
            " WHERE enfant_id = %s AND jour BETWEEN %s AND %s",
            (enfant_id, debut, fin),
        )
    }
    occupation = {
        (ligne["accueil_id"], ligne["jour"], ligne["unite"]): ligne["reserves"]
        for ligne in sv.lectures._lignes(
            f"SELECT accueil_id, jour, unite, reserves FROM {schema}.proj_occupation"
            " WHERE accueil_id = ANY(%s) AND jour BETWEEN %s AND %s",
            ([a.id for a in accueils], debut, fin),
        )
    }
    calendrier = sv.lectures.calendrier
    jours: dict[date, list[tuple[Any, ...]]] = {}
    jour = debut
    while jour <= fin:
        cases: list[tuple[Any, ...]] = []
        for accueil in accueils:
            fermeture = accueil.motif_fermeture(jour, calendrier)
            for unite in accueil.config.unites:
                cle = (accueil.id, jour, unite.code)
                etat = etats.get(cle)
                if etat is None and fermeture is not None:
                    if not accueil.config.periode.contient(jour):
                        continue
                    cases.append((accueil.id, unite.code, "ferme", None, fermeture))
                    continue
                regle = (
                    accueil.config.regle_annulation
                    if etat in MODIFIABLES
                    else accueil.config.regle_reservation
                )
                decision = evaluer(regle, jour, unite.debut or time(0), maintenant, calendrier)
                limite = decision.limite if etat in (None, *MODIFIABLES) else None
                if etat is None:
                    plein = unite.capacite is not None and occupation.get(cle, 0) >= unite.capacite
                    etat = "verrouille" if decision.refusee else "complet" if plein else "libre"
                cases.append((accueil.id, unite.code, etat, limite, None))
        jours[jour] = cases
        jour += timedelta(days=1)
    return jours


def _ete() -> SaisieAccueil:
    """Two places a day, a unit without capacity, bookings until two days before at 18:00."""
    regle = SaisieRegle(ancrage="jour", heure_limite=time(18), decalage_jours=2)
    return SaisieAccueil(
        etablissement="CENTRE D'ETE",
        mode_accueil="Été",
        periode_libelle=f"Été {ANNEE + 1}",
        periode_debut=date(ANNEE + 1, 7, 6),
        periode_fin=date(ANNEE + 1, 8, 28),
        jours=(1, 2, 3, 4, 5),
        unites=(
            SaisieUnite("JOURNEE", "Journée", time(8, 30), time(17, 30), capacite=2),
            SaisieUnite("SOIR", "Soirée", time(17, 30), time(19)),
        ),
        regle_reservation=regle,
        regle_annulation=regle,
    )


def test_le_mois_d_un_enfant_est_celui_de_la_lecture_precedente(settings, base) -> None:
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    generation = construire_services(settings, base, horloge)
    try:
        commune = generer(generation, horloge, 8, 4)
    finally:
        generation.portail.close()

    with TestClient(app=create_app(settings, horloge=horloge, base=base)) as client:
        sv: Services = client.app.state.services
        # Next summer: a small centre where a day fills up, a waiting list, a cancellation and an
        # exceptional closure, beside the generated year's accueils.
        horloge.aller(date(ANNEE + 1, 7, 2), time(9))
        ete = sv.catalogue.creer_accueil(CTX, _ete())
        enfants = commune.enfants
        quinze, seize = date(ANNEE + 1, 7, 15), date(ANNEE + 1, 7, 16)
        for famille, enfant_id in enfants[:3]:
            sv.reservations.reserver(
                CTX,
                famille.famille_id,
                enfant_id,
                ete,
                [DemandeReservation(quinze, "JOURNEE"), DemandeReservation(seize, "SOIR")],
            )
        famille, enfant_id = enfants[0]
        sv.reservations.annuler(
            CTX, famille.famille_id, enfant_id, ete, [DemandeReservation(seize, "SOIR")], None
        )
        sv.catalogue.fermer(CTX, ete, date(ANNEE + 1, 7, 17), "sortie du personnel")
        sv.apres_ecriture()

        sessions: dict[UUID, Session] = {}
        for famille in commune.familles:
            reponse = client.post(
                "/api/auth/connexion",
                json={
                    "email": famille.email,
                    "mot_de_passe": MOT_DE_PASSE_PARENTS,
                    "se_souvenir_de_moi": True,
                },
            )
            assert reponse.status_code == 200, reponse.text
            sessions[famille.famille_id] = Session(client, reponse.json()["token"], "", None)

        vus: set[str] = set()

        def comparer(*mois: str) -> None:
            for famille, enfant_id in enfants:
                for m in mois:
                    reponse = sessions[famille.famille_id].get(
                        f"/api/enfants/{enfant_id}/planning", params={"mois": m}
                    )
                    assert reponse.status_code == 200, reponse.text
                    assert reponse.json() == _ancien_planning(sv, famille.famille_id, enfant_id, m), (
                        m,
                        enfant_id,
                    )
                    vus.update(u["etat"] for j in reponse.json()["jours"] for u in j["unites"])

        annee_scolaire = [
            f"{a}-{m:02d}"
            for a, m in [*((ANNEE, m) for m in range(9, 13)), *((ANNEE + 1, m) for m in range(1, 9))]
        ]
        # Mid-year: past days locked, days to come bookable.
        horloge.maintenant = datetime(ANNEE, 11, 13, 17, tzinfo=PARIS)
        comparer(*annee_scolaire)
        # Summer, just before and just after the deadline of 15 July: the skeleton cached for July
        # is not reused past a deadline.
        horloge.maintenant = datetime(ANNEE + 1, 7, 13, 17, 59, tzinfo=PARIS)
        comparer("2026-06", "2026-07", "2026-08")
        horloge.maintenant = datetime(ANNEE + 1, 7, 13, 18, 0, 1, tzinfo=PARIS)
        comparer("2026-07")
        # A new closure changes the accueil's version: its skeletons are computed again.
        sv.catalogue.fermer(CTX, ete, date(ANNEE + 1, 7, 20), "formation")
        sv.apres_ecriture()
        comparer("2026-07")
        assert {
            "ferme",
            "libre",
            "complet",
            "verrouille",
            "reserve",
            "liste_attente",
            "annule",
            "present",
        } <= vus


def _parent_et_enfant(client: TestClient) -> tuple[Session, str, str]:  # type: ignore[type-arg]
    admin = compte_personnel(client, "admin-mois@example.fr", "admin")
    accueil = creer_accueil(admin)
    parent = nouvelle_famille(client, "mois@example.fr")
    enfant = ajouter_enfant(parent)
    return parent, enfant, accueil


def _lus_pendant(sv: Services, monkeypatch: pytest.MonkeyPatch, lire: Any) -> tuple[list[str], list[str]]:
    """The statements sent while `lire()` runs, and the aggregates read through `Portail.lire`."""
    classes: list[str] = []
    origine = sv.portail.lire

    def lire_note(cls: Any, aggregat_id: Any) -> Any:
        classes.append(cls.__name__)
        return origine(cls, aggregat_id)

    with instructions(sv) as envoyees:
        monkeypatch.setattr(sv.portail, "lire", lire_note)
        try:
            lire()
        finally:
            monkeypatch.undo()
    return envoyees, classes


def test_le_mois_d_un_enfant_est_une_seule_instruction(client, horloge, monkeypatch) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 9, tzinfo=UTC)
    parent, enfant, accueil = _parent_et_enfant(client)
    sv: Services = client.app.state.services
    sessions = sv.comptes.sessions
    assert sessions is not None
    fin = datetime.now(UTC) + timedelta(seconds=15)
    while not sessions.fiable() and datetime.now(UTC) < fin:
        sleep(0.02)
    url = f"/api/enfants/{enfant}/planning"

    def mois() -> None:
        assert parent.get(url, params={"mois": "2021-10"}).status_code == 200

    # Without a planning yet, at an accueil open to every child: nothing to decide about this
    # child, the month is one statement (and the session check none), awaited on the event loop.
    mois()
    assert sv.lecteur_async is not None
    par_la_boucle: list[Any] = []
    lecteur_ligne = sv.lecteur_async.ligne

    async def ligne_notee(*args: Any) -> Any:
        par_la_boucle.append(args)
        return await lecteur_ligne(*args)

    monkeypatch.setattr(sv.lecteur_async, "ligne", ligne_notee)
    mois()
    monkeypatch.undo()
    assert len(par_la_boucle) == 1
    envoyees, lus = _lus_pendant(sv, monkeypatch, mois)
    assert (len(envoyees), lus) == (1, []), envoyees

    assert reserver(parent, enfant, accueil, ("2021-10-05", "SOIR")).status_code == 200
    mois()
    envoyees, lus = _lus_pendant(sv, monkeypatch, mois)
    assert (len(envoyees), lus) == (1, []), envoyees
    cinq = next(
        j for j in parent.get(url, params={"mois": "2021-10"}).json()["jours"] if j["date"] == "2021-10-05"
    )
    assert {u["code"]: u["etat"] for u in cinq["unites"]}["SOIR"] == "reserve"

    # An accueil for some ages only: the child is read (its birth date), not the family; one for
    # the commune's residents only: the family is read (its address).
    admin = compte_personnel(client, "admin-eligibilite@example.fr", "admin")
    petits = creer_accueil(admin, mode_accueil="Petits", eligibilite={"age_max_mois": 72})
    mois()
    _, lus = _lus_pendant(sv, monkeypatch, mois)
    assert "Enfant" in lus and "Famille" not in lus
    ids = {
        u["accueil_id"]
        for j in parent.get(url, params={"mois": "2021-10"}).json()["jours"]
        for u in j["unites"]
    }
    assert accueil in ids and petits not in ids  # born in 2012: too old
    admin.put("/api/admin/parametres", json={"commune": {"nom": "Nantes", "code_postal": "44000"}})
    residents = creer_accueil(admin, mode_accueil="Résidents", eligibilite={"residents_seulement": True})
    mois()
    _, lus = _lus_pendant(sv, monkeypatch, mois)
    assert "Famille" in lus
    ids = {
        u["accueil_id"]
        for j in parent.get(url, params={"mois": "2021-10"}).json()["jours"]
        for u in j["unites"]
    }
    assert residents in ids  # 44000 Nantes
    parent.patch(
        "/api/moi", json={"adresse": {"ligne1": "1 rue Haute", "code_postal": "44300", "commune": "Orvault"}}
    )
    ids = {
        u["accueil_id"]
        for j in parent.get(url, params={"mois": "2021-10"}).json()["jours"]
        for u in j["unites"]
    }
    assert residents not in ids and accueil in ids


def test_l_enfant_d_une_autre_famille_est_introuvable(client) -> None:
    parent, enfant, _ = _parent_et_enfant(client)
    autre = nouvelle_famille(client, "autre-mois@example.fr")
    assert autre.get(f"/api/enfants/{enfant}/planning", params={"mois": "2021-10"}).status_code == 404
    assert autre.get(f"/api/enfants/{enfant}/planning", params={"mois": "1999-10"}).status_code == 404
    assert parent.get(f"/api/enfants/{enfant}/planning", params={"mois": "1999-10"}).status_code == 422
