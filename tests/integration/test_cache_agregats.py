"""Aggregates kept in memory: trusted without a query while the log is followed, dropped when
another process records a newer version or erases their family, never changed by a command."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from outils_sql import instructions
from portail.application.contexte import Contexte
from portail.bootstrap import Services, construire_services
from portail.domain.enfant import Enfant
from portail.domain.personnes import IdentiteEnfant, Scolarite
from portail.domain.planning import Etat, Ligne, Planning

pytestmark = pytest.mark.postgres

CTX = Contexte.systeme("test-cache")


def _attendre(condition: Callable[[], bool], delai: float = 2.0) -> float:
    """Seconds until `condition` held (fails after `delai`)."""
    debut = time.monotonic()
    while not condition():
        assert time.monotonic() - debut < delai, "condition jamais remplie"
        time.sleep(0.005)
    return time.monotonic() - debut


def _enfant(prenom: str) -> Enfant:
    return Enfant(
        famille_id=uuid.uuid4(),
        identite=IdentiteEnfant("Martin", prenom, date(2018, 5, 4), "Nantes"),
        scolarite=Scolarite("École Jules Ferry", None, None),
    )


@pytest.fixture
def deux(services: Services, settings, base, horloge) -> Iterator[tuple[Services, Services]]:
    """Two processes' services on one database, each following the log."""
    autre = construire_services(settings, base, horloge, projections=False)
    try:
        for sv in (services, autre):
            sv.portail.ecouter_journal()
        _attendre(lambda: services.portail.cache.fiable and autre.portail.cache.fiable, 5.0)
        yield services, autre
    finally:
        autre.portail.close()


def test_un_agregat_garde_se_lit_sans_requete_et_suit_les_changements_d_un_autre_processus(deux) -> None:
    ici, ailleurs = deux
    enfant = _enfant("Léa")
    ici.portail.enregistrer(CTX, enfant)
    lu = ailleurs.portail.lire(Enfant, enfant.id)
    with instructions(ailleurs) as envoyees:
        assert ailleurs.portail.lire(Enfant, enfant.id) is lu
    assert envoyees == []

    modifie = ici.portail.charger(Enfant, enfant.id)
    modifie.modifier_identite(IdentiteEnfant("Martin", "Léa-Rose", date(2018, 5, 4), "Nantes"))
    ici.portail.enregistrer(CTX, modifie)
    _attendre(lambda: not ailleurs.portail.cache.contient(enfant.id), 1.0)
    relu = ailleurs.portail.lire(Enfant, enfant.id)
    assert relu.identite is not None
    assert relu.identite.prenom == "Léa-Rose"


def test_les_enregistrements_du_processus_ne_sont_pas_relus_ceux_d_un_autre_le_sont(deux) -> None:
    """The log's reader of a process does not read back what the process itself committed (its
    notification names positions the process knows); another process's save is read, and drops
    the aggregate it changed."""
    ici, ailleurs = deux
    cache = ici.portail.cache
    lectures: list[int] = []
    origine = cache._rattraper

    def compter(connexion: Any, table: str, position: int) -> int:
        lectures.append(position)
        return origine(connexion, table, position)

    cache._rattraper = compter  # type: ignore[method-assign]
    enfants = [_enfant(f"Enfant {n}") for n in range(20)]
    for enfant in enfants:
        ici.portail.enregistrer(CTX, enfant)
    time.sleep(0.3)
    # Twenty saves, each notified: at most one read (a wake after a quiet while reads anyway).
    assert len(lectures) <= 1, lectures
    assert cache.fiable
    assert ici.portail.lire(Enfant, enfants[0].id).version == enfants[0].version

    avant = len(lectures)
    modifie = ailleurs.portail.charger(Enfant, enfants[0].id)
    modifie.modifier_identite(IdentiteEnfant("Martin", "Autre", date(2018, 5, 4), "Nantes"))
    ailleurs.portail.enregistrer(CTX, modifie)
    _attendre(lambda: len(lectures) > avant, 1.0)
    _attendre(lambda: not cache.contient(enfants[0].id), 1.0)
    identite = ici.portail.lire(Enfant, enfants[0].id).identite
    assert identite is not None and identite.prenom == "Autre"


def test_une_commande_decide_sur_une_copie(deux) -> None:
    ici, _ = deux
    planning = Planning(
        id=uuid.uuid4(), enfant_id=uuid.uuid4(), accueil_id=uuid.uuid4(), famille_id=uuid.uuid4()
    )
    planning.reserver([Ligne(date(2026, 9, 7), "SOIR")])
    ici.portail.enregistrer(CTX, planning)

    copie = ici.portail.repository.get(planning.id)
    copie.annuler([Ligne(date(2026, 9, 7), "SOIR")], None)
    # Never saved (the command failed after deciding): what is kept is unchanged.
    relu = ici.portail.repository.get(planning.id)
    assert relu.version == planning.version
    assert relu.etat(date(2026, 9, 7), "SOIR").value == "reserve"
    assert relu.pending_events == []


def test_un_conflit_retire_la_copie_perimee(deux) -> None:
    ici, ailleurs = deux
    planning = Planning(
        id=uuid.uuid4(), enfant_id=uuid.uuid4(), accueil_id=uuid.uuid4(), famille_id=uuid.uuid4()
    )
    ici.portail.enregistrer(CTX, planning)
    perimee = ici.portail.repository.get(planning.id)
    # Another process books first.
    gagnante = ailleurs.portail.repository.get(planning.id)
    gagnante.reserver([Ligne(date(2026, 9, 7), "SOIR")])
    ailleurs.portail.enregistrer(CTX, gagnante)

    perimee.reserver([Ligne(date(2026, 9, 8), "SOIR")])
    with pytest.raises(IntegrityError):
        ici.portail.enregistrer(CTX, perimee)
    assert not ici.portail.cache.contient(planning.id)
    relu = ici.portail.repository.get(planning.id)
    assert relu.version == gagnante.version
    assert relu.etat(date(2026, 9, 7), "SOIR") is not None


def test_l_effacement_d_un_enfant_retire_ses_agregats_gardes_partout(deux) -> None:
    ici, ailleurs = deux
    enfant = _enfant("Noé")
    ici.portail.enregistrer(CTX, enfant)
    planning = Planning(
        id=Planning.id_pour(enfant.id, uuid.uuid4()),
        enfant_id=enfant.id,
        accueil_id=uuid.uuid4(),
        famille_id=enfant.famille_id,
    )
    planning.annuler([Ligne(date(2026, 9, 7), "SOIR")], "rendez-vous médical")
    ici.portail.enregistrer(CTX, planning)
    ailleurs.portail.repository.get(planning.id)
    assert ailleurs.portail.cache.contient(planning.id)

    efface = ici.portail.charger(Enfant, enfant.id)
    efface.effacer(date(2026, 12, 2))
    ici.portail.enregistrer(CTX, efface)
    # The planning itself has no new event: it goes because its child was erased.
    _attendre(lambda: not ailleurs.portail.cache.contient(planning.id), 1.0)


def test_une_reservation_d_un_appelant_seul_est_une_instruction(deux, horloge) -> None:
    from outils_proprietes import JOURS, MOMENT, _accueil, _familles
    from portail.domain.reservation import DemandeReservation, Statut

    ici, _ = deux
    horloge.maintenant = MOMENT
    accueil_id = _accueil(ici, 30)
    [(famille_id, enfant_id)] = _familles(ici, 1)
    # A first booking loads what it needs (the child, the family, the accueil, the days).
    premier = ici.reservations.reserver(
        CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(JOURS[0], "SOIR")]
    )
    assert [r.statut for r in premier] == [Statut.RESERVE]
    ici.reservations.annuler(
        CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(JOURS[0], "SOIR")], None
    )
    _attendre(lambda: ici.portail.cache.fiable)
    with instructions(ici) as envoyees:
        resultats = ici.reservations.reserver(
            CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(JOURS[0], "SOIR")]
        )
    assert [r.statut for r in resultats] == [Statut.RESERVE]
    # Decided on the kept aggregates; events, calendar and counter rows in one statement.
    assert len(envoyees) == 1, envoyees


def test_une_premiere_reservation_lit_l_enfant_la_famille_et_le_planning_ensemble(deux, horloge) -> None:
    """A child's first booking at an accueil, with neither the child nor the family in memory: the
    three aggregates it reads come in one statement, the save is the other one; the booking is
    the same as when they are read one by one."""
    from outils_proprietes import JOURS, MOMENT, _accueil, _familles
    from portail.domain.reservation import DemandeReservation, Statut

    ici, _ = deux
    horloge.maintenant = MOMENT
    accueil_id = _accueil(ici, 30)
    [(famille_id, enfant_id), (autre_famille, autre_enfant)] = _familles(ici, 2)
    # Warm: the accueil, its days and the settings are kept; the families and children are not.
    ici.reservations.reserver(
        CTX, autre_famille, autre_enfant, accueil_id, [DemandeReservation(JOURS[0], "SOIR")]
    )
    _attendre(lambda: ici.portail.cache.fiable)
    ici.portail.cache.retirer([famille_id, enfant_id])
    with instructions(ici) as envoyees:
        resultats = ici.reservations.reserver(
            CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(JOURS[0], "SOIR")]
        )
    assert [r.statut for r in resultats] == [Statut.RESERVE]
    assert len(envoyees) == 2, envoyees
    planning = ici.portail.lire(Planning, Planning.id_pour(enfant_id, accueil_id))
    assert planning.etat(JOURS[0], "SOIR") is Etat.RESERVE


def test_la_reconstruction_des_vues_est_refusee_tant_qu_une_api_sert(
    deux, base, settings, monkeypatch
) -> None:
    from click.testing import CliRunner

    from portail.cli import main

    ici, ailleurs = deux
    assert ici.portail.processus_ecrivains() == 1  # the other one; a process does not count itself
    environnement = {
        "PORTAIL_DATABASE_URL": base.url,
        "PORTAIL_DATABASE_SCHEMA": base.schema,
        "PORTAIL_MASTER_KEY": settings.master_key,
        "PORTAIL_SECRET_KEY": settings.secret_key,
        "PORTAIL_DATA_DIR": str(settings.data_dir),
    }
    refus = CliRunner().invoke(main, ["projections", "rebuild"], env=environnement)
    assert refus.exit_code != 0
    assert "arrêtez-les" in refus.output
    # The api stopped (its listener with it), this one's listener too: nobody serves the schema.
    ailleurs.portail.close()
    ici.portail.cache.arreter()
    _attendre(lambda: ici.portail.processus_ecrivains() == 0)
    reconstruit = CliRunner().invoke(main, ["projections", "rebuild"], env=environnement)
    assert reconstruit.exit_code == 0, reconstruit.output


def test_l_etat_publie_par_une_commande_est_garde_tel_quel_apres_son_enregistrement() -> None:
    """The copy a booking published when it queued its save is the aggregate as saved: once the
    save is committed it is kept as it is, without the save, and only that version is recognised."""
    from portail.domain.capacite import Capacite
    from portail.store.cache_agregats import CacheAgregats

    cache = CacheAgregats()
    jour = date(2027, 7, 19)
    capacite = Capacite(id=uuid.uuid4(), accueil_id=uuid.uuid4(), jour=jour)
    capacite.demander(uuid.uuid4(), "JOURNEE", 10, liste_attente=True)
    assert not cache.confirmer_publie(capacite.id, capacite.version)
    cache.poser(capacite)
    assert not cache.confirmer_publie(capacite.id, capacite.version)  # kept, but not by a queued save
    from portail.store.ecrivain import Ecrivain

    depot = Ecrivain(lambda appel: ["ok"], lambda _g: "echec", lambda r: r == "ok").deposer("groupe")
    cache.poser(capacite, depot)
    assert not cache.confirmer_publie(capacite.id, capacite.version + 1)
    # Not before its save is finished (the state may be another command's, at the same version).
    assert not cache.confirmer_publie(capacite.id, capacite.version)
    depot.resultat, depot.fini = "ok", True
    assert cache.confirmer_publie(capacite.id, capacite.version)
    # Confirmed: the same state, kept without its save (whose events and rows can go).
    assert cache.prendre(capacite.id) == (capacite, None)
    assert cache._entrees[capacite.id][2] is None


def test_une_reservation_ne_lit_la_famille_que_si_sa_residence_compte(deux, horloge, monkeypatch) -> None:
    """An accueil open alike to every family (no residents-only rule, no later opening for the
    others): deciding a booking needs the child and the planning, not the family."""
    from outils_proprietes import JOURS, MOMENT, _accueil, _familles
    from portail.domain.reservation import DemandeReservation, Statut

    ici, _ = deux
    horloge.maintenant = MOMENT
    accueil_id = _accueil(ici, 30)
    [(famille_id, enfant_id)] = _familles(ici, 1)
    ici.portail.cache.retirer([famille_id, enfant_id])
    precharges: list[Any] = []
    residences: list[Any] = []
    precharger, resident = ici.portail.precharger, ici.reservations.resident
    monkeypatch.setattr(ici.portail, "precharger", lambda *ids: (precharges.extend(ids), precharger(*ids)))
    monkeypatch.setattr(ici.reservations, "resident", lambda f: (residences.append(f), resident(f))[1])
    resultats = ici.reservations.reserver(
        CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(JOURS[0], "SOIR")]
    )
    assert [r.statut for r in resultats] == [Statut.RESERVE]
    assert enfant_id in precharges and famille_id not in precharges
    assert residences == []


def test_une_reservation_avec_une_cle_nouvelle_est_une_instruction_et_sa_reprise_ne_reserve_rien(
    deux, horloge
) -> None:
    """A booking's key is not looked up first: the save carries its row, so a new key costs no
    statement of its own. Sent again, the key's stored answer comes back and nothing is recorded;
    the full day's Capacite that the repeat read stays kept (it did not change it): the next
    booking on that day is still one statement."""
    from dataclasses import replace

    import msgspec

    from outils_proprietes import JOURS, MOMENT, _accueil, _familles
    from portail.domain.reservation import DemandeReservation, Statut
    from portail.store.idempotence import CleReutilisee

    ici, _ = deux
    horloge.maintenant = MOMENT
    accueil_id = _accueil(ici, 1, liste_attente="aucune")
    familles = _familles(ici, 3)
    compte_id = uuid.uuid4()

    def reserver(cle: str, corps: bytes, rang: int, jour: date = JOURS[0]) -> list[str]:
        famille_id, enfant_id = familles[rang]
        reponse = ici.idempotence.servir(
            compte_id,
            cle,
            corps,
            lambda resultats: msgspec.json.encode([r.statut.value for r in resultats]),
            lambda en_cours: ici.reservations.reserver(
                replace(CTX, idempotence=en_cours),
                famille_id,
                enfant_id,
                accueil_id,
                [DemandeReservation(jour, "SOIR")],
            ),
            lire_d_abord=False,
        )
        return list(msgspec.json.decode(reponse.corps))

    # The day's only place goes to the first child; the others' children are kept.
    assert reserver("cle-0", b"0", 0) == [Statut.RESERVE.value]
    for famille_id, enfant_id in familles[1:]:
        ici.portail.precharger(famille_id, enfant_id, Planning.id_pour(enfant_id, accueil_id))
    _attendre(lambda: ici.portail.cache.fiable)
    with instructions(ici) as envoyees:
        premiere = reserver("cle-1", b"corps", 1)
    assert premiere == [Statut.REFUSE.value]
    assert len(envoyees) == 1, envoyees
    evenements = ici.portail.recorder.max_notification_id()

    assert reserver("cle-1", b"corps", 1) == premiere
    with pytest.raises(CleReutilisee):
        reserver("cle-1", b"un autre corps", 1, JOURS[1])
    assert ici.portail.recorder.max_notification_id() == evenements

    with instructions(ici) as envoyees:
        assert reserver("cle-2", b"corps", 2) == [Statut.REFUSE.value]
    assert len(envoyees) == 1, envoyees


def test_une_promotion_decidee_sur_un_planning_perime_est_decidee_a_nouveau(deux, horloge) -> None:
    """A child waits for a day in another process's save, which this process has not heard of
    yet: a cancellation here that frees the place promotes the child from the day's list read
    from the log, while the child's planning this process keeps still says it is not waiting.
    The save checks the version of that planning, read and left as it was: it fails, and the
    command decides again on the planning read anew. Both aggregates then agree."""
    import threading

    from outils_proprietes import JOURS, MOMENT, _accueil, _familles
    from portail.domain.capacite import Capacite
    from portail.domain.reservation import DemandeReservation, Statut

    ici, ailleurs = deux
    horloge.maintenant = MOMENT
    accueil_id = _accueil(ici, 1)
    (famille_w, enfant_w), (famille_x, enfant_x) = _familles(ici, 2)
    jour, autre_jour = JOURS[0], JOURS[1]
    assert (
        ici.reservations.reserver(CTX, famille_w, enfant_w, accueil_id, [DemandeReservation(jour, "SOIR")])[
            0
        ].statut
        is Statut.RESERVE
    )
    ici.reservations.reserver(CTX, famille_x, enfant_x, accueil_id, [DemandeReservation(autre_jour, "SOIR")])
    planning_x = Planning.id_pour(enfant_x, accueil_id)
    assert ici.portail.cache.contient(planning_x)

    # This process's reader of the log is held back: what the other process records next is
    # not known here yet, and what is kept is still trusted.
    libre = threading.Event()
    origine = ici.portail.cache._rattraper

    def retenu(connexion: Any, table: str, position: int) -> int:
        libre.wait(10)
        return origine(connexion, table, position)

    ici.portail.cache._rattraper = retenu  # type: ignore[method-assign]
    try:
        attente = ailleurs.reservations.reserver(
            CTX, famille_x, enfant_x, accueil_id, [DemandeReservation(jour, "SOIR")]
        )
        assert attente[0].statut is Statut.LISTE_ATTENTE
        # The day is not kept here (never read, or dropped): it is read from the log.
        ici.portail.cache.retirer([Capacite.id_pour(accueil_id, jour)])
        assert ici.portail.cache.fiable
        ici.reservations.annuler(
            CTX, famille_w, enfant_w, accueil_id, [DemandeReservation(jour, "SOIR")], None
        )
    finally:
        libre.set()

    lus = ailleurs.portail.lire_lot(Planning, [planning_x])
    capacite = ailleurs.portail.lire_lot(Capacite, [Capacite.id_pour(accueil_id, jour)])
    [places] = [c.places.get("SOIR", []) for c in capacite.values()]
    assert places == [enfant_x]
    assert lus[planning_x].etat(jour, "SOIR") is Etat.RESERVE
