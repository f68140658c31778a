"""The benchmark's cache of generated communes (`bench/cache.py`): a commune dumped then loaded into
a fresh schema is the same log, readable with the dumped master key, and the application goes on
writing after it; the dump holds no read model, so a change to a read model's columns leaves it
usable, and the application's rebuild gives back the read models the source had."""

from __future__ import annotations

import base64
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from portail.application.contexte import Contexte, horloge_systeme
from portail.bootstrap import construire_services
from portail.generation import ANNEE, CommuneGeneree, HorlogeSimulee, generer, saisie_periscolaire
from portail.projections.executeur import Projecteur
from portail.settings import Settings
from portail.store.database import BaseDeDonnees

# `bench/` lives beside src/, outside the installed package (as `portail bench` finds it).
RACINE = Path(__file__).resolve().parents[2]
if str(RACINE) not in sys.path:
    sys.path.insert(0, str(RACINE))

from bench.cache import (  # noqa: E402
    DumpIncompatible,
    charger,
    chemin_dump,
    dumps_candidats,
    lire_entete,
    reconstruire_vues,
    sauver,
    version_schema,
)

ENFANTS = 5
GRAINE = 4


@pytest.fixture
def schemas(url_postgres: str) -> Iterator[list[BaseDeDonnees]]:
    crees: list[BaseDeDonnees] = []
    yield crees
    with psycopg.connect(url_postgres, autocommit=True) as conn:
        for base in crees:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(base.schema or ""))
            )


def _schema(url: str, schemas: list[BaseDeDonnees], settings: Settings) -> BaseDeDonnees:
    """A new schema whose tables the application has created, as at any start."""
    base = BaseDeDonnees(url, f"t_banc_{uuid.uuid4().hex[:12]}")
    base.creer_schema()
    schemas.append(base)
    construire_services(settings, base, horloge_systeme).portail.close()
    return base


def _journal(url: str, schema: str) -> list[tuple[int, str, int, str, bytes]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            sql.SQL(
                "SELECT notification_id, originator_id::text, originator_version, topic, state"
                " FROM {} ORDER BY notification_id"
            ).format(sql.Identifier(schema, "portail_events"))
        ).fetchall()


def _ajouter_colonne(url: str, schema: str, *tables: str) -> None:
    """A layout changed since the dump: a column more in each of these tables."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN essai integer").format(sql.Identifier(schema, table))
            )


def _autre_cle(settings: Settings) -> Settings:
    return replace(settings, master_key=base64.b64encode(os.urandom(32)).decode())


def _vues(url: str, schema: str, colonnes_de: str | None = None) -> dict[str, list[tuple[object, ...]]]:
    """Every read model's rows, sorted, on the columns of `colonnes_de`'s tables (default: its own)."""
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position)"
            " FROM information_schema.columns WHERE table_schema = %s AND table_name LIKE 'proj\\_%%'"
            " GROUP BY table_name",
            (colonnes_de or schema,),
        ).fetchall()
        assert len(tables) > 5
        return {
            table: sorted(
                conn.execute(
                    sql.SQL("SELECT {} FROM {}").format(
                        sql.SQL(", ").join(sql.Identifier(c) for c in colonnes), sql.Identifier(schema, table)
                    )
                ).fetchall(),
                key=repr,
            )
            for table, colonnes in tables
        }


def _commune_sauvee(
    url: str, settings: Settings, source: BaseDeDonnees, dossier: Path, *, avec_vues: bool = False
) -> tuple[CommuneGeneree, str, Path]:
    """A small commune generated in `source`, its read models caught up with its log, dumped into
    `dossier`: (commune, layout, file)."""
    assert source.schema
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    services = construire_services(settings, source, horloge)
    try:
        commune = generer(services, horloge, ENFANTS, GRAINE)
        Projecteur(services.portail).rattraper()
    finally:
        services.portail.close()
    version = version_schema(url, source.schema)
    chemin = chemin_dump(dossier, ENFANTS, GRAINE, version)
    sauver(
        url,
        source.schema,
        chemin,
        enfants=ENFANTS,
        graine=GRAINE,
        version=version,
        commune=commune,
        master_key=settings.master_key or "",
        generation_s=1.0,
        avec_vues=avec_vues,
    )
    return commune, version, chemin


@pytest.mark.postgres
def test_une_commune_rechargee_est_le_meme_journal(
    url_postgres: str, settings: Settings, schemas: list[BaseDeDonnees], tmp_path: Path
) -> None:
    source = _schema(url_postgres, schemas, settings)
    commune, version, chemin = _commune_sauvee(url_postgres, settings, source, tmp_path)

    # The fresh schema's process starts with another master key, as every bench run does.
    cible = _schema(url_postgres, schemas, _autre_cle(settings))
    assert cible.schema
    assert version_schema(url_postgres, cible.schema) == version
    charge = charger(url_postgres, cible.schema, chemin, enfants=ENFANTS, graine=GRAINE)

    assert charge.commune == commune
    assert charge.master_key == settings.master_key
    journal = _journal(url_postgres, cible.schema)
    assert journal == _journal(url_postgres, source.schema)
    assert len(journal) == commune.evenements
    assert journal[-1][0] == commune.evenements

    services = construire_services(replace(settings, master_key=charge.master_key), cible, horloge_systeme)
    try:
        portail = services.portail
        # Every event decrypts with the key that came with the dump, and the chain holds.
        recorder = portail.recorder
        for notification in recorder.select_notifications(start=1, limit=len(journal) + 10):
            portail.mapper.to_domain_event(notification)
        assert portail.verifier_chaine().ok
        # The log goes on after the loaded positions, chained to them.
        services.catalogue.creer_accueil(Contexte.systeme("test"), saisie_periscolaire(ANNEE + 1))
        assert recorder.max_notification_id() == commune.evenements + 1
        verification = portail.verifier_chaine()
        assert verification.ok
        assert verification.evenements_verifies == commune.evenements + 1
    finally:
        services.portail.close()


@pytest.mark.postgres
def test_un_dump_d_une_autre_commune_ou_d_autres_tables_est_refuse(
    url_postgres: str, settings: Settings, schemas: list[BaseDeDonnees], tmp_path: Path
) -> None:
    source = _schema(url_postgres, schemas, settings)
    _, version, chemin = _commune_sauvee(url_postgres, settings, source, tmp_path)
    assert lire_entete(chemin)["schema_version"] == version

    cible = _schema(url_postgres, schemas, settings)
    assert cible.schema
    with pytest.raises(DumpIncompatible):
        charger(url_postgres, cible.schema, chemin, enfants=ENFANTS, graine=GRAINE + 1)

    # A layout that changed since the dump (a column more) gets another version, and the dump of
    # the old one is refused even when asked for by name.
    _ajouter_colonne(url_postgres, cible.schema, "portail_events")
    assert version_schema(url_postgres, cible.schema) != version
    with pytest.raises(DumpIncompatible):
        charger(url_postgres, cible.schema, chemin, enfants=ENFANTS, graine=GRAINE)
    assert _journal(url_postgres, cible.schema) == []


def _rebuild(settings: Settings, base: BaseDeDonnees) -> None:
    services = construire_services(settings, base, horloge_systeme)
    try:
        reconstruire_vues(services.portail)
    finally:
        services.portail.close()


@pytest.mark.postgres
def test_le_dump_ne_tient_qu_au_journal_et_les_vues_sont_reconstruites(
    url_postgres: str, settings: Settings, schemas: list[BaseDeDonnees], tmp_path: Path
) -> None:
    source = _schema(url_postgres, schemas, settings)
    assert source.schema
    _, version, chemin = _commune_sauvee(url_postgres, settings, source, tmp_path)
    dumpees = set(lire_entete(chemin)["tables"])
    assert {"portail_events", "portail_events_chaine", "portail_cles", "portail_snapshots"} <= dumpees
    assert not {t for t in dumpees if t.startswith("proj_")}

    # A read model whose columns changed since the dump: the key is the same, the dump loads.
    cible = _schema(url_postgres, schemas, settings)
    assert cible.schema
    _ajouter_colonne(url_postgres, cible.schema, "proj_enfants", "proj_calendrier", "proj_tracking")
    assert version_schema(url_postgres, cible.schema) == version
    assert dumps_candidats(tmp_path, ENFANTS, GRAINE, version) == [chemin]
    charge = charger(url_postgres, cible.schema, chemin, enfants=ENFANTS, graine=GRAINE)

    _rebuild(replace(settings, master_key=charge.master_key), cible)
    attendues = _vues(url_postgres, source.schema)
    assert attendues["proj_calendrier"] and attendues["proj_brouillons"]
    assert _vues(url_postgres, cible.schema, colonnes_de=source.schema) == attendues


@pytest.mark.postgres
def test_un_dump_de_toutes_les_tables_se_charge_encore(
    url_postgres: str, settings: Settings, schemas: list[BaseDeDonnees], tmp_path: Path
) -> None:
    source = _schema(url_postgres, schemas, settings)
    assert source.schema
    # As dumps were written before: the read models too, named after every table's layout.
    commune, version, _ = _commune_sauvee(url_postgres, settings, source, tmp_path, avec_vues=True)
    ancien = chemin_dump(tmp_path, ENFANTS, GRAINE, version).rename(
        chemin_dump(tmp_path, ENFANTS, GRAINE, "0123456789ab")
    )
    assert any(t.startswith("proj_") for t in lire_entete(ancien)["tables"])

    cible = _schema(url_postgres, schemas, settings)
    assert cible.schema
    assert dumps_candidats(tmp_path, ENFANTS, GRAINE, version_schema(url_postgres, cible.schema)) == [ancien]
    charge = charger(url_postgres, cible.schema, ancien, enfants=ENFANTS, graine=GRAINE)
    assert charge.commune == commune
    assert _journal(url_postgres, cible.schema) == _journal(url_postgres, source.schema)

    _rebuild(replace(settings, master_key=charge.master_key), cible)
    assert _vues(url_postgres, cible.schema) == _vues(url_postgres, source.schema)
