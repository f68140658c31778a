"""Rows in the compact format written before an event class's last version still decode, upcast."""

from __future__ import annotations

import uuid

import msgspec

from portail.domain.campagne import Campagne
from portail.store import format_evenements as fmt


def _rien(_nom: str, _enveloppe: fmt.Enveloppe) -> bytes | None:
    return None


def test_une_campagne_ecrite_avant_la_version_de_son_empreinte_se_lit_en_version_1() -> None:
    # As the previous version wrote `Campagne.Preparee`: no `version_empreinte`, no class_version.
    ancienne = {
        "periode": "2026-05",
        "position": 41,
        "campagne_origine": None,
        "totaux": {"familles": 2, "lignes": 3, "montant_cents": 915},
        "anomalies": 0,
        "empreinte": "ab" * 32,
        "timestamp": "2026-06-02T08:00:00+00:00",
        "originator_topic": "portail:Campagne",
    }
    etat = fmt.decoder_etat(Campagne.Preparee, msgspec.msgpack.encode(ancienne), _rien)
    assert etat["version_empreinte"] == 1
    assert (etat["periode"], etat["position"], etat["empreinte"]) == ("2026-05", 41, "ab" * 32)
    assert etat["totaux"].montant_cents == 915


def test_une_campagne_de_la_version_courante_garde_la_sienne() -> None:
    campagne = Campagne(
        id=uuid.uuid4(),
        periode="2026-06",
        position=7,
        campagne_origine=None,
        totaux=None,  # type: ignore[arg-type]
        anomalies=0,
        empreinte="cd" * 32,
        version_empreinte=2,
    )
    evenement = campagne.collect_events()[0]
    etat = {k: v for k, v in vars(evenement).items() if k not in ("originator_id", "originator_version")}
    etat["totaux"] = {"familles": 0, "lignes": 0, "montant_cents": 0}
    etat["class_version"] = 2
    lu = fmt.decoder_etat(Campagne.Preparee, msgspec.msgpack.encode(etat), _rien)
    assert lu["version_empreinte"] == 2
