"""Crypto-shredding: after erasing a family, its personal data is nowhere in the database,
while amounts, dates and ids stay readable."""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg import sql

from portail.domain.enfant import Enfant
from portail.domain.famille import Famille

from outils_http import compte_personnel, nouvelle_famille

NOM = "Zyxwvutsky"
PRENOM_ENFANT = "Quentinoux"
EMAIL = "zyxwvutsky.famille@example.fr"
IBAN = "FR7630006000011234567890189"
TELEPHONE = "0687654321"
ALLERGIE = "pollen-de-cypres-rare"


def _occurrences(url: str, schema: str, aiguilles: list[str]) -> dict[str, list[str]]:
    """Every table of the schema, every column, raw bytes included: where does each needle appear?"""
    trouve: dict[str, list[str]] = {a: [] for a in aiguilles}
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
            )
        ]
        assert "portail_events" in tables
        for table in tables:
            requete = sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            for ligne in conn.execute(requete):
                for valeur in ligne:
                    brut = valeur if isinstance(valeur, bytes | memoryview) else str(valeur).encode()
                    brut = bytes(brut)
                    for aiguille in aiguilles:
                        if aiguille.encode() in brut or aiguille.lower().encode() in brut.lower():
                            trouve[aiguille].append(table)
    return trouve


def test_effacement_rend_les_donnees_personnelles_introuvables(client, base) -> None:
    # The app's own services: another process would keep a read key for up to CACHE_SECONDES.
    services = client.app.state.services
    parent = nouvelle_famille(client, EMAIL, nom=NOM)
    parent.patch("/api/moi", json={"telephone": TELEPHONE})
    enfant_id = parent.post(
        "/api/enfants", json={"nom": NOM, "prenom": PRENOM_ENFANT, "date_naissance": "2016-02-03"}
    ).json()["id"]
    parent.put(f"/api/enfants/{enfant_id}/sante", json={"allergies": [ALLERGIE], "pai": True})
    parent.put("/api/prelevement", json={"titulaire": f"Claire {NOM}", "iban": IBAN})
    # Enough changes for a snapshot of the family (every 50 versions).
    for i in range(52):
        parent.patch("/api/foyer", json={"situation_familiale": "marie" if i % 2 else "pacse"})
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    regie.put(
        f"/api/regie/familles/{parent.famille_id}/quotient-familial",
        json={"valeur": 742, "valable_du": "2026-01-01", "source": "caf"},
        headers={"X-Motif": f"attestation%20CAF%20de%20Mme%20{NOM}"},
    )
    # Auditors read the reason; it is stored encrypted like the family's other personal data.
    dernier = list(services.portail.events.get(parent.famille_id))[-1]
    assert dernier.audit["motif"] == f"attestation CAF de Mme {NOM}"  # type: ignore[attr-defined]
    assert dernier.audit["acteur"]["role"] == "regisseur"  # type: ignore[attr-defined]
    aiguilles = [NOM, PRENOM_ENFANT, EMAIL, IBAN, TELEPHONE, ALLERGIE]
    # Encrypted at rest in the log and snapshots; in clear only in the read models (the child's
    # row, the payer's name for the régie), which go with the erasure.
    avant = _occurrences(base.url, base.schema, aiguilles)
    assert {t for tables in avant.values() for t in tables} <= {"proj_enfants", "proj_familles"}
    assert avant[PRENOM_ENFANT] == ["proj_enfants"]
    assert parent.get("/api/foyer").json()["responsables"][0]["nom"] == NOM
    with psycopg.connect(base.url) as conn:
        nb = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.portail_snapshots").format(sql.Identifier(base.schema))
        ).fetchone()
        assert nb is not None
        assert nb[0] >= 1

    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    assert admin.delete(f"/api/admin/familles/{parent.famille_id}").status_code == 204

    assert _occurrences(base.url, base.schema, aiguilles) == {a: [] for a in aiguilles}
    # The family can no longer log in nor be read.
    assert parent.get("/api/foyer").status_code == 401
    assert (
        client.post(
            "/api/auth/connexion", json={"email": EMAIL, "mot_de_passe": "Motdepasse-2026"}
        ).status_code
        == 401
    )
    # What accounting needs stays: ids, dates, QF amounts, the mandate reference.
    famille = services.portail.charger(Famille, parent.famille_id)
    assert famille.effacee
    assert famille.responsable is None
    assert [(q.valeur, q.valable_du) for q in famille.quotients] == [(742, date(2026, 1, 1))]
    assert famille.mandats[0].rum.startswith("PF-")
    assert famille.mandats[0].iban is None
    enfant = services.portail.charger(Enfant, famille.enfants[0])
    assert enfant.identite is None
    assert enfant.sante is None
    # Every stored event still decodes; personal fields read as None.
    historique = list(services.portail.events.get(parent.famille_id))
    cree = historique[0]
    assert isinstance(cree, Famille.Creee)
    assert cree.responsable is None
    quotient = next(e for e in historique if isinstance(e, Famille.QuotientFamilialEnregistre))
    assert quotient.quotient.valeur == 742
    assert quotient.audit["motif"] is None  # type: ignore[attr-defined]
    assert quotient.audit["correlation_id"]  # type: ignore[attr-defined]
    # The address is free for a new registration.
    assert nouvelle_famille(client, EMAIL).famille_id != parent.famille_id


def test_effacer_n_atteint_pas_les_autres_familles(client, services) -> None:
    a = nouvelle_famille(client, "garde@example.fr", nom="Gardee")
    b = nouvelle_famille(client, "efface@example.fr", nom="Effacee")
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    assert admin.delete(f"/api/admin/familles/{b.famille_id}").status_code == 204
    assert a.get("/api/foyer").json()["responsables"][0]["nom"] == "Gardee"
    assert admin.delete(f"/api/admin/familles/{a.famille_id}x").status_code == 404
    assert a.delete(f"/api/admin/familles/{a.famille_id}").status_code == 403


def test_l_effacement_libere_les_places_a_venir(client, horloge) -> None:
    from datetime import UTC, datetime

    from outils_reservation import ajouter_enfant, creer_accueil, etat, reserver

    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(
        admin, unites=[{"code": "SOIR", "libelle": "Soir", "debut": "16:30", "capacite": 1}]
    )
    restante = nouvelle_famille(client, "reste@example.fr")
    partie = nouvelle_famille(client, "partie@example.fr", nom="Partie")
    e_reste, e_partie = ajouter_enfant(restante), ajouter_enfant(partie)
    reserver(restante, e_reste, accueil, ("2021-10-05", "SOIR"))
    reserver(partie, e_partie, accueil, ("2021-10-05", "SOIR"))
    assert admin.delete(f"/api/admin/familles/{partie.famille_id}").status_code == 204
    # The erased child's waiting-list entry went with the erasure.
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    occupation = agent.get(
        "/api/agent/occupation", params={"accueil_id": accueil, "du": "2021-10-05", "au": "2021-10-05"}
    ).json()["occupation"]
    assert [(o["reserves"], o["liste_attente"]) for o in occupation] == [(1, 0)]
    annulation = restante.post(
        f"/api/enfants/{e_reste}/annulations",
        json={"accueil_id": accueil, "presences": [{"date": "2021-10-05", "unite": "SOIR"}]},
        headers={"X-Motif": "rendez-vous%20m%C3%A9dical"},
    )
    assert annulation.status_code == 200
    assert etat(restante, e_reste, "2021-10", "2021-10-05", "SOIR") == "annule"
