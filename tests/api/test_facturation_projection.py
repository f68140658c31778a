"""A campaign as of now is the sum of the drafts the runner keeps; its replay, folded from the log
at its position, must give its digest: always the same, in any process, whatever was replayed
before, and a mismatch when a stored event was altered."""

from __future__ import annotations

import multiprocessing
from dataclasses import asdict
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from outils_facturation import processus_rejouant

from outils_http import compte_personnel, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, reserver

PERIODE = {"libelle": "2025-2026", "debut": "2025-09-01", "fin": "2026-07-04"}
GRILLES = {
    "valable_du": "2025-09-01",
    "grilles": [
        {"unite": "MIDI", "residence": "tous", "mode": "forfait", "prix_cents": 310},
        {"unite": "SOIR", "residence": "tous", "mode": "forfait", "prix_cents": 260},
    ],
}


def _commune_facturee(client, horloge):
    horloge.maintenant = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    admin.put(
        "/api/admin/parametres",
        json={"commune": {"nom": "Nantes", "code_postal": "44000"}, "seuil_facturation_cents": 0},
    )
    accueil = creer_accueil(admin, periode=PERIODE, zone_scolaire=None, hors_vacances_scolaires=False)
    assert regie.put(f"/api/admin/accueils/{accueil}/tarifs", json=GRILLES).status_code == 200
    familles = []
    for numero in range(3):
        parent = nouvelle_famille(client, f"famille{numero}@example.fr")
        enfant = ajouter_enfant(parent, prenom=f"Enfant{numero}", naissance="2017-03-01")
        jours = [("2025-11-03", "MIDI"), ("2025-11-04", "MIDI"), ("2025-11-04", "SOIR")][: numero + 1]
        reserver(parent, enfant, accueil, *jours)
        familles.append((parent, enfant))
    return regie, accueil, familles


def _evenement_de_reservation(base, enfant_id: str) -> tuple[int, bytes]:
    with psycopg.connect(base.url) as conn:
        ligne = conn.execute(
            sql.SQL(
                "SELECT notification_id, state FROM {} WHERE enfant_id = %s AND topic = 'portail:Planning.Reserve'"
                " ORDER BY notification_id LIMIT 1"
            ).format(sql.Identifier(base.schema, "portail_events")),
            (enfant_id,),
        ).fetchone()
    assert ligne is not None
    return ligne[0], bytes(ligne[1])


def _ecrire_etat(base, position: int, etat: bytes) -> None:
    with psycopg.connect(base.url) as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET state = %s WHERE notification_id = %s").format(
                sql.Identifier(base.schema, "portail_events")
            ),
            (etat, position),
        )


def _copie(base, campagne_id: str) -> int:
    with psycopg.connect(base.url) as conn:
        ligne = conn.execute(
            sql.SQL(
                "SELECT coalesce(sum(cardinality(famille_ids)), 0) FROM {} WHERE campagne_id = %s"
            ).format(sql.Identifier(base.schema, "proj_campagne_copies")),
            (campagne_id,),
        ).fetchone()
    assert ligne is not None
    return int(ligne[0])


def test_la_campagne_est_la_somme_des_brouillons_et_son_rejeu_la_retrouve(client, horloge, base) -> None:
    regie, _accueil, _familles = _commune_facturee(client, horloge)
    campagne = regie.post("/api/regie/campagnes", json={"periode": "2025-11"})
    assert campagne.status_code == 201, campagne.text
    c = campagne.json()
    assert c["totaux"] == {"familles": 3, "lignes": 6, "montant_cents": 310 + 2 * 310 + 2 * 310 + 260}
    # The campaign waited for the drafts to include the last booking: they show the same sum.
    brouillons = regie.get("/api/regie/brouillons", params={"mois": "2025-11"}).json()
    assert c["totaux"]["montant_cents"] == brouillons["total_cents"]
    # Summed from the drafts, not folded: they were copied for the campaign, a row per family.
    assert _copie(base, c["id"]) == 3

    premier = regie.post("/api/regie/rejeu", json={"campagne_id": c["id"]}).json()
    assert premier["verification"] == {
        "campagne_id": c["id"],
        "empreinte_campagne": c["empreinte"],
        "empreinte_rejeu": c["empreinte"],
        "conforme": True,
    }
    assert premier["position"] == c["position"]
    # The lines served for the campaign are the replay's.
    lignes = regie.get(f"/api/regie/campagnes/{c['id']}/lignes").json()["lignes"]
    assert lignes == premier["lignes"]
    # Interleaved replays of other positions and months change nothing to it.
    for corps in (
        {"periode": "2025-11", "jusqu_a": c["position"] - 3},
        {"periode": "2025-10", "jusqu_a": c["position"]},
        {"periode": "2025-11", "jusqu_a": c["position"] - 1},
    ):
        assert regie.post("/api/regie/rejeu", json=corps).status_code == 200
    encore = regie.post("/api/regie/rejeu", json={"campagne_id": c["id"]}).json()
    assert encore["empreinte"] == premier["empreinte"] == c["empreinte"]
    a_la_position = regie.post(
        "/api/regie/rejeu", json={"periode": "2025-11", "jusqu_a": c["position"]}
    ).json()
    assert a_la_position["empreinte"] == c["empreinte"]
    assert a_la_position["empreinte_lignes"] == premier["empreinte_lignes"]


def test_un_evenement_altere_fait_echouer_le_rejeu_puis_restaure_il_le_retrouve(
    client, horloge, base
) -> None:
    regie, _accueil, familles = _commune_facturee(client, horloge)
    c = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    position, etat = _evenement_de_reservation(base, familles[2][1])

    # A record cut short in the database: the replay says so, and nothing is issued on it.
    _ecrire_etat(base, position, etat[:-3])
    rejeu = regie.post("/api/regie/rejeu", json={"campagne_id": c["id"]}).json()
    assert rejeu["verification"]["conforme"] is False
    assert rejeu["verification"]["empreinte_rejeu"] != c["empreinte"]
    assert rejeu["totaux"]["montant_cents"] < c["totaux"]["montant_cents"]
    emission = regie.post(f"/api/regie/campagnes/{c['id']}/emission")
    assert emission.status_code == 422
    assert "empreinte" in emission.json()["detail"]

    # Restored, the same call finds the campaign again: nothing was kept from the altered replay.
    _ecrire_etat(base, position, etat)
    rejeu = regie.post("/api/regie/rejeu", json={"campagne_id": c["id"]}).json()
    assert rejeu["verification"]["conforme"] is True
    assert regie.post(f"/api/regie/campagnes/{c['id']}/emission").status_code == 200


def test_le_rejeu_d_un_autre_processus_donne_la_meme_empreinte(client, horloge, base, settings) -> None:
    regie, _accueil, _familles = _commune_facturee(client, horloge)
    c = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    contexte = multiprocessing.get_context("spawn")
    sortie = contexte.Queue()
    processus = contexte.Process(
        target=processus_rejouant, args=(base.url, base.schema, asdict(settings), c["id"], sortie)
    )
    processus.start()
    empreinte = sortie.get(timeout=120)
    processus.join(timeout=60)
    assert processus.exitcode == 0
    assert empreinte == c["empreinte"]


def test_une_periode_emise_ne_se_prepare_plus(client, horloge) -> None:
    regie, _accueil, _familles = _commune_facturee(client, horloge)
    c = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    # Another draft of the month may be prepared until one is issued.
    assert regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).status_code == 201
    assert regie.post(f"/api/regie/campagnes/{c['id']}/emission").status_code == 200
    refus = regie.post("/api/regie/campagnes", json={"periode": "2025-11"})
    assert refus.status_code == 422
    assert "déjà facturée" in refus.json()["detail"]
    # A later month still is.
    assert regie.post("/api/regie/campagnes", json={"periode": "2025-12"}).status_code == 201
