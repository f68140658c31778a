"""Produce the "old database" fixture: what the code of commit 2504ac7 writes, frozen for upgrade tests.

It must be run with commit 2504ac7's code (events stored as the eventsourcing library's JSON, one
chain row per event): it refuses to run when src/ or uv.lock differ from that commit. Run later
with newer code, it would freeze the new format instead and test nothing. The result is not
byte-for-byte reproducible (encryption keys and nonces are random); the committed files are the
fixture, this script says how they were made.

    PORTAIL_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<db> \\
        .venv/bin/python tests/donnees/produire_base_ancienne.py

In a fresh schema, with the fixed master key below (test data), it writes through the
application: a commune of ENFANTS children from the generator (`portail demo --enfants ENFANTS
--seed GRAINE`), then what the generator does not write: staff accounts, a family with health
data, a mandate and a reason typed by the régie, a second such family erased (its personal
fields lose their key and decode to None), a payment, a corrective campaign, a draft one and a
few snapshots. The erased family has no invoice on purpose: erasing an invoiced family changes
what a replay of its campaigns computes (docs/facturation.md, "Replay"), and the upgrade test
asserts every campaign replays to its digest. Then it writes two files:

- `base_ancienne.json.xz`: for each table the event log and its crypto need (events, chain,
  snapshots, keys, erased subjects; not the read models, which are rebuilt from the log), its
  DDL as PostgreSQL reports it (the schema name replaced by `{schema}`) and its rows, every
  value as PostgreSQL's text output (bytea as `\\x` hex), ready for COPY ... FROM STDIN.
- `base_ancienne_attendu.json.xz`: every stored event (position, originator, version, topic) and
  every snapshot with its values as today's mapper decodes them (`canonique.evenement_canonique`),
  the chain's length and last hash, and every campaign with its period, recorded log position and
  recorded digest (`empreinte`), which a replay must give again.
"""

from __future__ import annotations

import base64
import json
import lzma
import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from portail.application.contexte import Contexte
from portail.application.effacement import effacer_famille
from portail.application.saisies import (
    SaisieAdresse,
    SaisieMedecin,
    SaisieResponsable,
    SaisieSante,
)
from portail.bootstrap import Services, construire_services
from portail.domain.planning import Planning
from portail.generation import ANNEE, PARIS, HorlogeSimulee, generer
from portail.settings import Settings
from portail.store.database import BaseDeDonnees

DOSSIER = Path(__file__).resolve().parent
RACINE = DOSSIER.parents[1]
sys.path.insert(0, str(DOSSIER.parent))

from canonique import evenement_canonique  # noqa: E402

COMMIT = "2504ac7"
ENFANTS = 30
GRAINE = 11
CLE_MAITRE = bytes(range(32))
"""Test data: whoever holds the fixture must be able to read it."""
TABLES = (
    "portail_events",
    "portail_events_chaine",
    "portail_snapshots",
    "portail_cles",
    "portail_sujets_effaces",
)
DUMP = DOSSIER / "base_ancienne.json.xz"
ATTENDU = DOSSIER / "base_ancienne_attendu.json.xz"


def _verifier_commit() -> str:
    """The code that runs must be the commit whose format is being frozen."""
    differe = subprocess.run(
        ["git", "diff", "--quiet", COMMIT, "--", "src", "uv.lock"],
        cwd=RACINE,
        check=False,
    )
    if differe.returncode != 0:
        raise SystemExit(f"src/ differs from commit {COMMIT}: this fixture freezes that commit's format.")
    return subprocess.run(
        ["git", "rev-parse", COMMIT], cwd=RACINE, check=True, capture_output=True, text=True
    ).stdout.strip()


def _familles_de_demonstration(sv: Services, horloge: HorlogeSimulee) -> tuple[uuid.UUID, uuid.UUID]:
    """The seed screens' family, and a second one to erase: personal fields of every kind."""
    horloge.aller(date(ANNEE + 1, 7, 6), time(9))
    ctx = Contexte.systeme("demo")
    comptes, familles = sv.comptes, sv.familles
    comptes.creer_compte_personnel(ctx, "admin@portail-familles.local", "Admin-Portail-2026", ["admin"])
    comptes.creer_compte_personnel(ctx, "regie@portail-familles.local", "Regie-Portail-2026", ["regisseur"])
    ids = []
    for nom, email in (
        ("Peje", "parent@portail-familles.local"),
        ("Efface", "efface@portail-familles.local"),
    ):
        _, famille_id = comptes.inscrire(
            ctx,
            email,
            "Parent-Portail-2026",
            SaisieResponsable(civilite="Mme", nom=nom, prenom="Camille", telephone="06 12 34 56 78"),
            SaisieAdresse("12 rue de la Mairie", "44000", "Nantes"),
        )
        regie = Contexte(
            "demo-quotient", role="regisseur", nom="regie", motif=f"attestation CAF de Mme {nom}"
        )
        familles.enregistrer_quotient(regie, famille_id, 742, date(2021, 9, 1), "caf")
        enfant = familles.ajouter_enfant(
            ctx, famille_id, nom, "Enfant 1", date(2016, 1, 15), "Nantes", "École Jules Ferry", None, "CM1"
        )
        familles.ajouter_enfant(
            ctx, famille_id, nom, "Enfant 2", date(2020, 6, 3), "Nantes", "École Jules Ferry", None, "GS"
        )
        familles.modifier_sante(
            ctx,
            famille_id,
            enfant,
            SaisieSante(
                allergies=["arachide"],
                pai=True,
                pai_detail="Trousse d'urgence",
                medecin=SaisieMedecin("Dr Martin", "02 40 00 00 00"),
                vaccinations_a_jour=True,
            ),
        )
        familles.signer_mandat(ctx, famille_id, f"Camille {nom}", "FR7630006000011234567890189", None)
        ids.append(famille_id)
    return ids[0], ids[1]


def _facturation(sv: Services, horloge: HorlogeSimulee, famille_id: uuid.UUID) -> None:
    """A payment, a corrective campaign of an issued period and June's campaign left as a draft."""
    horloge.aller(date(ANNEE + 1, 7, 7), time(10))
    ctx = Contexte("demo-regie", role="regisseur", nom="regie", motif="chèque reçu en mairie")
    facturation = sv.facturation
    sv.facturation.regler(ctx, famille_id, 4250, "cheque", "CHQ 0001234")
    campagnes = facturation.faits_campagnes().values()
    septembre = next(c for c in campagnes if c.periode == f"{ANNEE}-09" and c.campagne_origine is None)
    corrective, _ = facturation.corriger(ctx, septembre.id, None)
    facturation.emettre(ctx, corrective.id)
    facturation.preparer(ctx, f"{ANNEE + 1}-06", None)


def _attendu(sv: Services) -> dict[str, Any]:
    portail = sv.portail
    evenements = []
    for notification in portail.recorder.select_notifications(start=None, limit=1_000_000):
        evenement = portail.mapper.to_domain_event(notification)
        evenements.append(
            {
                "position": notification.id,
                "originator_id": str(notification.originator_id),
                "version": notification.originator_version,
                "topic": notification.topic,
                "valeurs": evenement_canonique(evenement),
            }
        )
    datastore = portail.factory.datastore  # type: ignore[attr-defined]
    instantanes = []
    with datastore.transaction(commit=False) as curs:
        curs.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {datastore.schema}.portail_snapshots"
            " ORDER BY originator_id, originator_version"
        )
        for ligne in curs.fetchall():
            stocke = StoredEvent(
                ligne["originator_id"], ligne["originator_version"], ligne["topic"], bytes(ligne["state"])
            )
            instantanes.append(
                {
                    "originator_id": str(ligne["originator_id"]),
                    "version": ligne["originator_version"],
                    "topic": ligne["topic"],
                    "valeurs": evenement_canonique(portail.mapper.to_domain_event(stocke)),
                }
            )
    verification = portail.verifier_chaine()
    assert verification.ok, verification
    campagnes = []
    for campagne in sv.facturation.faits_campagnes().values():
        # Replayed now, so that the fixture only records digests today's code gives again.
        assert sv.facturation.lignes(campagne).empreinte == campagne.empreinte
        campagnes.append(
            {
                "id": str(campagne.id),
                "periode": campagne.periode,
                "position": campagne.position,
                "empreinte": campagne.empreinte,
                "campagne_origine": str(campagne.campagne_origine) if campagne.campagne_origine else None,
                "emise": campagne.emise_le is not None,
            }
        )
    return {
        "evenements": evenements,
        "instantanes": instantanes,
        "chaine": {
            "evenements": verification.evenements_verifies,
            "derniere_empreinte": verification.derniere_empreinte,
        },
        "campagnes": campagnes,
    }


def _ddl(conn: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    """The table as PostgreSQL holds it: columns, constraints, indexes; `{schema}` for its schema."""
    colonnes = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
        " pg_get_expr(d.adbin, d.adrelid)"
        " FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (f"{schema}.{table}",),
    ).fetchall()
    definitions = []
    sequences = []
    for nom, type_sql, non_nul, defaut in colonnes:
        if defaut and defaut.startswith("nextval(") and type_sql == "bigint":
            # A bigserial column: its sequence is recreated by the type and set after the rows.
            definitions.append(f"{nom} bigserial")
            sequences.append(nom)
            continue
        definition = f"{nom} {type_sql}"
        if defaut:
            definition += f" DEFAULT {defaut}"
        if non_nul:
            definition += " NOT NULL"
        definitions.append(definition)
    contraintes = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
        " ORDER BY conname",
        (f"{schema}.{table}",),
    ).fetchall()
    definitions += [f"CONSTRAINT {nom} {definition}" for nom, definition in contraintes]
    instructions = [f"CREATE TABLE {{schema}}.{table} ({', '.join(definitions)})"]
    index = conn.execute(
        "SELECT indexdef FROM pg_indexes i WHERE schemaname = %s AND tablename = %s"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname"
        " AND c.connamespace = %s::regnamespace) ORDER BY indexname",
        (schema, table, schema),
    ).fetchall()
    instructions += [definition.replace(f"{schema}.", "{schema}.") for (definition,) in index]
    instructions += [
        f"SELECT setval(pg_get_serial_sequence('{{schema}}.{table}', '{colonne}'),"
        f" coalesce((SELECT max({colonne}) FROM {{schema}}.{table}), 0) + 1, false)"
        for colonne in sequences
    ]
    return instructions


def _lignes(
    conn: psycopg.Connection[Any], schema: str, table: str
) -> tuple[list[str], list[list[str | None]]]:
    """Every row as PostgreSQL's text output, in primary-key order."""
    with conn.cursor() as curs:
        curs.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(sql.Identifier(schema, table)))
        assert curs.description is not None
        colonnes = [c.name for c in curs.description]
    texte = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in colonnes)
    lignes = conn.execute(
        sql.SQL("SELECT {} FROM {} ORDER BY 1, 2").format(texte, sql.Identifier(schema, table))
    ).fetchall()
    return colonnes, [list(ligne) for ligne in lignes]


def _ecrire(chemin: Path, contenu: dict[str, Any]) -> None:
    # xz: half the size of gzip on the hex of the stored events.
    chemin.write_bytes(lzma.compress(json.dumps(contenu, ensure_ascii=False, indent=0).encode()))


def produire(url: str) -> None:
    commit = _verifier_commit()
    schema = f"base_ancienne_{uuid.uuid4().hex[:8]}"
    base = BaseDeDonnees(url, schema)
    base.creer_schema()
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    settings = Settings(
        data_dir=Path("/nonexistent"),
        master_key=base64.b64encode(CLE_MAITRE).decode(),
        secret_key="base-ancienne",
        argon2_memoire_kib=1024,
        argon2_iterations=1,
        pool_size=2,
        pool_max_overflow=4,
    )
    services = construire_services(settings, base, horloge, projections=False)
    try:
        commune = generer(services, horloge, ENFANTS, GRAINE)
        peje, efface = _familles_de_demonstration(services, horloge)
        _facturation(services, horloge, commune.familles[0].famille_id)
        horloge.aller(date(ANNEE + 1, 7, 8), time(11))
        effacer_famille(Contexte.systeme("demo"), services.familles, services.comptes, efface)
        # Under 50 versions nothing is snapshotted by itself: a few, of a family with encrypted state.
        famille = commune.familles[0]
        for aggregat_id in (
            peje,
            famille.famille_id,
            Planning.id_pour(famille.enfants[0], commune.periscolaire_id),
        ):
            services.portail.take_snapshot(aggregat_id)
        attendu = _attendu(services)
    finally:
        services.portail.close()
    try:
        with psycopg.connect(url) as conn:
            tables = {}
            for table in TABLES:
                colonnes, lignes = _lignes(conn, schema, table)
                tables[table] = {"ddl": _ddl(conn, schema, table), "colonnes": colonnes, "lignes": lignes}
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    meta = {
        "commit": commit,
        "produit_le": datetime.now(PARIS).isoformat(timespec="seconds"),
        "enfants": ENFANTS,
        "graine": GRAINE,
        "cle_maitre": base64.b64encode(CLE_MAITRE).decode(),
        "familles": {"conservee": str(peje), "effacee": str(efface)},
    }
    _ecrire(DUMP, {"meta": meta, "tables": tables})
    _ecrire(ATTENDU, {"meta": meta, **attendu})
    sys.stdout.write(
        f"{len(attendu['evenements'])} events, {len(attendu['instantanes'])} snapshots,"
        f" {len(attendu['campagnes'])} campaigns; {DUMP.name} {DUMP.stat().st_size} bytes,"
        f" {ATTENDU.name} {ATTENDU.stat().st_size} bytes\n"
    )


if __name__ == "__main__":
    produire(os.environ["PORTAIL_TEST_DATABASE_URL"])
