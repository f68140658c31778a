"""Instants in answers read in Paris time with their offset; the audit's chained timestamps stay
UTC, as recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

from portail.domain.regles.calendrier import PARIS

from outils_http import MOT_DE_PASSE, compte_personnel, nouvelle_famille


def _a_l_heure_de_paris(texte: str) -> bool:
    instant = datetime.fromisoformat(texte)
    return instant.utcoffset() == instant.astimezone(PARIS).utcoffset() != timedelta(0)


def test_l_expiration_de_la_session_et_une_actualite_sont_a_l_heure_de_paris(client) -> None:
    parent = nouvelle_famille(client, "parent@example.fr")
    connexion = client.post(
        "/api/auth/connexion", json={"email": "parent@example.fr", "mot_de_passe": MOT_DE_PASSE}
    )
    assert _a_l_heure_de_paris(connexion.json()["expire_le"])

    admin = compte_personnel(client, "admin@example.fr", "admin")
    publiee = admin.post(
        "/api/admin/actualites", json={"titre": "Rentrée", "contenu": "Inscriptions ouvertes."}
    )
    assert publiee.status_code == 201
    assert _a_l_heure_de_paris(publiee.json()["publiee_le"])
    [lue] = parent.get("/api/actualites").json()
    assert _a_l_heure_de_paris(lue["publiee_le"])

    auditeur = compte_personnel(client, "auditeur@example.fr", "auditeur")
    [evenement, *_] = auditeur.get("/api/audit/evenements", params={"famille_id": parent.famille_id}).json()[
        "evenements"
    ]
    assert datetime.fromisoformat(evenement["horodatage"]).utcoffset() == timedelta(0)
