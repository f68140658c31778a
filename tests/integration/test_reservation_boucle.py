"""A parent's booking served on the event loop: decided there on the kept aggregates, its save
queued with the writer and awaited; the same outcomes as in a worker thread, exact capacity under
concurrent requests, the key's answer given again, and a worker thread when the loop cannot serve."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from outils_sql import instructions
from portail.bootstrap import Services
from portail.domain.capacite import Capacite
from portail.domain.planning import Planning

from outils_http import Session, compte_personnel, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, etat, reserver, statuts

pytestmark = pytest.mark.postgres

LUNDI = datetime(2021, 9, 20, 9, tzinfo=UTC)


def _pret(client: Any) -> Services:
    """The app's services once its kept aggregates and keys are trusted (the log followed)."""
    sv: Services = client.app.state.services
    fin = time.monotonic() + 15
    while not (sv.portail.cache.fiable and sv.portail.trousseau.cache_fiable()) and time.monotonic() < fin:
        time.sleep(0.02)
    assert sv.portail.cache.fiable
    return sv


def _une_famille(client: Any, nom: str) -> tuple[str, Session, str]:
    """An accueil, a family and its child, through the API; (accueil, parent, child)."""
    admin = compte_personnel(client, f"admin-{nom}@example.fr", "admin")
    accueil = creer_accueil(admin)
    parent = nouvelle_famille(client, f"{nom}@example.fr")
    return accueil, parent, ajouter_enfant(parent)


def _en_fil_interdit(sv: Services, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records a booking that a worker thread serves (`ServiceReservations.reserver`)."""
    en_fil: list[str] = []
    origine = sv.reservations.reserver

    def note(*args: Any, **kwargs: Any) -> Any:
        en_fil.append("reserver")
        return origine(*args, **kwargs)

    monkeypatch.setattr(sv.reservations, "reserver", note)
    return en_fil


def test_une_reservation_servie_sur_la_boucle_se_lit_aussitot_et_sa_cle_rend_la_meme_reponse(
    client, horloge, monkeypatch
) -> None:
    horloge.maintenant = LUNDI
    accueil, parent, enfant = _une_famille(client, "boucle")
    sv = _pret(client)
    en_fil = _en_fil_interdit(sv, monkeypatch)
    evenements = sv.portail.recorder.max_notification_id()

    cle = {"Idempotency-Key": "boucle-1"}
    premiere = reserver(parent, enfant, accueil, ("2021-10-05", "SOIR"), ("2021-10-02", "SOIR"), headers=cle)
    assert premiere.status_code == 200, premiere.text
    # A Saturday is closed: refused, with why.
    assert statuts(premiere) == [
        ("2021-10-05", "SOIR", "reserve"),
        ("2021-10-02", "SOIR", "refuse"),
    ]
    assert premiere.json()["resultats"][1]["motif"]
    assert en_fil == []
    assert etat(parent, enfant, "2021-10", "2021-10-05", "SOIR") == "reserve"
    apres = sv.portail.recorder.max_notification_id()
    assert apres > evenements

    # Sent again: the stored answer, nothing recorded; with another body: refused.
    encore = reserver(parent, enfant, accueil, ("2021-10-05", "SOIR"), ("2021-10-02", "SOIR"), headers=cle)
    assert (encore.status_code, encore.content) == (200, premiere.content)
    autre = reserver(parent, enfant, accueil, ("2021-10-07", "SOIR"), headers=cle)
    assert autre.status_code == 409, autre.text
    assert autre.headers["content-type"].startswith("application/problem+json")
    assert sv.portail.recorder.max_notification_id() == apres
    assert etat(parent, enfant, "2021-10", "2021-10-07", "SOIR") != "reserve"
    assert en_fil == []

    # Another family's child: 404, as in a worker thread.
    intrus = nouvelle_famille(client, "intrus-boucle@example.fr")
    assert reserver(intrus, enfant, accueil, ("2021-10-07", "SOIR")).status_code == 404
    # An unknown accueil: 422 on the field.
    inconnu = reserver(parent, enfant, str(UUID(int=5)), ("2021-10-07", "SOIR"))
    assert inconnu.status_code == 422, inconnu.text


def test_des_reservations_simultanees_sur_la_boucle_remplissent_la_capacite_exactement(
    client, horloge, monkeypatch
) -> None:
    horloge.maintenant = LUNDI
    admin = compte_personnel(client, "admin-simultanees@example.fr", "admin")
    places = 3
    accueil = creer_accueil(
        admin,
        unites=[{"code": "SOIR", "libelle": "Soir", "debut": "16:30", "fin": "18:30", "capacite": places}],
    )
    parents: list[tuple[Session, str]] = []
    for i in range(12):
        parent = nouvelle_famille(client, f"simultanee-{i}@example.fr")
        parents.append((parent, ajouter_enfant(parent)))
    sv = _pret(client)
    en_fil = _en_fil_interdit(sv, monkeypatch)

    def une(rang: int) -> tuple[str, int]:
        parent, enfant = parents[rang]
        reponse = reserver(
            parent, enfant, accueil, ("2021-10-05", "SOIR"), headers={"Idempotency-Key": f"s-{rang}"}
        )
        assert reponse.status_code == 200, reponse.text
        return statuts(reponse)[0][2], rang

    with ThreadPoolExecutor(max_workers=12) as fils:
        issues = list(fils.map(une, range(12)))
    reserves = [rang for statut, rang in issues if statut == "reserve"]
    attente = [rang for statut, rang in issues if statut == "liste_attente"]
    assert len(reserves) == places
    assert len(attente) == 12 - places
    # The log's truth and what each parent reads agree with the answers.
    capacite: Capacite = sv.portail.repository.get(
        Capacite.id_pour(UUID(accueil), datetime(2021, 10, 5).date())
    )
    assert capacite.occupees("SOIR") == places
    for statut, rang in issues:
        parent, enfant = parents[rang]
        assert etat(parent, enfant, "2021-10", "2021-10-05", "SOIR") == statut
    # No thread's command held the day's lock: every one was served on the loop.
    assert en_fil == []


def test_une_reservation_que_la_boucle_ne_peut_servir_passe_par_un_fil(client, horloge, monkeypatch) -> None:
    """A read the loop may not make in the middle of a decision: the booking goes to a worker
    thread, having deposited nothing, and is made there once."""
    horloge.maintenant = LUNDI
    accueil, parent, enfant = _une_famille(client, "fil")
    sv = _pret(client)
    en_fil = _en_fil_interdit(sv, monkeypatch)

    async def rien(*_: Any) -> None:
        return None

    # Nothing read ahead: the decision needs the child's planning and the day, not kept.
    monkeypatch.setattr(sv.portail, "precharger_async", rien)
    sv.portail.cache.vider()
    evenements = sv.portail.recorder.max_notification_id() or 0
    reponse = reserver(parent, enfant, accueil, ("2021-10-05", "SOIR"), headers={"Idempotency-Key": "fil-1"})
    assert reponse.status_code == 200, reponse.text
    assert statuts(reponse) == [("2021-10-05", "SOIR", "reserve")]
    assert en_fil == ["reserver"]
    assert etat(parent, enfant, "2021-10", "2021-10-05", "SOIR") == "reserve"
    # One booking: the planning's opening and its booking, the day's capacity.
    nouveaux = sv.portail.evenements_de([Capacite.id_pour(UUID(accueil), datetime(2021, 10, 5).date())])
    assert [e for p, e in nouveaux if p > evenements]
    encore = reserver(parent, enfant, accueil, ("2021-10-05", "SOIR"), headers={"Idempotency-Key": "fil-1"})
    assert encore.content == reponse.content


def test_la_premiere_reservation_d_un_enfant_lit_l_enfant_son_planning_et_le_jour_ensemble(
    client, horloge
) -> None:
    """A child the process does not keep yet (another api process served the family until
    now), at an accueil it keeps: its booking on the loop reads the child, the planning and the
    day in one statement, then saves in one."""
    horloge.maintenant = LUNDI
    accueil, parent, enfant = _une_famille(client, "premiere")
    sv = _pret(client)
    reserver(parent, enfant, accueil, ("2021-10-04", "SOIR"))  # the accueil is kept from now on
    jour = datetime(2021, 10, 5).date()
    sv.portail.cache.retirer(
        [UUID(enfant), Planning.id_pour(UUID(enfant), UUID(accueil)), Capacite.id_pour(UUID(accueil), jour)]
    )
    with instructions(sv) as envoyees:
        reponse = reserver(parent, enfant, accueil, ("2021-10-05", "SOIR"))
    assert statuts(reponse) == [("2021-10-05", "SOIR", "reserve")]
    assert len(envoyees) == 2, envoyees
