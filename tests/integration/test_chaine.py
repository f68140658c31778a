"""The hash-chained log: edits, deletions and swaps made directly in PostgreSQL are named."""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql

from outils_http import compte_personnel, nouvelle_famille


def _journal(client) -> None:
    for i in range(4):
        parent = nouvelle_famille(client, f"chaine{i}@example.fr")
        parent.patch("/api/foyer", json={"situation_familiale": "marie"})


def _sql(base, requete: str, *parametres) -> list:
    with psycopg.connect(base.url, autocommit=True) as conn:
        curseur = conn.execute(
            sql.SQL(requete).format(
                evenements=sql.Identifier(base.schema, "portail_events"),
                chaine=sql.Identifier(base.schema, "portail_events_chaine"),
            ),
            parametres,
        )
        return curseur.fetchall() if curseur.description else []


def _verification(client) -> dict:
    auditeur = compte_personnel(client, f"auditeur{id(client)}@mairie.fr", "auditeur")
    reponse = auditeur.get("/api/audit/verification")
    assert reponse.status_code == 200
    return reponse.json()


def test_journal_intact(client, base) -> None:
    _journal(client)
    total = _sql(base, "SELECT count(*) FROM {evenements}")[0][0]
    resultat = _verification(client)
    assert resultat["ok"] is True
    assert resultat["premiere_anomalie"] is None
    # The auditor's own account creation is checked too: counted at least once.
    assert resultat["evenements_verifies"] >= total


def test_evenement_modifie(client, base) -> None:
    _journal(client)
    position = _sql(
        base, "SELECT notification_id FROM {evenements} ORDER BY notification_id OFFSET 5 LIMIT 1"
    )[0][0]
    _sql(base, "UPDATE {evenements} SET state = state || '\\x20'::bytea WHERE notification_id = %s", position)
    resultat = _verification(client)
    assert resultat["ok"] is False
    assert resultat["evenements_verifies"] == 5
    assert resultat["premiere_anomalie"]["position"] == position
    assert resultat["premiere_anomalie"]["nature"] == "modifie"


def test_evenement_supprime(client, base) -> None:
    _journal(client)
    position = _sql(
        base, "SELECT notification_id FROM {evenements} ORDER BY notification_id OFFSET 3 LIMIT 1"
    )[0][0]
    _sql(base, "DELETE FROM {evenements} WHERE notification_id = %s", position)
    anomalie = _verification(client)["premiere_anomalie"]
    assert (anomalie["position"], anomalie["nature"]) == (position, "supprime")
    assert "disparu" in anomalie["description"]


def test_evenements_permutes(client, base) -> None:
    _journal(client)
    a, b = (
        r[0]
        for r in _sql(
            base, "SELECT notification_id FROM {evenements} ORDER BY notification_id OFFSET 2 LIMIT 2"
        )
    )
    # Swap the two records' places in the log.
    _sql(base, "UPDATE {evenements} SET notification_id = -1 WHERE notification_id = %s", a)
    _sql(base, "UPDATE {evenements} SET notification_id = %s WHERE notification_id = %s", a, b)
    _sql(base, "UPDATE {evenements} SET notification_id = %s WHERE notification_id = -1", b)
    anomalie = _verification(client)["premiere_anomalie"]
    assert (anomalie["position"], anomalie["nature"]) == (a, "deplace")


def test_chaine_videe_ne_se_reconstruit_pas(client, base, settings, horloge) -> None:
    from litestar.testing import TestClient

    from portail.api.app import create_app

    _journal(client)
    _sql(base, "DELETE FROM {chaine}")
    with TestClient(app=create_app(settings, horloge=horloge, base=base)) as autre:
        resultat = _verification(autre)
    assert resultat["ok"] is False
    assert resultat["premiere_anomalie"]["nature"] == "ajoute"


def test_reserve_aux_auditeurs(client) -> None:
    parent = nouvelle_famille(client, "curieux@example.fr")
    assert parent.get("/api/audit/verification").status_code == 403
    assert client.get("/api/audit/verification", headers={"Authorization": ""}).status_code in (401, 403)


def test_une_grosse_sauvegarde_est_enregistree_et_chainee(client, services, base) -> None:
    """A month of invoices is several megabytes in one save: it is stored whole, in order, chained."""
    from datetime import date

    from portail.application.contexte import Contexte
    from portail.domain.enfant import Enfant
    from portail.domain.personnes import IdentiteEnfant, Scolarite

    famille_id = uuid.uuid4()
    enfants = [
        Enfant(
            famille_id=famille_id,
            identite=IdentiteEnfant("Nom" * 200, f"Prénom {i}" * 50, date(2015, 1, 1), "Nantes" * 100),
            scolarite=Scolarite("École" * 100, None, None),
        )
        for i in range(300)
    ]
    avant = _sql(base, "SELECT count(*) FROM {evenements}")[0][0]
    enregistrements = services.portail.enregistrer(Contexte.systeme("test"), *enfants)
    assert sum(len(e.notification.state) for e in enregistrements) > 256 * 1024
    positions = [e.notification.id for e in enregistrements]
    assert positions == sorted(positions) and len(positions) == 300
    assert _sql(base, "SELECT count(*) FROM {evenements}")[0][0] == avant + 300
    assert services.portail.repository.get(enfants[-1].id).identite.prenom == "Prénom 299" * 50
    assert _verification(client)["ok"] is True
