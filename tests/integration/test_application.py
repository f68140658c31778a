"""Application commands, run the same way on in-memory persistence and on PostgreSQL."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from eventsourcing.persistence import MapperDeserialisationError

from portail.application.comptes import LimitesConnexion, ServiceComptes
from portail.application.contexte import Contexte
from portail.application.familles import ServiceFamilles
from portail.application.mots_de_passe import Hacheur
from portail.application.portail import Portail
from portail.application.saisies import SaisieAdresse, SaisieResponsable, SaisieSante
from portail.domain.capacite import Capacite
from portail.domain.enfant import Enfant
from portail.domain.erreurs import ErreurValidation, Introuvable
from portail.domain.famille import Famille
from portail.domain.index_email import EmailDejaUtilise
from portail.store.securite import EchecsConnexionMemoire

MAINTENANT = datetime(2026, 9, 14, 7, 30, tzinfo=UTC)


@pytest.fixture(params=["memoire", "postgres"])
def portail(request: pytest.FixtureRequest) -> Iterator[Portail]:
    env: dict[str, str] = {}
    if request.param == "postgres":
        env = request.getfixturevalue("base").env_eventsourcing(4, 16)
    app = Portail(env=env, cle_maitre=os.urandom(32), horloge=lambda: MAINTENANT)
    try:
        yield app
    finally:
        app.close()


class CourrierMuet:
    def envoyer(self, destinataire: str, sujet: str, texte: str) -> None:
        pass


def _service_comptes(portail: Portail) -> ServiceComptes:
    return ServiceComptes(
        portail,
        Hacheur(1024, 1),
        EchecsConnexionMemoire(),
        LimitesConnexion(5, 50, timedelta(minutes=15)),
        CourrierMuet(),
        "http://127.0.0.1:8000",
        secret=b"s" * 32,
    )


@pytest.fixture
def comptes(portail: Portail) -> ServiceComptes:
    return _service_comptes(portail)


CTX = Contexte("correlation-test", role="parent")


def _inscrire(comptes: ServiceComptes, email: str) -> tuple:
    return comptes.inscrire(
        CTX,
        email,
        "Motdepasse-2026",
        SaisieResponsable(civilite="Mme", nom="Martin", prenom="Claire", telephone="0612345678"),
        SaisieAdresse("1 rue A", "44000", "Nantes"),
    )


def test_inscription_puis_famille_lisible(comptes: ServiceComptes, portail: Portail) -> None:
    compte_id, famille_id = _inscrire(comptes, "a@example.fr")
    famille = portail.charger(Famille, famille_id)
    assert famille.comptes == [compte_id]
    assert famille.responsable is not None
    assert famille.responsable.prenom == "Claire"
    assert comptes.connecter("a@example.fr", "Motdepasse-2026", "127.0.0.1").id == compte_id
    with pytest.raises(EmailDejaUtilise):
        _inscrire(comptes, "A@example.fr")


def test_chaque_evenement_porte_qui_quand_pourquoi(comptes: ServiceComptes, portail: Portail) -> None:
    _, famille_id = _inscrire(comptes, "audit@example.fr")
    familles = ServiceFamilles(portail)
    ctx = Contexte("req-42", role="regisseur", motif="attestation CAF reçue")
    familles.enregistrer_quotient(ctx, famille_id, 615, date(2026, 9, 1), "caf")
    evenements = list(portail.events.get(famille_id))
    assert all(getattr(e, "audit", None) for e in evenements)
    dernier = evenements[-1].audit  # type: ignore[attr-defined]
    assert dernier["correlation_id"] == "req-42"
    assert dernier["acteur"]["role"] == "regisseur"
    assert dernier["motif"] == "attestation CAF reçue"
    assert dernier["horodatage"] == MAINTENANT.isoformat()
    premier = evenements[0].audit  # type: ignore[attr-defined]
    assert premier["acteur"]["role"] == "parent"
    assert premier["acteur"]["compte_id"] is not None


def test_donnees_invalides_rien_n_est_enregistre(comptes: ServiceComptes, portail: Portail) -> None:
    _, famille_id = _inscrire(comptes, "rien@example.fr")
    familles = ServiceFamilles(portail)
    version = portail.charger(Famille, famille_id).version
    with pytest.raises(ErreurValidation) as erreur:
        familles.signer_mandat(CTX, famille_id, "", "FR7630006000011234567890188", "PASUNBIC")
    assert {e.champ for e in erreur.value.erreurs} == {"titulaire", "iban", "bic"}
    with pytest.raises(ErreurValidation):
        familles.ajouter_enfant(CTX, famille_id, "Martin", "", date(2030, 1, 1))
    assert portail.charger(Famille, famille_id).version == version


def test_enfant_d_une_autre_famille_introuvable(comptes: ServiceComptes, portail: Portail) -> None:
    _, f1 = _inscrire(comptes, "f1@example.fr")
    _, f2 = _inscrire(comptes, "f2@example.fr")
    familles = ServiceFamilles(portail)
    enfant = familles.ajouter_enfant(CTX, f1, "Martin", "Léo", date(2016, 1, 1))
    with pytest.raises(Introuvable):
        familles.modifier_sante(CTX, f2, enfant, SaisieSante(allergies=["x"]))
    assert portail.charger(Enfant, enfant).sante is None


def test_instantane_egal_au_rejeu(comptes: ServiceComptes, portail: Portail) -> None:
    _, famille_id = _inscrire(comptes, "snap@example.fr")
    familles = ServiceFamilles(portail)
    for i in range(60):
        familles.modifier_foyer(CTX, famille_id, {"situation_familiale": "marie" if i % 2 else "pacse"})
    familles.enregistrer_quotient(CTX, famille_id, 900, date(2026, 1, 1), "msa")
    avec_instantane = portail.repository.get(famille_id)
    rejoue = None
    for evenement in portail.events.get(famille_id):
        rejoue = evenement.mutate(rejoue)  # type: ignore[attr-defined]
    assert portail.snapshots is not None
    instantanes = list(portail.snapshots.get(famille_id))
    assert instantanes
    assert vars(avec_instantane) == vars(rejoue)
    # Each snapshot, taken from the aggregate in memory as it was saved, holds the state the
    # log's events give at its version.
    for instantane in instantanes:
        plie = None
        for evenement in portail.events.get(famille_id, lte=instantane.originator_version):
            plie = evenement.mutate(plie)  # type: ignore[attr-defined]
        assert vars(instantane.mutate(None)) == vars(plie)  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_inscriptions_simultanees_meme_email_une_seule_reussit(base) -> None:
    app = Portail(env=base.env_eventsourcing(8, 16), cle_maitre=os.urandom(32))
    service = _service_comptes(app)
    resultats: list[str] = []
    depart = threading.Barrier(8)

    def inscrire() -> None:
        depart.wait()
        try:
            _inscrire(service, "course@example.fr")
            resultats.append("ok")
        except EmailDejaUtilise:
            resultats.append("pris")

    fils = [threading.Thread(target=inscrire) for _ in range(8)]
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    app.close()
    assert sorted(resultats) == ["ok"] + ["pris"] * 7


@pytest.mark.postgres
def test_modifications_simultanees_aucune_perdue(base) -> None:
    app = Portail(env=base.env_eventsourcing(8, 16), cle_maitre=os.urandom(32))
    service = _service_comptes(app)
    _, famille_id = _inscrire(service, "fratrie@example.fr")
    familles = ServiceFamilles(app)
    depart = threading.Barrier(6)

    def ajouter(i: int) -> None:
        depart.wait()
        familles.ajouter_enfant(CTX, famille_id, "Martin", f"Enfant {i}", date(2015, 1, 1))

    fils = [threading.Thread(target=ajouter, args=(i,)) for i in range(6)]
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    famille = app.charger(Famille, famille_id)
    prenoms = sorted(app.charger(Enfant, e).identite.prenom for e in famille.enfants)  # type: ignore[union-attr]
    app.close()
    assert prenoms == [f"Enfant {i}" for i in range(6)]


@pytest.mark.postgres
def test_chiffre_deplace_vers_une_autre_famille_est_refuse(base) -> None:
    import psycopg
    from psycopg import sql

    app = Portail(env=base.env_eventsourcing(4, 8), cle_maitre=os.urandom(32))
    service = _service_comptes(app)
    _, f1 = _inscrire(service, "un@example.fr")
    _, f2 = _inscrire(service, "deux@example.fr")
    table = sql.SQL("{}.portail_events").format(sql.Identifier(base.schema))
    with psycopg.connect(base.url, autocommit=True) as conn:
        (etat,) = conn.execute(
            sql.SQL("SELECT state FROM {} WHERE originator_id = %s AND originator_version = 1").format(table),
            (f1,),
        ).fetchone()  # type: ignore[misc]
        conn.execute(
            sql.SQL("UPDATE {} SET state = %s WHERE originator_id = %s AND originator_version = 1").format(
                table
            ),
            (etat, f2),
        )
    with pytest.raises(MapperDeserialisationError):
        list(app.events.get(f2))
    app.close()


def test_instantane_d_une_capacite_avec_sa_liste_d_attente(portail: Portail) -> None:
    """A summer day's Capacite with a long waiting list: its snapshot (taken as saved, without
    the list's index) loads to the state the log's events give, index rebuilt."""
    jour, accueil_id = date(2027, 7, 19), uuid4()
    capacite = Capacite(id=Capacite.id_pour(accueil_id, jour), accueil_id=accueil_id, jour=jour)
    enfants = [uuid4() for _ in range(150)]
    for enfant in enfants:
        capacite.demander(enfant, "JOURNEE", 20, liste_attente=True)
        portail.save(capacite)
    capacite.liberer(enfants[30], "JOURNEE")
    portail.save(capacite)
    assert portail.snapshots is not None
    assert [i.originator_version for i in portail.snapshots.get(capacite.id)] == [100]
    portail.cache.vider()
    charge = portail.repository.get(capacite.id)
    rejoue = None
    for evenement in portail.events.get(capacite.id):
        rejoue = evenement.mutate(rejoue)  # type: ignore[attr-defined]
    assert vars(charge) == vars(rejoue)
    assert charge.en_attente(enfants[100], "JOURNEE") and not charge.en_attente(enfants[30], "JOURNEE")
    assert not charge.en_attente(enfants[5], "JOURNEE")  # one of the 20 with a place
