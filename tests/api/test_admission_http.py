"""A full queue of booking commands: the booking is answered at once with a French 429 and
`Retry-After`, nothing is recorded, and the same request (same key) books once there is room."""

from __future__ import annotations

from datetime import UTC, datetime

from outils_http import compte_personnel, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, etat


def test_file_pleine_429_puis_la_meme_demande_passe(client, horloge) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(admin)
    parent = nouvelle_famille(client, "peje@example.fr", nom="Peje")
    enfant = ajouter_enfant(parent)
    file = client.app.state.file_commandes
    corps = {"accueil_id": accueil, "presences": [{"date": "2021-10-04", "unite": "MATIN"}]}
    entetes = {"Idempotency-Key": "ruee-1"}

    file.en_cours = file.maximum  # as many bookings in progress as the process holds
    refus = parent.post(f"/api/enfants/{enfant}/reservations", json=corps, headers=entetes)
    assert refus.status_code == 429
    assert refus.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(refus.headers["Retry-After"]) <= 30
    assert "Renvoyez-la dans" in refus.json()["detail"]
    # Reads are not queued behind bookings.
    assert parent.get(f"/api/enfants/{enfant}/planning", params={"mois": "2021-10"}).status_code == 200
    assert etat(parent, enfant, "2021-10", "2021-10-04", "MATIN") == "libre"

    file.en_cours = 0
    accepte = parent.post(f"/api/enfants/{enfant}/reservations", json=corps, headers=entetes)
    assert accepte.status_code == 200
    assert [r["statut"] for r in accepte.json()["resultats"]] == ["reserve"]
    assert file.en_cours == 0  # every admitted command leaves the count
    assert etat(parent, enfant, "2021-10", "2021-10-04", "MATIN") == "reserve"
