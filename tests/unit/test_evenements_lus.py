"""An issued invoice as its read models read it: the reduced reading gives what the whole decoding
gives once reduced, and leaves to it every row it cannot take."""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Any

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent

from portail.domain.campagne import Facture
from portail.domain.facturation import LigneFacture
from portail.domain.planning import Etat, Ligne, Planning, Pointage
from portail.projections.evenements_lus import (
    REDUCTIONS,
    REDUCTIONS_REJEU,
    CasePointee,
    EvenementLu,
    FactureEmiseLue,
    LigneReservee,
    LigneVentilee,
    PlanningPointeLu,
    PlanningReserveLu,
)
from portail.store import format_evenements as fmt

FAMILLE = uuid.uuid4()
ENFANTS = (uuid.uuid4(), uuid.uuid4())
ACCUEIL = uuid.uuid4()


def _ligne(enfant: uuid.UUID, jour: int, montant: int) -> LigneFacture:
    return LigneFacture(
        famille_id=FAMILLE,
        enfant_id=enfant,
        accueil_id=ACCUEIL,
        accueil="PÉRISCOLAIRE – Restauration",
        jour=date(2026, 3, jour),
        unite="MIDI",
        nature="prestation",
        quantite=1,
        prix_unitaire_cents=montant,
        montant_cents=montant,
        explication=f"{jour:02d}/03/2026 Restauration : présent; QF 1 200 €",
    )


def _facture() -> Facture.Emise:
    lignes = (_ligne(ENFANTS[0], 2, 490), _ligne(ENFANTS[1], 2, 380), _ligne(ENFANTS[0], 3, 490))
    facture = Facture(
        numero="PF2026-000042",
        famille_id=FAMILLE,
        campagne_id=uuid.uuid4(),
        periode="2026-03",
        lignes=lignes,
        montant_cents=1360,
        emise_le=date(2026, 4, 2),
        echeance=date(2026, 4, 30),
    )
    evenement = facture.collect_events()[0]
    assert isinstance(evenement, Facture.Emise)
    return evenement


def _stockee(evenement: Any, topic: str = Facture.Emise.TOPIC, **en_plus: Any) -> StoredEvent:
    etat = {k: v for k, v in vars(evenement).items() if k not in fmt.CHAMPS_DE_LIGNE}
    etat["audit"] = {"acteur": {"role": "systeme"}, "horodatage": "2026-04-02T06:00:00+00:00"}
    return StoredEvent(
        originator_id=evenement.originator_id,
        originator_version=evenement.originator_version,
        topic=topic,
        state=fmt.MARQUEUR_MSGPACK + fmt.encoder({**etat, **en_plus}),
    )


def test_une_facture_lue_reduite_egale_la_facture_entiere_reduite() -> None:
    evenement = _facture()
    reduction = REDUCTIONS[Facture.Emise.TOPIC]
    lue = reduction.lire(_stockee(evenement))
    assert lue == FactureEmiseLue.depuis(evenement)
    assert lue.originator_id == evenement.originator_id
    assert lue.lignes == (
        LigneVentilee(ENFANTS[0], ACCUEIL, 490),
        LigneVentilee(ENFANTS[1], ACCUEIL, 380),
        LigneVentilee(ENFANTS[0], ACCUEIL, 490),
    )
    assert (lue.numero, lue.montant_cents, lue.echeance) == ("PF2026-000042", 1360, date(2026, 4, 30))


def test_une_ligne_d_une_autre_version_ou_d_un_autre_format_est_lue_entiere() -> None:
    evenement = _facture()
    reduction = REDUCTIONS[Facture.Emise.TOPIC]
    # Written by a later or earlier class version: the whole decoding upcasts it.
    assert reduction.lire(_stockee(evenement, class_version=2)) is None
    # Written before the class's current version (no `class_version`: version 1), had the class
    # moved on: the whole decoding upcasts it too.
    plus_recente = fmt.LectureReduite(reduction.lecture.decodeur, reduction.lecture.class_version + 1)
    assert fmt.lire_reduit(plus_recente, _stockee(evenement).state) is None
    # The JSON format of older rows.
    json = StoredEvent(evenement.originator_id, 1, Facture.Emise.TOPIC, b'{"numero": "PF"}')
    assert reduction.lire(json) is None
    # Bytes this reading cannot take: the whole decoding reports them.
    assert reduction.lire(StoredEvent(evenement.originator_id, 1, Facture.Emise.TOPIC, b"\x01\xc1")) is None
    sans_montant = _stockee(evenement)
    etat = msgspec.msgpack.decode(sans_montant.state[1:])
    del etat["montant_cents"]
    tronque = StoredEvent(
        evenement.originator_id, 1, Facture.Emise.TOPIC, b"\x01" + msgspec.msgpack.encode(etat)
    )
    assert reduction.lire(tronque) is None


class LigneRemisee(msgspec.Struct):
    enfant_id: uuid.UUID
    remise_cents: int


class Lignes(EvenementLu, kw_only=True):
    lignes: tuple[LigneRemisee, ...]


def test_une_lecture_reduite_ne_nomme_que_des_champs_de_la_classe_et_aucun_personnel() -> None:
    class Inconnu(EvenementLu, kw_only=True):
        remise_cents: int

    with pytest.raises(TypeError, match="remise_cents"):
        fmt.lecture_reduite(Facture.Emise, Inconnu)

    with pytest.raises(TypeError, match="remise_cents"):
        fmt.lecture_reduite(Facture.Emise, Lignes)

    class Motif(EvenementLu, kw_only=True):
        motif: str | None

    with pytest.raises(TypeError, match="personnels"):
        fmt.lecture_reduite(Planning.Annule, Motif)


def _planning() -> tuple[Planning.Reserve, Planning.Pointe]:
    planning = Planning(id=uuid.uuid4(), enfant_id=ENFANTS[0], accueil_id=ACCUEIL, famille_id=FAMILLE)
    planning.reserver(
        [
            Ligne(date(2026, 3, 2), "MIDI"),
            Ligne(date(2026, 3, 2), "SOIR", majoration_cents=150, facturable=True),
        ]
    )
    planning.pointer(
        [
            Pointage(date(2026, 3, 2), "MIDI", Etat.PRESENT),
            Pointage(date(2026, 3, 2), "SOIR", Etat.PRESENT, arrivee=time(16, 45), depart=time(18, 20)),
            Pointage(date(2026, 3, 3), "MIDI", Etat.ABSENT_NON_JUSTIFIE),
        ]
    )
    _, reserve, pointe = planning.collect_events()
    assert isinstance(reserve, Planning.Reserve) and isinstance(pointe, Planning.Pointe)
    return reserve, pointe


def test_une_reservation_et_un_pointage_lus_reduits_au_rejeu_egalent_les_evenements_entiers_reduits() -> None:
    reserve, pointe = _planning()
    lue = REDUCTIONS_REJEU[Planning.Reserve.TOPIC].lire(_stockee(reserve, Planning.Reserve.TOPIC))
    assert lue == PlanningReserveLu.depuis(reserve)
    assert (lue.originator_id, lue.originator_version) == (reserve.originator_id, 2)
    assert lue.lignes == (
        LigneReservee(date(2026, 3, 2), "MIDI"),
        LigneReservee(date(2026, 3, 2), "SOIR", majoration_cents=150),
    )
    pointee = REDUCTIONS_REJEU[Planning.Pointe.TOPIC].lire(_stockee(pointe, Planning.Pointe.TOPIC))
    assert pointee == PlanningPointeLu.depuis(pointe)
    assert pointee.originator_version == 3
    assert pointee.pointages[1] == CasePointee(
        date(2026, 3, 2), "SOIR", Etat.PRESENT, arrivee=time(16, 45), depart=time(18, 20)
    )
    assert pointee.pointages[2].etat is Etat.ABSENT_NON_JUSTIFIE
    # Another class version is decoded whole (and upcast) first.
    assert (
        REDUCTIONS_REJEU[Planning.Pointe.TOPIC].lire(_stockee(pointe, Planning.Pointe.TOPIC, class_version=2))
        is None
    )


def test_hors_du_rejeu_les_plannings_se_lisent_entiers() -> None:
    # The drafts follow the plannings' events as domain events (their days, their kind).
    assert Planning.Reserve.TOPIC not in REDUCTIONS
    assert Planning.Pointe.TOPIC not in REDUCTIONS
    assert set(REDUCTIONS) < set(REDUCTIONS_REJEU)
