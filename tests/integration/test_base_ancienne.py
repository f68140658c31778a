"""A database written by an older version upgrades: its events decode to the same values (fields
added to value objects since read as their defaults), its chain verifies, its campaigns replay to their digests, and new commands extend it.

The fixture (tests/donnees/base_ancienne*.json.xz) was written by commit 2504ac7's code through
the application (tests/donnees/produire_base_ancienne.py says how); its rows are loaded as they
were and the application is started on them, as an upgrade would.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import lzma
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from portail.application.audit import Filtres
from portail.application.contexte import Contexte
from portail.application.saisies import SaisieSante
from portail.bootstrap import Services, construire_services
from portail.domain.campagne import Facture
from portail.domain.enfant import Enfant
from portail.domain.facturation import Periode
from portail.domain.famille import Famille
from portail.projections.evenements_lus import REDUCTIONS
from portail.settings import Settings
from portail.store.database import BaseDeDonnees
from portail.store.format_evenements import EXT_ENVELOPPE, FORMAT_JSON, FORMAT_MSGPACK, format_de

from canonique import evenement_canonique, sans_champs_ajoutes

pytestmark = pytest.mark.postgres

DONNEES = Path(__file__).resolve().parents[1] / "donnees"


def _lire(nom: str) -> dict[str, Any]:
    contenu: dict[str, Any] = json.loads(lzma.decompress((DONNEES / nom).read_bytes()))
    return contenu


MONTEES: dict[str, dict[str, Any]] = {"portail:Campagne.Preparee": {"version_empreinte": 1}}
"""Event attributes added since the fixture was written by an upcast, and what an old event reads."""


@pytest.fixture(scope="module")
def dump() -> dict[str, Any]:
    return _lire("base_ancienne.json.xz")


@pytest.fixture(scope="module")
def attendu() -> dict[str, Any]:
    contenu: dict[str, Any] = _lire("base_ancienne_attendu.json.xz")
    return contenu


def _charger(base: BaseDeDonnees, dump: dict[str, Any]) -> None:
    """The old tables, created and filled as the old code left them."""
    assert base.schema
    with psycopg.connect(base.url) as conn:
        for nom, table in dump["tables"].items():
            creation, reste = table["ddl"][0], table["ddl"][1:]
            conn.execute(creation.replace("{schema}", base.schema))
            colonnes = sql.SQL(", ").join(sql.Identifier(c) for c in table["colonnes"])
            copie = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(base.schema, nom), colonnes)
            with conn.cursor() as curs, curs.copy(copie) as flux:
                for ligne in table["lignes"]:
                    flux.write_row(ligne)
            for instruction in reste:
                conn.execute(instruction.replace("{schema}", base.schema))


@pytest.fixture
def services_ancienne(
    dump: dict[str, Any], base: BaseDeDonnees, settings: Settings, horloge: Any
) -> Iterator[Services]:
    _charger(base, dump)
    reglages = dataclasses.replace(settings, master_key=dump["meta"]["cle_maitre"])
    assert len(base64.b64decode(reglages.master_key or "")) == 32
    sv = construire_services(reglages, base, horloge)
    try:
        yield sv
    finally:
        sv.portail.close()


def test_chaque_evenement_se_decode_comme_avant(services_ancienne: Services, attendu: dict[str, Any]) -> None:
    portail = services_ancienne.portail
    notifications = portail.recorder.select_notifications(start=None, limit=len(attendu["evenements"]) + 1)
    assert len(notifications) == len(attendu["evenements"])
    for notification, prevu in zip(notifications, attendu["evenements"], strict=True):
        lu = {
            "position": notification.id,
            "originator_id": str(notification.originator_id),
            "version": notification.originator_version,
            "topic": notification.topic,
            "valeurs": evenement_canonique(portail.mapper.to_domain_event(notification)),
        }
        lu["valeurs"] = sans_champs_ajoutes(lu["valeurs"], prevu["valeurs"])
        for nom, valeur in MONTEES.get(notification.topic, {}).items():
            # Added by a class-version upcast: an old event reads it as this value.
            assert lu["valeurs"].pop(nom) == valeur, (notification.topic, nom)
        assert lu == prevu, f"position {prevu['position']} ({prevu['topic']})"
    for prevu in attendu["instantanes"]:
        instantanes = portail.snapshots.get(UUID(prevu["originator_id"])) if portail.snapshots else []
        instantane = next(i for i in instantanes if i.originator_version == prevu["version"])
        assert sans_champs_ajoutes(evenement_canonique(instantane), prevu["valeurs"]) == prevu["valeurs"]


def test_les_champs_effaces_restent_illisibles_les_autres_se_lisent(
    services_ancienne: Services, dump: dict[str, Any]
) -> None:
    portail = services_ancienne.portail
    familles = dump["meta"]["familles"]
    effacee = portail.charger(Famille, UUID(familles["effacee"]))
    assert effacee.effacee
    assert effacee.responsable is None
    assert all(portail.charger(Enfant, e).identite is None for e in effacee.enfants)
    # Its accounting facts stay readable.
    assert [q.valeur for q in effacee.quotients] == [742]
    conservee = portail.charger(Famille, UUID(familles["conservee"]))
    assert conservee.responsable is not None
    assert conservee.responsable.nom == "Peje"
    sante = portail.charger(Enfant, conservee.enfants[0]).sante
    assert sante is not None
    assert sante.pai
    assert sante.allergies == ("arachide",)


def test_la_chaine_se_verifie(services_ancienne: Services, attendu: dict[str, Any]) -> None:
    verification = services_ancienne.portail.verifier_chaine()
    assert verification.ok, verification.premiere_anomalie
    assert verification.evenements_verifies == attendu["chaine"]["evenements"] == len(attendu["evenements"])
    assert verification.derniere_empreinte == attendu["chaine"]["derniere_empreinte"]


def test_chaque_campagne_se_rejoue_a_son_empreinte(
    services_ancienne: Services, attendu: dict[str, Any]
) -> None:
    facturation = services_ancienne.facturation
    enregistrees = facturation.faits_campagnes()
    assert {str(i) for i in enregistrees} == {c["id"] for c in attendu["campagnes"]}
    assert any(c["campagne_origine"] for c in attendu["campagnes"])
    assert not all(c["emise"] for c in attendu["campagnes"])
    for prevue in attendu["campagnes"]:
        campagne = enregistrees[UUID(prevue["id"])]
        assert (campagne.periode, campagne.position, campagne.empreinte) == (
            prevue["periode"],
            prevue["position"],
            prevue["empreinte"],
        )
        # The campaign's own lines (a corrective one: its differences), then the replay route's
        # computation at its position.
        assert facturation.lignes(campagne).empreinte == prevue["empreinte"]
        if prevue["campagne_origine"] is None:
            rejeu = facturation.calculer(Periode.lire(prevue["periode"]), prevue["position"])
            assert rejeu.empreinte == prevue["empreinte"]


def test_apres_la_mise_a_jour_une_commande_s_enregistre_et_la_chaine_tient(
    services_ancienne: Services, dump: dict[str, Any], attendu: dict[str, Any]
) -> None:
    sv = services_ancienne
    famille_id = UUID(dump["meta"]["familles"]["conservee"])
    ctx = Contexte.systeme("test-mise-a-jour")
    enfant_id = sv.familles.ajouter_enfant(
        ctx, famille_id, "Peje", "Enfant 3", date(2022, 3, 4), "Nantes", None, None, None
    )
    sv.familles.modifier_sante(ctx, famille_id, enfant_id, SaisieSante(allergies=["gluten"]))
    nouveaux = len(sv.portail.recorder.select_notifications(start=None, limit=100_000)) - len(
        attendu["evenements"]
    )
    assert nouveaux == 3  # EnfantAjoute, Inscrit, SanteModifiee
    verification = sv.portail.verifier_chaine()
    assert verification.ok, verification.premiere_anomalie
    assert verification.evenements_verifies == len(attendu["evenements"]) + nouveaux
    # The family's old key still encrypts and decrypts its new events, beside the old ones.
    famille = sv.portail.charger(Famille, famille_id)
    assert famille.enfants[-1] == enfant_id
    assert famille.responsable is not None
    assert famille.responsable.nom == "Peje"
    enfant = sv.portail.charger(Enfant, enfant_id)
    assert enfant.identite is not None
    assert enfant.identite.prenom == "Enfant 3"
    assert enfant.sante is not None
    assert enfant.sante.allergies == ("gluten",)


def test_chaque_evenement_ecrit_au_nouveau_format_se_relit_a_l_identique(
    services_ancienne: Services, attendu: dict[str, Any], base: BaseDeDonnees
) -> None:
    """Every kind of event the old database holds, written again in the MessagePack format (with
    its personal fields encrypted under the same keys), reads back to the same values, in fewer bytes.

    A date-time is stored as an instant: one written with the Paris offset reads back in UTC."""
    portail = services_ancienne.portail
    mapper = portail.mapper
    notifications = portail.recorder.select_notifications(start=None, limit=len(attendu["evenements"]) + 1)
    octets_avant = octets_apres = 0
    chiffres = 0
    for notification, prevu in zip(notifications, attendu["evenements"], strict=True):
        assert format_de(notification.state) == FORMAT_JSON
        # A subject's first event takes no key lookup (a new subject has none): its stored key
        # is put in the cache first, as a save of a real first event would find none.
        portail.trousseau.cle_pour_lire(notification.originator_id)
        reecrit = mapper.to_stored_event(mapper.to_domain_event(notification))
        assert format_de(reecrit.state) == FORMAT_MSGPACK
        assert (reecrit.originator_id, reecrit.originator_version, reecrit.topic) == (
            notification.originator_id,
            notification.originator_version,
            notification.topic,
        )
        ancien = _en_utc(prevu["valeurs"])
        relu = sans_champs_ajoutes(evenement_canonique(mapper.to_domain_event(reecrit)), ancien)
        for nom, valeur in MONTEES.get(notification.topic, {}).items():
            assert relu.pop(nom) == valeur, (notification.topic, nom)
        assert relu == ancien, f"position {prevu['position']} ({prevu['topic']})"
        # An envelope is a MessagePack ext 8 (0xc7, length, type).
        chiffres += re.search(b"\xc7.%c" % EXT_ENVELOPPE, reecrit.state, re.DOTALL) is not None
        octets_avant += len(notification.state)
        octets_apres += len(reecrit.state)
    # Stored keys only; the first events of erased subjects ask for new ones, which a save refuses.
    en_attente = {sujet for sujet, _, _ in portail.trousseau.cles_en_attente()}
    with psycopg.connect(base.url) as conn:
        effaces = {
            ligne[0]
            for ligne in conn.execute(
                sql.SQL("SELECT sujet_id FROM {}").format(
                    sql.Identifier(base.schema, "portail_sujets_effaces")
                )
            )
        }
    assert en_attente and en_attente <= effaces
    portail.trousseau.abandonner_en_attente()
    assert chiffres > 0
    assert octets_apres < octets_avant


def test_les_factures_se_lisent_reduites_pour_les_vues_comme_entieres(services_ancienne: Services) -> None:
    """What the read models read of an issued invoice: its old JSON row goes through the whole
    decoding then is reduced; written again in MessagePack, it is read reduced, to the same."""
    portail = services_ancienne.portail
    mapper = portail.mapper
    reduction = REDUCTIONS[Facture.Emise.TOPIC]
    factures = portail.recorder.select_notifications(start=None, limit=10_000, topics=[Facture.Emise.TOPIC])
    assert len(factures) >= 10
    for notification in factures:
        entiere = mapper.to_domain_event(notification)
        attendue = reduction.reduire(entiere)
        assert reduction.lire(notification) is None
        reecrit = mapper.to_stored_event(entiere)
        lue = reduction.lire(reecrit)
        assert lue == attendue
        assert lue.originator_id == notification.originator_id
        assert sum(ligne.montant_cents for ligne in lue.lignes) == entiere.montant_cents
        assert [(x.enfant_id, x.accueil_id, x.montant_cents) for x in lue.lignes] == [
            (x.enfant_id, x.accueil_id, x.montant_cents) for x in entiere.lignes
        ]


def _en_utc(valeur: Any) -> Any:
    if isinstance(valeur, dict):
        if set(valeur) == {"datetime"}:
            return {"datetime": datetime.fromisoformat(valeur["datetime"]).astimezone(UTC).isoformat()}
        return {k: _en_utc(v) for k, v in valeur.items()}
    if isinstance(valeur, list):
        return [_en_utc(v) for v in valeur]
    return valeur


def test_l_index_des_auditeurs_couvre_les_evenements_anciens(
    services_ancienne: Services, dump: dict[str, Any], attendu: dict[str, Any]
) -> None:
    sv = services_ancienne
    # A generated family with bookings: its planning's first event names it, its bookings do not.
    ouverture = next(e for e in attendu["evenements"] if e["topic"] == "portail:Planning.Ouvert")
    famille_id = UUID(ouverture["valeurs"]["famille_id"]["uuid"])
    planning = ouverture["originator_id"]
    # Started on the old tables, the runner indexes them once; here it is called directly.
    assert sv.portail.completer_index_journal() == len(attendu["evenements"])
    assert sv.portail.completer_index_journal() == 0
    lignes = sv.audit.lignes(Filtres(famille_id=famille_id), 0, 100_000)
    assert {"Famille.Creee", "Enfant.Inscrit", "Planning.Ouvert", "Planning.Reserve"} <= {
        ligne["type"] for ligne in lignes
    }
    reservations = [
        e["position"]
        for e in attendu["evenements"]
        if e["originator_id"] == planning and e["topic"] == "portail:Planning.Reserve"
    ]
    assert reservations
    assert set(reservations) <= {ligne["position"] for ligne in lignes}
    assert all(ligne["horodatage"] is not None for ligne in lignes)
    # Filling the index changed nothing the chain covers.
    verification = sv.portail.verifier_chaine()
    assert verification.ok
    assert verification.derniere_empreinte == attendu["chaine"]["derniere_empreinte"]
