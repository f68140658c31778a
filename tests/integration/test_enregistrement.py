"""The event log's writer: a save is one statement, command groups fail alone, reads are one
statement, and the chain (one row per transaction) names the event altered, removed, added or moved."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg import sql

from outils_sql import instructions
from portail.application.contexte import Contexte
from portail.bootstrap import Services
from portail.domain.enfant import Enfant
from portail.domain.personnes import IdentiteEnfant, Scolarite
from portail.store.chaine import (
    CLE_DEJA_SERVIE,
    Groupe,
    LigneIdempotence,
    LigneLecture,
    RecorderChaine,
    _parametres,
)
from portail.store.format_evenements import FORMAT_MSGPACK, format_de

pytestmark = pytest.mark.postgres

CTX = Contexte.systeme("test-enregistrement")


def _enfant(famille_id: uuid.UUID, prenom: str) -> Enfant:
    return Enfant(
        famille_id=famille_id,
        identite=IdentiteEnfant("Martin", prenom, date(2018, 5, 4), "Nantes"),
        scolarite=Scolarite("École Jules Ferry", None, None),
    )


def _sql(services: Services, requete: str, *parametres: Any) -> list[Any]:
    recorder = services.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    schema = recorder.datastore.schema
    with psycopg.connect(services.settings_url, autocommit=True) as conn:  # type: ignore[attr-defined]
        curseur = conn.execute(
            sql.SQL(requete).format(
                evenements=sql.Identifier(schema, "portail_events"),
                chaine=sql.Identifier(schema, "portail_events_chaine"),
                idempotence=sql.Identifier(schema, "portail_idempotence"),
                cles=sql.Identifier(schema, "portail_cles"),
                schema=sql.Identifier(schema),
            ),
            parametres,
        )
        return curseur.fetchall() if curseur.description else []


@pytest.fixture
def sv(services: Services, base: Any) -> Services:
    services.settings_url = base.url  # type: ignore[attr-defined]
    return services


def test_une_sauvegarde_est_une_seule_instruction(sv: Services) -> None:
    famille_id = uuid.uuid4()
    # A new child: its key is created by the same statement that writes its first event.
    enfant = _enfant(famille_id, "Léa")
    with instructions(sv) as envoyees:
        sv.portail.enregistrer(CTX, enfant)
    assert len(envoyees) == 1, envoyees
    assert _sql(sv, "SELECT count(*) FROM {cles} WHERE sujet_id = %s", enfant.id)[0][0] == 1

    # A change to a child read back: still one statement, no BEGIN or COMMIT around it.
    relu = sv.portail.charger(Enfant, enfant.id)
    relu.modifier_identite(IdentiteEnfant("Martin", "Léa-Rose", date(2018, 5, 4), "Nantes"))
    with instructions(sv) as envoyees:
        sv.portail.enregistrer(CTX, relu)
    assert len(envoyees) == 1, envoyees
    assert not any('"BEGIN"' in e or '"COMMIT"' in e for e in envoyees)
    identite = sv.portail.charger(Enfant, enfant.id).identite
    assert identite is not None
    assert identite.prenom == "Léa-Rose"
    etats = _sql(sv, "SELECT state FROM {evenements} WHERE originator_id = %s", enfant.id)
    assert {format_de(bytes(e[0])) for e in etats} == {FORMAT_MSGPACK}
    # The first name is stored encrypted, never in clear.
    assert all("Léa".encode() not in bytes(e[0]) for e in etats)


def test_une_lecture_est_une_seule_instruction(sv: Services) -> None:
    enfant = _enfant(uuid.uuid4(), "Noé")
    sv.portail.enregistrer(CTX, enfant)
    with instructions(sv) as envoyees:
        evenements = sv.portail.recorder.select_events(enfant.id)
    assert len(evenements) == 1
    assert len(envoyees) == 1, envoyees
    with instructions(sv) as envoyees:
        assert sv.portail.verifier_chaine().ok
    assert not any('"BEGIN"' in e for e in envoyees)


def _deux_copies(sv: Services, prenom: str) -> tuple[Enfant, Enfant, Enfant]:
    """A child, then two copies read at the same version, each changed; the first is saved."""
    enfant = _enfant(uuid.uuid4(), prenom)
    sv.portail.enregistrer(CTX, enfant)
    a = sv.portail.charger(Enfant, enfant.id)
    b = sv.portail.charger(Enfant, enfant.id)
    a.modifier_identite(IdentiteEnfant("Martin", f"{prenom} A", date(2018, 5, 4), "Nantes"))
    b.modifier_identite(IdentiteEnfant("Martin", f"{prenom} B", date(2018, 5, 4), "Nantes"))
    sv.portail.enregistrer(CTX, a)
    return enfant, a, b


def test_une_sauvegarde_en_conflit_ne_laisse_ni_evenement_ni_cle(sv: Services) -> None:
    enfant, _, b = _deux_copies(sv, "Inès")
    avant = _sql(sv, "SELECT count(*) FROM {evenements}")[0][0]
    with pytest.raises(IntegrityError):
        sv.portail.enregistrer(CTX, b, _enfant(uuid.uuid4(), "Nouveau"))
    # Nothing half-written: neither the other aggregate's event nor its new key.
    assert _sql(sv, "SELECT count(*) FROM {evenements}")[0][0] == avant
    assert sv.portail.trousseau.cles_en_attente() == []
    identite = sv.portail.charger(Enfant, enfant.id).identite
    assert identite is not None
    assert identite.prenom == "Inès A"
    assert sv.portail.verifier_chaine().ok


def _evenement(aggregat_id: uuid.UUID, version: int) -> StoredEvent:
    # Rows for the writer itself: content that the application never decodes in this test.
    return StoredEvent(aggregat_id, version, "portail:Essai", b"\x01\x80")


def test_chaque_groupe_echoue_seul(sv: Services) -> None:
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    compte = uuid.uuid4()
    deja = uuid.uuid4()
    lu = uuid.uuid4()
    recorder.enregistrer(
        [
            Groupe(
                evenements=[_evenement(deja, 1), _evenement(lu, 1)],
                idempotence=LigneIdempotence(compte, "cle-deja", "e9", 201, b'{"ok":9}'),
            )
        ]
    )
    schema = recorder.datastore.schema
    with psycopg.connect(sv.settings_url, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (enfant_id uuid, jour date, etat text, PRIMARY KEY (enfant_id, jour))"
            ).format(sql.Identifier(schema, "portail_essai_cellules"))
        )
    enfant = uuid.uuid4()
    groupes = [
        # 0: fine, with its idempotency answer and a read row.
        Groupe(
            evenements=[_evenement(uuid.uuid4(), 1), _evenement(uuid.uuid4(), 1)],
            idempotence=LigneIdempotence(compte, "cle-0", "e0", 201, b'{"ok":0}'),
            lignes=[
                LigneLecture(
                    "portail_essai_cellules",
                    ("enfant_id", "jour"),
                    {"enfant_id": str(enfant), "jour": "2026-09-01", "etat": "reserve"},
                )
            ],
        ),
        # 1: its aggregate's version 1 exists: conflict.
        Groupe(evenements=[_evenement(uuid.uuid4(), 1), _evenement(deja, 1)]),
        # 2: decided on an aggregate read at version 0 that has a version 1 since.
        Groupe(evenements=[_evenement(uuid.uuid4(), 1)], versions=[(lu, 0)]),
        # 3: fine, read at its current version; its read row updates group 0's.
        Groupe(
            evenements=[_evenement(uuid.uuid4(), 1)],
            versions=[(lu, 1)],
            lignes=[
                LigneLecture(
                    "portail_essai_cellules",
                    ("enfant_id", "jour"),
                    {"enfant_id": str(enfant), "jour": "2026-09-01", "etat": "annule"},
                )
            ],
        ),
        # 4: an idempotency key already answered.
        Groupe(
            evenements=[_evenement(uuid.uuid4(), 1)],
            idempotence=LigneIdempotence(compte, "cle-deja", "e9", 201, b'{"ok":4}'),
        ),
    ]
    resultats = recorder.enregistrer(groupes)
    assert [r.statut for r in resultats] == ["ok", "conflit", "conflit", "ok", "conflit"]
    assert len(resultats[0].positions) == 2
    assert len(resultats[3].positions) == 1
    assert resultats[0].positions[1] < resultats[3].positions[0]
    # Only groups 0 and 3 were written, their rows with them.
    ecrits = {r[0] for r in _sql(sv, "SELECT originator_id FROM {evenements}")}
    assert deja in ecrits and lu in ecrits
    assert len(ecrits) == 2 + 3
    assert _sql(sv, "SELECT cle, corps FROM {idempotence} WHERE compte_id = %s ORDER BY cle", compte) == [
        ("cle-0", b'{"ok":0}'),
        ("cle-deja", b'{"ok":9}'),
    ]
    with psycopg.connect(sv.settings_url, autocommit=True) as conn:  # type: ignore[attr-defined]
        cellules = conn.execute(
            sql.SQL("SELECT etat FROM {}").format(sql.Identifier(schema, "portail_essai_cellules"))
        ).fetchall()
    assert cellules == [("annule",)]
    # One chain row for the transaction, holding the three events' own digests.
    rangees = _sql(sv, "SELECT positions, cardinality(empreintes) FROM {chaine} ORDER BY position")
    assert rangees[-1] == (resultats[0].positions + resultats[3].positions, 3)


def _appel_direct(sv: Services, groupes: list[Groupe]) -> tuple[list[tuple[int, str]], list[str]]:
    """The save function called on a connection of its own: its (group, status) rows and the
    notices it sent."""
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    avis: list[str] = []
    with psycopg.connect(sv.settings_url, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.add_notice_handler(lambda d: avis.append(d.message_primary or ""))
        lignes = conn.execute(recorder._appel.texte, [*_parametres(groupes), [], []]).fetchall()
    return sorted((ligne[0], ligne[1]) for ligne in lignes), avis


def test_les_groupes_d_un_appel_sont_ecrits_ensemble(sv: Services) -> None:
    """Groups that neither fail nor collide are written by the set path: no fallback notice."""
    lignes = [
        LigneLecture(
            "proj_capacites",
            ("capacite_id",),
            {"capacite_id": str(uuid.uuid4()), "accueil_id": str(uuid.uuid4()), "jour": "2026-09-01"},
        )
        for _ in range(3)
    ]
    groupes = [Groupe(evenements=[_evenement(uuid.uuid4(), 1)], lignes=[ligne]) for ligne in lignes]
    resultats, avis = _appel_direct(sv, [*groupes, Groupe(evenements=[_evenement(uuid.uuid4(), 1)])])
    assert resultats == [(0, "ok"), (1, "ok"), (2, "ok"), (3, "ok")]
    assert avis == []
    assert _sql(sv, "SELECT count(*) FROM {evenements}")[0][0] == 4
    assert sv.portail.verifier_chaine().ok


@pytest.mark.parametrize("forme", ["connue", "autre"])
def test_un_compteur_n_est_remplace_que_par_une_version_plus_haute(sv: Services, forme: str) -> None:
    """A day's counter row, whether its shape is one the function has a planned statement for
    (`FORMES_LIGNES`) or another one (here without `attente`, written by a statement built at the
    call): of two rows of one call the higher version wins, and a later call's lower version
    leaves the row as it is."""
    accueil = str(uuid.uuid4())

    def compteur(reserves: int, version: int) -> LigneLecture:
        valeurs: dict[str, Any] = {"accueil_id": accueil, "jour": "2026-09-01", "unite": "MIDI"}
        valeurs |= {"reserves": reserves, "attente": 1, "version": version}
        if forme == "autre":
            del valeurs["attente"]
        return LigneLecture("proj_occupation", ("accueil_id", "jour", "unite"), valeurs)

    def lue() -> tuple[int, int, int]:
        rangee = _sql(
            sv,
            "SELECT reserves, attente, version FROM {schema}.proj_occupation WHERE accueil_id = %s",
            uuid.UUID(accueil),
        )
        assert len(rangee) == 1
        return tuple(rangee[0])  # type: ignore[return-value]

    attente = 1 if forme == "connue" else 0
    groupes = [
        Groupe(evenements=[_evenement(uuid.uuid4(), 1)], lignes=[compteur(3, 5)]),
        Groupe(evenements=[_evenement(uuid.uuid4(), 1)], lignes=[compteur(2, 4)]),
    ]
    resultats, avis = _appel_direct(sv, groupes)
    assert resultats == [(0, "ok"), (1, "ok")] and avis == []
    assert lue() == (3, attente, 5)
    resultats, _ = _appel_direct(
        sv, [Groupe(evenements=[_evenement(uuid.uuid4(), 1)], lignes=[compteur(1, 4)])]
    )
    assert resultats == [(0, "ok")]
    assert lue() == (3, attente, 5)
    resultats, _ = _appel_direct(
        sv, [Groupe(evenements=[_evenement(uuid.uuid4(), 1)], lignes=[compteur(4, 6)])]
    )
    assert lue() == (4, attente, 6)


def test_deux_groupes_d_un_appel_qui_se_heurtent_passent_l_un_apres_l_autre(sv: Services) -> None:
    """Two groups of one call writing the same event version or answering the same idempotency
    key: the first commits, the second is a conflict, as if they had come one after the other."""
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    compte, agregat = uuid.uuid4(), uuid.uuid4()
    groupes = [
        Groupe(evenements=[_evenement(agregat, 1)]),
        Groupe(evenements=[_evenement(uuid.uuid4(), 1), _evenement(agregat, 1)]),
        Groupe(
            evenements=[_evenement(uuid.uuid4(), 1)],
            idempotence=LigneIdempotence(compte, "cle", "e", 201, b'{"ok":2}'),
        ),
        Groupe(
            evenements=[_evenement(uuid.uuid4(), 1)],
            idempotence=LigneIdempotence(compte, "cle", "e", 201, b'{"ok":3}'),
        ),
    ]
    resultats = recorder.enregistrer(groupes)
    assert [r.statut for r in resultats] == ["ok", "conflit", "ok", "conflit"]
    assert resultats[3].detail is not None and resultats[3].detail.startswith(CLE_DEJA_SERVIE)
    assert _sql(sv, "SELECT corps FROM {idempotence} WHERE compte_id = %s", compte) == [(b'{"ok":2}',)]
    assert _sql(sv, "SELECT count(*) FROM {evenements}")[0][0] == 2
    assert sv.portail.verifier_chaine().ok


@pytest.mark.parametrize("seul", [True, False])
def test_un_evenement_et_une_ligne_seuls_sont_ecrits_comme_parmi_d_autres(sv: Services, seul: bool) -> None:
    """A save of one event and one read row (a sequential booking's) takes the function's short
    path; the same event and row saved beside another group take the set path: the stored event
    (its family and child taken from its aggregate's link), its digest, the chain and the row are
    the same either way."""
    famille_id = uuid.uuid4()
    enfant = _enfant(famille_id, "Seule" if seul else "Accompagnée")
    sv.portail.enregistrer(CTX, enfant)
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    valeurs = {"accueil_id": str(uuid.uuid4()), "jour": "2026-09-01", "unite": "MIDI"}
    ligne = LigneLecture(
        "proj_occupation",
        ("accueil_id", "jour", "unite"),
        {**valeurs, "reserves": 3, "attente": 1, "version": 2},
    )
    # The aggregate's second event names no family: the function reads it from the link.
    groupe = Groupe(evenements=[_evenement(enfant.id, enfant.version + 1)], lignes=[ligne])
    autres = [] if seul else [Groupe(evenements=[_evenement(uuid.uuid4(), 1)])]
    resultats = recorder.enregistrer([groupe, *autres])
    assert [r.statut for r in resultats] == ["ok"] * (1 + len(autres))
    (position,) = resultats[0].positions
    assert _sql(
        sv, "SELECT famille_id, enfant_id FROM {evenements} WHERE notification_id = %s", position
    ) == [(famille_id, enfant.id)]
    assert _sql(
        sv,
        "SELECT reserves, attente, version FROM {schema}.proj_occupation WHERE accueil_id = %s",
        uuid.UUID(valeurs["accueil_id"]),
    ) == [(3, 1, 2)]
    verification = sv.portail.verifier_chaine()
    assert verification.ok and verification.evenements_verifies == 2 + len(autres)


@pytest.mark.parametrize("ordre", ["tables", "inverse", "meme_cle"])
def test_les_lignes_d_un_groupe_seul_sont_ecrites_quel_que_soit_leur_ordre(sv: Services, ordre: str) -> None:
    """A lone group's rows of distinct tables in the runner's order are written one by one; in
    another order, or two rows with one key, they take the grouping path: the same rows result,
    and of two rows with one key the higher version."""
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    accueil, capacite = str(uuid.uuid4()), str(uuid.uuid4())
    jour = {"accueil_id": accueil, "jour": "2026-09-02"}
    ouverte = LigneLecture("proj_capacites", ("capacite_id",), {"capacite_id": capacite, **jour})

    def compteur(reserves: int, version: int) -> LigneLecture:
        valeurs = {**jour, "unite": "MIDI", "reserves": reserves, "attente": 0, "version": version}
        return LigneLecture("proj_occupation", ("accueil_id", "jour", "unite"), valeurs)

    lignes = {
        "tables": [ouverte, compteur(7, 3)],
        "inverse": [compteur(7, 3), ouverte],
        "meme_cle": [ouverte, compteur(7, 3), compteur(6, 2)],
    }[ordre]
    evenements = [_evenement(uuid.uuid4(), 1), _evenement(uuid.uuid4(), 1)]
    (resultat,) = recorder.enregistrer([Groupe(evenements=evenements, lignes=lignes)])
    assert resultat.statut == "ok" and len(resultat.positions) == 2
    assert _sql(
        sv, "SELECT accueil_id FROM {schema}.proj_capacites WHERE capacite_id = %s", uuid.UUID(capacite)
    ) == [(uuid.UUID(accueil),)]
    assert _sql(
        sv, "SELECT reserves, version FROM {schema}.proj_occupation WHERE accueil_id = %s", uuid.UUID(accueil)
    ) == [(7, 3)]
    assert sv.portail.verifier_chaine().ok


def test_une_lecture_depassee_par_un_groupe_precedent_du_meme_appel_est_un_conflit(sv: Services) -> None:
    """A group that read an aggregate at its committed version, when an earlier group of the same
    call changes it: the read is stale by the time it would commit, as if they came one by one."""
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    lu = uuid.uuid4()
    assert [r.statut for r in recorder.enregistrer([Groupe(evenements=[_evenement(lu, 1)])])] == ["ok"]
    groupes = [
        Groupe(evenements=[_evenement(lu, 2)]),
        Groupe(evenements=[_evenement(uuid.uuid4(), 1)], versions=[(lu, 1)]),
        Groupe(evenements=[_evenement(uuid.uuid4(), 1)]),
    ]
    assert [r.statut for r in recorder.enregistrer(groupes)] == ["ok", "conflit", "ok"]


def _table_d_essai(sv: Services) -> RecorderChaine:
    """A read table of the test's own, `portail_essai_etats` (enfant_id, etat); the recorder."""
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    _sql(sv, "CREATE TABLE {schema}.portail_essai_etats (enfant_id uuid PRIMARY KEY, etat text)")
    return recorder


def test_un_groupe_dont_l_ecriture_echoue_echoue_seul(sv: Services) -> None:
    """A read row the database refuses (here, a column its table lacks) fails its group with an
    error; the other groups of the call commit, and the chain holds their events only."""
    recorder = _table_d_essai(sv)
    enfant = uuid.uuid4()

    def ligne(valeurs: dict[str, Any]) -> LigneLecture:
        return LigneLecture("portail_essai_etats", ("enfant_id",), {"enfant_id": str(enfant), **valeurs})

    groupes = [
        Groupe(evenements=[_evenement(uuid.uuid4(), 1)], lignes=[ligne({"etat": "reserve"})]),
        Groupe(evenements=[_evenement(uuid.uuid4(), 1)], lignes=[ligne({"inconnue": "x"})]),
        Groupe(evenements=[_evenement(uuid.uuid4(), 1), _evenement(uuid.uuid4(), 1)]),
    ]
    # The rows of all the groups were written together and refused: the call went group by group.
    lignes, avis = _appel_direct(sv, groupes)
    assert [statut for _, statut in lignes] == ["ok", "erreur", "ok"]
    assert len(avis) == 1 and avis[0].startswith("enregistrement groupe par groupe"), avis
    _sql(sv, "DELETE FROM {evenements}")
    _sql(sv, "DELETE FROM {chaine}")
    resultats = recorder.enregistrer(groupes)
    assert [r.statut for r in resultats] == ["ok", "erreur", "ok"]
    assert [len(r.positions) for r in resultats] == [1, 0, 2]
    assert _sql(sv, "SELECT count(*) FROM {evenements}")[0][0] == 3
    rangee = _sql(sv, "SELECT positions FROM {chaine} ORDER BY position DESC LIMIT 1")[0][0]
    assert rangee == resultats[0].positions + resultats[2].positions
    assert sv.portail.verifier_chaine().ok


def test_une_cle_pour_un_sujet_efface_est_refusee(sv: Services) -> None:
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    famille_id = uuid.uuid4()
    enfant = _enfant(famille_id, "Zoé")
    sv.portail.enregistrer(CTX, enfant)
    sv.portail.trousseau.effacer_famille(famille_id)
    resultats = recorder.enregistrer(
        [Groupe(evenements=[_evenement(uuid.uuid4(), 1)], cles=[(enfant.id, famille_id, b"\x00" * 60)])]
    )
    assert resultats[0].statut == "efface"
    assert _sql(sv, "SELECT count(*) FROM {cles} WHERE sujet_id = %s", enfant.id)[0][0] == 0


def _trois(sv: Services) -> list[int]:
    """A few saves, then one of three events; the positions of the three."""
    famille_id = uuid.uuid4()
    sv.portail.enregistrer(CTX, _enfant(famille_id, "Avant"))
    enregistrements = sv.portail.enregistrer(
        CTX, _enfant(famille_id, "Un"), _enfant(famille_id, "Deux"), _enfant(famille_id, "Trois")
    )
    sv.portail.enregistrer(CTX, _enfant(famille_id, "Après"))
    return [e.notification.id for e in enregistrements]


def test_le_deuxieme_evenement_modifie_d_une_sauvegarde_de_trois_est_nomme(sv: Services) -> None:
    positions = _trois(sv)
    assert sv.portail.verifier_chaine().ok
    _sql(
        sv, "UPDATE {evenements} SET state = state || '\\x00'::bytea WHERE notification_id = %s", positions[1]
    )
    verification = sv.portail.verifier_chaine()
    assert not verification.ok
    assert verification.premiere_anomalie is not None
    assert (verification.premiere_anomalie.position, verification.premiere_anomalie.nature) == (
        positions[1],
        "modifie",
    )
    assert verification.evenements_verifies == 2


def test_un_evenement_supprime_est_nomme(sv: Services) -> None:
    positions = _trois(sv)
    _sql(sv, "DELETE FROM {evenements} WHERE notification_id = %s", positions[1])
    anomalie = sv.portail.verifier_chaine().premiere_anomalie
    assert anomalie is not None
    assert (anomalie.position, anomalie.nature) == (positions[1], "supprime")


def test_un_evenement_ajoute_est_nomme(sv: Services) -> None:
    positions = _trois(sv)
    # Written behind the application's back, between two of its saves.
    ajoute = _sql(
        sv,
        "INSERT INTO {evenements} (originator_id, originator_version, topic, state)"
        " VALUES (%s, 1, 'portail:Enfant.Inscrit', '\\x0180'::bytea) RETURNING notification_id",
        uuid.uuid4(),
    )[0][0]
    assert ajoute > positions[2]
    anomalie = sv.portail.verifier_chaine().premiere_anomalie
    assert anomalie is not None
    # The save after the three was written before it: the added row is past the chain's rows.
    assert (anomalie.position, anomalie.nature) == (ajoute, "ajoute")


def test_un_evenement_ajoute_dans_un_trou_est_nomme(sv: Services) -> None:
    _, _, b = _deux_copies(sv, "Lou")
    with pytest.raises(IntegrityError):
        sv.portail.enregistrer(CTX, b)
    # A transaction that failed after drawing a position leaves a gap in the log (sequences are
    # not transactional).
    trou = _sql(sv, "SELECT nextval(pg_get_serial_sequence('{evenements}', 'notification_id'))")[0][0]
    apres = sv.portail.enregistrer(CTX, _enfant(uuid.uuid4(), "Après"))[0].notification.id
    assert apres == trou + 1
    assert _sql(sv, "SELECT count(*) FROM {evenements} WHERE notification_id = %s", trou)[0][0] == 0
    assert sv.portail.verifier_chaine().ok
    _sql(
        sv,
        "INSERT INTO {evenements} (notification_id, originator_id, originator_version, topic, state)"
        " VALUES (%s, %s, 1, 'portail:Enfant.Inscrit', '\\x0180'::bytea)",
        trou,
        uuid.uuid4(),
    )
    anomalie = sv.portail.verifier_chaine().premiere_anomalie
    assert anomalie is not None
    assert (anomalie.position, anomalie.nature) == (trou, "ajoute")


def test_des_evenements_deplaces_sont_nommes(sv: Services) -> None:
    positions = _trois(sv)
    a, b = positions[0], positions[1]
    _sql(sv, "UPDATE {evenements} SET notification_id = -1 WHERE notification_id = %s", a)
    _sql(sv, "UPDATE {evenements} SET notification_id = %s WHERE notification_id = %s", a, b)
    _sql(sv, "UPDATE {evenements} SET notification_id = %s WHERE notification_id = -1", b)
    anomalie = sv.portail.verifier_chaine().premiere_anomalie
    assert anomalie is not None
    assert (anomalie.position, anomalie.nature) == (a, "deplace")


def test_une_commande_ecrit_sa_reponse_et_ses_lignes_avec_ses_evenements(sv: Services) -> None:
    """What `Portail.enregistrer` is given besides the aggregates goes into the same statement."""
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    lu = _enfant(uuid.uuid4(), "Lue")
    sv.portail.enregistrer(CTX, lu)
    compte = uuid.uuid4()
    enfant = _enfant(uuid.uuid4(), "Jade")
    with instructions(sv) as envoyees:
        sv.portail.enregistrer(
            CTX,
            enfant,
            versions=[(lu.id, 1)],
            idempotence=LigneIdempotence(compte, "cle-jade", "e", 201, b'{"id":1}'),
        )
    assert len(envoyees) == 1, envoyees
    assert _sql(sv, "SELECT statut FROM {idempotence} WHERE compte_id = %s", compte) == [(201,)]
    # Decided on an aggregate that changed since: nothing is written, and the command is retried.
    relu = sv.portail.charger(Enfant, lu.id)
    relu.modifier_identite(IdentiteEnfant("Martin", "Lue 2", date(2018, 5, 4), "Nantes"))
    sv.portail.enregistrer(CTX, relu)
    autre = _enfant(uuid.uuid4(), "Tard")
    with pytest.raises(IntegrityError):
        sv.portail.enregistrer(CTX, autre, versions=[(lu.id, 1)])
    assert _sql(sv, "SELECT count(*) FROM {evenements} WHERE originator_id = %s", autre.id)[0][0] == 0


def test_une_page_du_journal_lit_les_cles_de_ses_sujets_en_une_instruction(sv: Services) -> None:
    famille_id = uuid.uuid4()
    enfants = [_enfant(famille_id, f"Enfant {i}") for i in range(20)]
    sv.portail.enregistrer(CTX, *enfants)
    # Another process's view: no key in its cache.
    sv.portail.trousseau._cache.clear()
    with instructions(sv) as envoyees:
        page = sv.portail.recorder.select_notifications(start=None, limit=1000)
        prenoms = {sv.portail.mapper.to_domain_event(n).identite.prenom for n in page}  # type: ignore[attr-defined]
    assert prenoms == {f"Enfant {i}" for i in range(20)}
    # The page, then the twenty children's keys: two statements, not one per child.
    assert len(envoyees) == 2, envoyees


def test_un_groupe_decide_sur_un_groupe_qui_echoue_echoue_avec_lui(sv: Services) -> None:
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    deja, libre = uuid.uuid4(), uuid.uuid4()
    assert [r.statut for r in recorder.enregistrer([Groupe(evenements=[_evenement(deja, 1)])])] == ["ok"]
    groupes = [
        # 0: conflicts (version 1 exists).
        Groupe(evenements=[_evenement(deja, 1)]),
        # 1: decided on 0's state: falls with it.
        Groupe(evenements=[_evenement(deja, 2)]),
        # 2: depends on nothing.
        Groupe(evenements=[_evenement(libre, 1)]),
        # 3: decided on 2: stands with it.
        Groupe(evenements=[_evenement(libre, 2)]),
    ]
    resultats = recorder.enregistrer(groupes, [(1, 0), (3, 2)])
    assert [r.statut for r in resultats] == ["conflit", "conflit", "ok", "ok"]
    assert _sql(sv, "SELECT count(*) FROM {evenements} WHERE originator_id = %s", deja)[0][0] == 1
    assert _sql(sv, "SELECT count(*) FROM {evenements} WHERE originator_id = %s", libre)[0][0] == 2


def test_un_chargement_est_une_seule_instruction(sv: Services) -> None:
    from eventsourcing.application import AggregateNotFoundError

    from portail.domain.capacite import Capacite

    capacite = Capacite(id=uuid.uuid4(), accueil_id=uuid.uuid4(), jour=date(2026, 9, 7))
    for n in range(105):
        capacite.demander(uuid.uuid4(), "SOIR", None, False)
        if n % 10 == 0:
            sv.portail.enregistrer(CTX, capacite)
    sv.portail.enregistrer(CTX, capacite)
    # Past 100 versions a snapshot exists: the load reads it and the events after it.
    assert sv.portail.snapshots is not None
    assert list(sv.portail.snapshots.get(capacite.id))
    sv.portail.cache.vider()
    with instructions(sv) as envoyees:
        relue = sv.portail.repository.get(capacite.id)
    assert len(envoyees) == 1, envoyees
    assert relue.version == capacite.version
    assert relue.places == capacite.places
    # An aggregate that does not exist: one statement too, then remembered.
    with instructions(sv) as envoyees, pytest.raises(AggregateNotFoundError):
        sv.portail.repository.get(uuid.uuid4())
    assert len(envoyees) == 1, envoyees


def test_un_groupe_seul_echoue_sans_rien_laisser_et_dit_pourquoi(sv: Services) -> None:
    """A lone group is written without a savepoint: its failure undoes the whole statement and
    comes back as the group path would name it (a stale version, a refused row, a served key),
    with no event, no key row, no idempotency row and no chain row left."""
    recorder = _table_d_essai(sv)
    lu, compte = uuid.uuid4(), uuid.uuid4()
    assert [r.statut for r in recorder.enregistrer([Groupe(evenements=[_evenement(lu, 1)])])] == ["ok"]
    served = LigneIdempotence(compte, "cle", "e", 201, b'{"ok":1}')
    assert (
        recorder.enregistrer([Groupe(evenements=[_evenement(uuid.uuid4(), 1)], idempotence=served)])[0].statut
        == "ok"
    )
    avant = {
        table: _sql(sv, f"SELECT count(*) FROM {{{table}}}")[0][0]
        for table in ("evenements", "chaine", "cles", "idempotence")
    }
    nouveau = uuid.uuid4()
    cle = [(nouveau, uuid.uuid4(), b"\x00" * 60)]
    inconnue = LigneLecture("portail_essai_etats", ("enfant_id",), {"enfant_id": str(nouveau), "x": 1})
    cas = [
        # An event version already in the log.
        (Groupe(evenements=[_evenement(lu, 1)], cles=cle), "conflit", None),
        # A read overtaken by another writer.
        (Groupe(evenements=[_evenement(nouveau, 1)], versions=[(lu, 0)], cles=cle), "conflit", "version lue"),
        # A read row the database refuses: written after the events and the key.
        (Groupe(evenements=[_evenement(nouveau, 1)], cles=cle, lignes=[inconnue]), "erreur", "42703"),
        # The idempotency key already answered, with another body.
        (
            Groupe(
                evenements=[_evenement(nouveau, 1)],
                cles=cle,
                idempotence=LigneIdempotence(compte, "cle", "e", 201, b'{"ok":2}'),
            ),
            "conflit",
            CLE_DEJA_SERVIE,
        ),
    ]
    for groupe, statut, detail in cas:
        # With an empty group before it: still the only group the function writes.
        resultats = recorder.enregistrer([Groupe(), groupe])
        assert [r.statut for r in resultats] == ["ok", statut], (groupe, resultats)
        assert resultats[1].positions == []
        if detail is not None:
            assert detail in (resultats[1].detail or ""), resultats[1]
        apres = {
            table: _sql(sv, f"SELECT count(*) FROM {{{table}}}")[0][0]
            for table in ("evenements", "chaine", "cles", "idempotence")
        }
        assert apres == avant, (statut, detail)
    assert _sql(sv, "SELECT corps FROM {idempotence} WHERE compte_id = %s", compte) == [(b'{"ok":1}',)]
    assert sv.portail.verifier_chaine().ok


def _premiere_sauvegarde(sv: Services) -> tuple[RecorderChaine, uuid.UUID, Any]:
    """A family's first save: the recorder, the family, the connection the save was kept on."""
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    famille_id = uuid.uuid4()
    sv.portail.enregistrer(CTX, _enfant(famille_id, "Un"))
    tenue = recorder.connexion_tenue._connexion
    assert tenue is not None
    return recorder, famille_id, tenue


def test_les_sauvegardes_passent_par_une_connexion_gardee_remplacee_si_elle_tombe(sv: Services) -> None:
    """Every save of the process goes through one connection kept from the pool; when its server
    process ends (a restart, an administrator), the next save opens another and succeeds."""
    recorder, famille_id, tenue = _premiere_sauvegarde(sv)
    pid = tenue.info.backend_pid
    sv.portail.enregistrer(CTX, _enfant(famille_id, "Deux"))
    assert recorder.connexion_tenue._connexion is tenue
    with psycopg.connect(sv.settings_url, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    autre_famille = uuid.uuid4()
    trois = _enfant(autre_famille, "Trois")  # a new family: its key row is written with this save
    sv.portail.enregistrer(CTX, trois)
    assert _sql(sv, "SELECT count(*) FROM {cles} WHERE famille_id = %s", autre_famille)[0][0] == 1
    relu = sv.portail.repository.charger_de_la_base(trois.id, garder=False)  # type: ignore[attr-defined]
    assert relu.identite is not None and relu.identite.prenom == "Trois"
    nouvelle = recorder.connexion_tenue._connexion
    assert nouvelle is not None and nouvelle.info.backend_pid != pid
    assert sv.portail.verifier_chaine().ok


def test_une_sauvegarde_prepare_de_nouveau_son_instruction_oubliee_par_le_serveur(sv: Services) -> None:
    """The save's statement is prepared once on the kept connection; when the session forgets it
    (`DEALLOCATE ALL`, which psycopg sends after a `ROLLBACK` of its own), the next save prepares
    it again and succeeds."""
    recorder, famille_id, tenue = _premiere_sauvegarde(sv)
    assert tenue.execute(
        "SELECT count(*) FROM pg_prepared_statements WHERE name = %s", ("portail_enregistrer",)
    ).fetchone() == {"count": 1}
    tenue.execute("DEALLOCATE ALL")
    deux = _enfant(famille_id, "Deux")
    sv.portail.enregistrer(CTX, deux)
    assert recorder.connexion_tenue._connexion is tenue
    relu = sv.portail.repository.charger_de_la_base(deux.id, garder=False)  # type: ignore[attr-defined]
    assert relu.identite is not None and relu.identite.prenom == "Deux"
    assert sv.portail.verifier_chaine().ok


def test_les_tables_sont_lues_par_cle_quelle_que_soit_leur_taille_au_premier_appel(sv: Services) -> None:
    """A session keeps the plans of the save function's statements from its first call. Made
    while the idempotency, key and erasure tables were empty, a plan that reads a table whole
    would read it whole at every call as it grows: no call reads them, nor the log and its
    links, other than by key."""
    recorder = sv.portail.recorder
    assert isinstance(recorder, RecorderChaine)
    compte = uuid.uuid4()

    def groupes(rang: int) -> list[Groupe]:
        return [
            Groupe(
                evenements=[_evenement(sujet, 1)],
                cles=[(sujet, uuid.uuid4(), b"\x00" * 40)],
                idempotence=LigneIdempotence(compte, f"cle-{rang}-{n}", "e", 201, b"{}"),
            )
            for n, sujet in enumerate(uuid.uuid4() for _ in range(3))
        ]

    tables = (
        "portail_idempotence",
        "portail_cles",
        "portail_sujets_effaces",
        "portail_events",
        "portail_sujets",
    )
    with psycopg.connect(sv.settings_url) as conn:  # type: ignore[attr-defined]
        premier = conn.execute(recorder._appel.texte, [*_parametres(groupes(0)), [], []]).fetchall()
        conn.commit()
        assert sorted(r[1] for r in premier) == ["ok"] * 3
        # The tables grow, as over a registration morning.
        _sql(
            sv,
            "INSERT INTO {idempotence} (compte_id, cle, empreinte, statut, corps)"
            " SELECT gen_random_uuid(), 'k' || n, 'e', 201, '' FROM generate_series(1, 3000) AS n",
        )
        _sql(
            sv,
            "INSERT INTO {cles} (sujet_id, famille_id, cle)"
            " SELECT gen_random_uuid(), NULL, '\\x00' FROM generate_series(1, 3000) AS n",
        )
        _sql(
            sv,
            "INSERT INTO {schema}.portail_sujets_effaces (sujet_id)"
            " SELECT gen_random_uuid() FROM generate_series(1, 500) AS n",
        )
        second = conn.execute(recorder._appel.texte, [*_parametres(groupes(1)), [], []]).fetchall()
        assert sorted(r[1] for r in second) == ["ok"] * 3
        lectures = dict(
            conn.execute(
                "SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE schemaname = %s AND relname = ANY(%s)",
                (recorder.datastore.schema, list(tables)),
            ).fetchall()
        )
        conn.commit()
    assert set(lectures) == set(tables)
    assert lectures == dict.fromkeys(tables, 0)
