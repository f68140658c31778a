"""An issued invoice as its read models read it: the reduced reading gives what the whole decoding
gives once reduced, and leaves to it every row it cannot take."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent

from portail.domain.campagne import Facture
from portail.domain.facturation import LigneFacture
from portail.projections.evenements_lus import REDUCTIONS, EvenementLu, FactureEmiseLue, LigneVentilee
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


def _stockee(evenement: Any, **en_plus: Any) -> StoredEvent:
    etat = {k: v for k, v in vars(evenement).items() if k not in fmt.CHAMPS_DE_LIGNE}
    etat["audit"] = {"acteur": {"role": "systeme"}, "horodatage": "2026-04-02T06:00:00+00:00"}
    return StoredEvent(
        originator_id=evenement.originator_id,
        originator_version=evenement.originator_version,
        topic=Facture.Emise.TOPIC,
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

    from portail.domain.planning import Planning

    class Motif(EvenementLu, kw_only=True):
        motif: str | None

    with pytest.raises(TypeError, match="personnels"):
        fmt.lecture_reduite(Planning.Annule, Motif)
