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
    # Encrypted at rest in the log and snapshots; in clear only in the payer's name for the régie,
    # which goes with the erasure. The child's name and health never reach a read model.
    avant = _occurrences(base.url, base.schema, aiguilles)
    assert {t for tables in avant.values() for t in tables} <= {"proj_familles"}
    assert avant[PRENOM_ENFANT] == []
    assert avant[ALLERGIE] == []
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


# Résident and extérieur prices differ, a PAI has its own price, the 2nd and 3rd children pay less:
# a family priced on facts it no longer has would be billed other amounts.
GRILLES_RESIDENCE = {
    "valable_du": "2025-09-01",
    "grilles": [
        {
            "unite": "MIDI",
            "residence": residence,
            "mode": "forfait",
            "prix_cents": prix,
            "pai_cents": pai,
            "fratrie": [{"rang": 2, "reduction_pourcent": 20}, {"rang": 3, "reduction_pourcent": 50}],
        }
        for residence, prix, pai in (("resident", 305, 150), ("exterieur", 420, 200))
    ],
}
PERIODE_2025 = {"libelle": "2025-2026", "debut": "2025-09-01", "fin": "2026-07-04"}
# Per day, résident: eldest 3,05 €, the PAI child 1,50 € (PAI price, no reduction), the third
# 1,53 € (-50 %); extérieur it would be 4,20 + 2,00 + 2,10 €.
JOUR_RESIDENT = 305 + 150 + 153


def _famille_facturee_corrigee(client, horloge):
    """A résident family of three children (the middle one with a PAI) billed for two days of
    November, then a strike on the second day corrected by a credit note."""
    from datetime import UTC, datetime

    from outils_http import connecter
    from outils_reservation import ajouter_enfant, creer_accueil, reserver

    horloge.maintenant = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    parametres = {"commune": {"nom": "Nantes", "code_postal": "44000"}, "seuil_facturation_cents": 0}
    assert admin.put("/api/admin/parametres", json=parametres).status_code == 200
    accueil = creer_accueil(admin, periode=PERIODE_2025, zone_scolaire=None, hors_vacances_scolaires=False)
    assert regie.put(f"/api/admin/accueils/{accueil}/tarifs", json=GRILLES_RESIDENCE).status_code == 200
    parent = nouvelle_famille(client, "fratrie@example.fr", nom=NOM)
    enfants = [
        ajouter_enfant(parent, prenom=p, naissance=n)
        for p, n in (("Cadet", "2016-01-01"), ("Aîné", "2014-01-01"), ("Benjamin", "2018-01-01"))
    ]
    assert parent.put(f"/api/enfants/{enfants[0]}/sante", json={"pai": True}).status_code == 200
    for enfant in enfants:
        assert (
            reserver(parent, enfant, accueil, ("2025-11-03", "MIDI"), ("2025-11-04", "MIDI")).status_code
            == 200
        )
    horloge.maintenant = datetime(2025, 12, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr")
    admin = connecter(client, "admin@mairie.fr")
    parent = connecter(client, "fratrie@example.fr")
    campagne = regie.post("/api/regie/campagnes", json={"periode": "2025-11"}).json()
    assert campagne["totaux"]["montant_cents"] == 2 * JOUR_RESIDENT
    assert regie.post(f"/api/regie/campagnes/{campagne['id']}/emission").status_code == 200
    greve = admin.post(
        f"/api/admin/accueils/{accueil}/fermetures", json={"date": "2025-11-04", "motif": "Grève"}
    )
    assert greve.status_code == 201
    corrective = regie.post(f"/api/regie/campagnes/{campagne['id']}/correction", json={}).json()
    assert corrective["totaux"]["montant_cents"] == -JOUR_RESIDENT
    assert regie.post(f"/api/regie/campagnes/{corrective['id']}/emission").status_code == 200
    return admin, regie, parent, campagne, corrective, (accueil, enfants)


def _lectures(regie, campagne, corrective, famille_id):
    """Everything staff read about the two campaigns, and a replay at each one's position."""
    lu = {}
    for c in (campagne, corrective):
        reponse = regie.get(f"/api/regie/campagnes/{c['id']}")
        assert reponse.status_code == 200, reponse.text
        lignes = regie.get(f"/api/regie/campagnes/{c['id']}/lignes")
        assert lignes.status_code == 200, lignes.text
        rejeu = regie.post("/api/regie/rejeu", json={"periode": "2025-11", "jusqu_a": c["position"]})
        assert rejeu.status_code == 200, rejeu.text
        lu[c["id"]] = (reponse.json(), lignes.json(), rejeu.json())
    brouillons = regie.get("/api/regie/brouillons", params={"mois": "2025-11"}).json()
    lu["brouillon"] = [f for f in brouillons["familles"] if f["famille_id"] == famille_id]
    return lu


def test_une_famille_effacee_garde_ses_montants_factures(client, horloge, settings, base) -> None:
    from litestar.testing import TestClient

    from portail.api.app import create_app

    from outils_http import connecter

    admin, regie, parent, campagne, corrective, _ = _famille_facturee_corrigee(client, horloge)
    avant = _lectures(regie, campagne, corrective, parent.famille_id)
    assert (
        regie.post(
            "/api/regie/reglements",
            json={"famille_id": parent.famille_id, "montant_cents": JOUR_RESIDENT, "mode": "cheque"},
        ).status_code
        == 201
    )

    assert admin.delete(f"/api/admin/familles/{parent.famille_id}").status_code == 204

    # Campaigns, their lines, their replays and the draft read as before: same amounts, same digests,
    # in this process and in another one, which never saw the family's data.
    apres = _lectures(regie, campagne, corrective, parent.famille_id)
    assert apres == avant
    with TestClient(app=create_app(settings, horloge=horloge, base=base)) as autre:
        apres = _lectures(connecter(autre, "regie@mairie.fr"), campagne, corrective, parent.famille_id)
    assert apres == avant
    _, _, rejeu = apres[campagne["id"]]
    assert rejeu["empreinte"] == campagne["empreinte"]
    assert rejeu["totaux"]["montant_cents"] == 2 * JOUR_RESIDENT
    assert all("; résident;" in ligne["explication"] for ligne in rejeu["lignes"])
    assert sorted(ligne["prix_unitaire_cents"] for ligne in rejeu["lignes"]) == [150, 150, 153, 153, 305, 305]
    # Computed now, after the erasure, the family is still résident, its children in the same order.
    maintenant = regie.post("/api/regie/rejeu", json={"periode": "2025-11", "jusqu_a": "2030-01-01T00:00:00"})
    assert maintenant.json()["totaux"]["montant_cents"] == JOUR_RESIDENT
    assert apres["brouillon"] == [
        {"famille_id": parent.famille_id, "lignes": 3, "montant_cents": JOUR_RESIDENT, "anomalies": 3}
    ]


def test_une_famille_qui_doit_encore_de_l_argent_n_est_pas_effacee(client, horloge) -> None:
    from outils_reservation import etat, reserver

    admin, _regie, parent, _campagne, _corrective, (accueil, enfants) = _famille_facturee_corrigee(
        client, horloge
    )
    assert reserver(parent, enfants[1], accueil, ("2026-01-05", "MIDI")).status_code == 200
    refus = admin.delete(f"/api/admin/familles/{parent.famille_id}")
    assert refus.status_code == 409, refus.text
    assert refus.headers["content-type"].startswith("application/problem+json")
    assert refus.json()["detail"] == (
        "Cette famille doit encore 6,08 € (1 facture à régler) : elle ne peut être effacée"
        " qu'une fois son solde réglé."
    )
    # Nothing erased: the family still logs in and reads its file and its places.
    assert parent.get("/api/foyer").json()["responsables"][0]["nom"] == NOM
    assert parent.get("/api/solde").json()["solde_cents"] == JOUR_RESIDENT
    assert etat(parent, enfants[1], "2026-01", "2026-01-05", "MIDI") == "reserve"
