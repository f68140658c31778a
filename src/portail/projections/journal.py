"""The auditors' index of the log: one row per event, with its family, child and actor, so the
whole log can be filtered and paged without reading it all. The events themselves stay in the
log; this index holds ids, types and times, no personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor


def ddl(schema: str) -> list[str]:
    s = schema
    return [
        f"CREATE TABLE IF NOT EXISTS {s}.proj_journal ("
        " position bigint PRIMARY KEY, agregat_id uuid NOT NULL, agregat_type text NOT NULL, version integer NOT NULL,"
        " type text NOT NULL, horodatage timestamptz, acteur_compte_id uuid, role text, correlation_id text,"
        " famille_id uuid, enfant_id uuid)",
        f"CREATE INDEX IF NOT EXISTS proj_journal_famille ON {s}.proj_journal (famille_id, position)",
        f"CREATE INDEX IF NOT EXISTS proj_journal_enfant ON {s}.proj_journal (enfant_id, position)",
        f"CREATE INDEX IF NOT EXISTS proj_journal_acteur ON {s}.proj_journal (acteur_compte_id, position)",
        f"CREATE INDEX IF NOT EXISTS proj_journal_type ON {s}.proj_journal (type, position)",
        f"CREATE INDEX IF NOT EXISTS proj_journal_horodatage ON {s}.proj_journal (horodatage)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_journal_sujets ("
        " agregat_id uuid PRIMARY KEY, famille_id uuid, enfant_id uuid)",
    ]


TABLES = ("proj_journal", "proj_journal_sujets")


def _lien(evenement: Any) -> tuple[UUID | None, UUID | None]:
    """The family and child an event's aggregate belongs to, when the event says so."""
    etat = vars(evenement)
    agregat = type(evenement).__qualname__.split(".")[0]
    if agregat == "Famille":
        return evenement.originator_id, None
    if agregat == "Enfant":
        return etat.get("famille_id"), evenement.originator_id
    famille = etat.get("famille_id")
    enfant = etat.get("enfant_id")
    return (famille if isinstance(famille, UUID) else None), (enfant if isinstance(enfant, UUID) else None)


def noter(curs: Cursor[Any], s: str, position: int, evenement: Any) -> None:
    famille_id, enfant_id = _lien(evenement)
    if famille_id is not None or enfant_id is not None:
        curs.execute(
            f"INSERT INTO {s}.proj_journal_sujets (agregat_id, famille_id, enfant_id) VALUES (%s, %s, %s)"
            " ON CONFLICT (agregat_id) DO NOTHING",
            (evenement.originator_id, famille_id, enfant_id),
        )
    audit = vars(evenement).get("audit") or {}
    acteur = audit.get("acteur") or {}
    horodatage = audit.get("horodatage")
    compte = acteur.get("compte_id")
    nom_type = type(evenement).__qualname__
    curs.execute(
        f"INSERT INTO {s}.proj_journal (position, agregat_id, agregat_type, version, type, horodatage,"
        " acteur_compte_id, role, correlation_id, famille_id, enfant_id)"
        " SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, j.famille_id), coalesce(%s, j.enfant_id)"
        f" FROM (SELECT 1) AS un LEFT JOIN {s}.proj_journal_sujets j ON j.agregat_id = %s"
        " ON CONFLICT (position) DO NOTHING",
        (
            position,
            evenement.originator_id,
            nom_type.split(".")[0],
            evenement.originator_version,
            nom_type,
            datetime.fromisoformat(horodatage) if horodatage else evenement.timestamp,
            UUID(compte) if compte else None,
            acteur.get("role") or acteur.get("nom"),
            audit.get("correlation_id"),
            famille_id,
            enfant_id,
            evenement.originator_id,
        ),
    )
