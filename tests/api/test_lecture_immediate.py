"""A booking's calendar cells and occupation counters commit with it: the parent's next read shows
them with no projection runner running at all."""

from __future__ import annotations

from datetime import UTC, datetime

from outils_http import compte_personnel, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, etat, reserver, statuts


def test_reserver_puis_lire_sans_aucun_projecteur(client, horloge) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(
        admin,
        unites=[
            {"code": "SOIR", "libelle": "Accueil du soir", "debut": "16:30", "fin": "18:30", "capacite": 1},
        ],
    )
    premier = nouvelle_famille(client, "premiere@example.fr")
    enfant_1 = ajouter_enfant(premier)
    second = nouvelle_famille(client, "seconde@example.fr", nom="Durand")
    enfant_2 = ajouter_enfant(second, prenom="Enfant 2")
    services = client.app.state.services
    # The runner folds what was written so far (the children's rows among it), then stops: from
    # here on nothing folds the log into the read models.
    services.projecteur.rattraper()
    services.projecteur.arreter()
    position_vues = services.projecteur.position

    assert statuts(reserver(premier, enfant_1, accueil, ("2021-10-04", "SOIR"))) == [
        ("2021-10-04", "SOIR", "reserve")
    ]
    assert etat(premier, enfant_1, "2021-10", "2021-10-04", "SOIR") == "reserve"
    # The other family sees the day full, and its booking goes to the waiting list at once.
    assert etat(second, enfant_2, "2021-10", "2021-10-04", "SOIR") == "complet"
    assert statuts(reserver(second, enfant_2, accueil, ("2021-10-04", "SOIR"))) == [
        ("2021-10-04", "SOIR", "liste_attente")
    ]
    assert etat(second, enfant_2, "2021-10", "2021-10-04", "SOIR") == "liste_attente"

    # A cancellation frees the place: the child waiting is promoted, in the same transaction.
    annulation = premier.post(
        f"/api/enfants/{enfant_1}/annulations",
        json={"accueil_id": accueil, "presences": [{"date": "2021-10-04", "unite": "SOIR"}]},
    )
    assert annulation.status_code == 200, annulation.text
    assert etat(premier, enfant_1, "2021-10", "2021-10-04", "SOIR") == "annule"
    assert etat(second, enfant_2, "2021-10", "2021-10-04", "SOIR") == "reserve"
    occupation = admin.get(
        "/api/agent/occupation", params={"accueil_id": accueil, "du": "2021-10-04", "au": "2021-10-04"}
    )
    assert occupation.status_code == 200, occupation.text
    [jour] = [o for o in occupation.json()["occupation"] if o["unite"] == "SOIR"]
    assert (jour["reserves"], jour["liste_attente"]) == (1, 0)
    # None of this came from the runner: it has not moved.
    assert services.projecteur.position == position_vues
