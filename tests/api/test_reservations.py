"""Booking through HTTP on PostgreSQL: the seed's scenario, the refusals, the waiting list,
idempotency, cancellations, absences and pointage."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from portail.domain.capacite import Capacite

from outils_http import compte_personnel, connecter, nouvelle_famille
from outils_reservation import (
    accueil_periscolaire,
    ajouter_enfant,
    creer_accueil,
    etat,
    place_offerte,
    reserver,
    statuts,
)


def _avant_la_rentree(horloge) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)


def test_scenario_du_seed_reserver_puis_recopier_jusqu_a_fin_octobre(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(admin)
    parent = nouvelle_famille(client, "peje@example.fr", nom="Peje")
    enfant = ajouter_enfant(parent)
    offres = parent.get("/api/accueils", params={"enfant_id": enfant}).json()
    assert [(o["etablissement"], o["mode_accueil"]) for o in offres] == [
        ("PERISCOLAIRE", "Garderie et Restauration")
    ]
    assert [u["code"] for u in offres[0]["unites"]] == ["MATIN", "MIDI", "SOIR"]
    assert offres[0]["unites"][0]["debut"] == "07:15"

    assert statuts(reserver(parent, enfant, accueil, ("2021-10-04", "MATIN"), ("2021-10-04", "SOIR"))) == [
        ("2021-10-04", "MATIN", "reserve"),
        ("2021-10-04", "SOIR", "reserve"),
    ]
    recopie = parent.post(
        f"/api/enfants/{enfant}/reservations/recopier",
        json={"accueil_id": accueil, "semaine_du": "2021-10-04", "jusqu_au": "2021-10-31"},
    )
    resultats = recopie.json()["resultats"]
    assert [(r["date"], r["unite"], r["statut"]) for r in resultats] == [
        ("2021-10-11", "MATIN", "reserve"),
        ("2021-10-11", "SOIR", "reserve"),
        ("2021-10-18", "MATIN", "reserve"),
        ("2021-10-18", "SOIR", "reserve"),
        ("2021-10-25", "MATIN", "refuse"),
        ("2021-10-25", "SOIR", "refuse"),
    ]
    # Toussaint holidays of zone A: the périscolaire is closed.
    assert resultats[-1]["motif"] == "fermé : vacances scolaires"

    planning = parent.get(f"/api/enfants/{enfant}/planning", params={"mois": "2021-10"}).json()
    assert planning["mois"] == "2021-10"
    assert len(planning["jours"]) == 31
    jours = {j["date"]: {u["code"]: u for u in j["unites"]} for j in planning["jours"]}
    assert jours["2021-10-04"]["MATIN"]["etat"] == "reserve"
    assert jours["2021-10-04"]["SOIR"]["etat"] == "reserve"
    assert jours["2021-10-04"]["MIDI"]["etat"] == "libre"
    # Cancellable until the day before at 18:00, Paris time.
    assert jours["2021-10-04"]["MATIN"]["modifiable_jusqu_au"] == "2021-10-03T18:00:00+02:00"
    assert jours["2021-10-18"]["SOIR"]["etat"] == "reserve"
    assert jours["2021-10-06"]["MATIN"]["etat"] == "ferme"
    assert jours["2021-10-26"]["MATIN"]["etat"] == "ferme"


def test_le_planning_d_un_seul_accueil(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    periscolaire = creer_accueil(admin)
    cantine = creer_accueil(
        admin,
        etablissement="RESTAURATION",
        unites=[{"code": "REPAS", "libelle": "Repas", "debut": "11:45", "fin": "13:30"}],
    )
    parent = nouvelle_famille(client, "peje@example.fr", nom="Peje")
    enfant = ajouter_enfant(parent)

    def codes(**params: str) -> set[tuple[str, str]]:
        reponse = parent.get(f"/api/enfants/{enfant}/planning", params={"mois": "2021-10", **params})
        assert reponse.status_code == 200, reponse.text
        return {(u["accueil_id"], u["code"]) for j in reponse.json()["jours"] for u in j["unites"]}

    assert codes() == {(periscolaire, c) for c in ("MATIN", "MIDI", "SOIR")} | {(cantine, "REPAS")}
    assert codes(accueil_id=cantine) == {(cantine, "REPAS")}
    inconnu = parent.get(
        f"/api/enfants/{enfant}/planning", params={"mois": "2021-10", "accueil_id": str(uuid.uuid4())}
    )
    assert inconnu.status_code == 404


def test_refus_expliques_et_rien_d_enregistre_pour_eux(client, horloge) -> None:
    horloge.maintenant = datetime(2021, 10, 3, 17, 0, tzinfo=UTC)  # 19:00 in Paris
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(admin)
    parent = nouvelle_famille(client, "refus@example.fr")
    enfant = ajouter_enfant(parent)
    reponse = reserver(
        parent,
        enfant,
        accueil,
        ("2021-10-04", "MATIN"),  # the deadline was 3 Oct 18:00
        ("2021-10-06", "MATIN"),  # a Wednesday: no périscolaire
        ("2021-11-11", "MATIN"),  # Armistice
        ("2021-10-05", "SOIR"),  # fine
    )
    resultats = {(r["date"], r["unite"]): r for r in reponse.json()["resultats"]}
    assert resultats[("2021-10-04", "MATIN")]["statut"] == "refuse"
    assert resultats[("2021-10-04", "MATIN")]["motif"] == "délai dépassé : limite le 03/10/2021 à 18:00"
    assert resultats[("2021-10-06", "MATIN")]["motif"] == "fermé : jour sans accueil"
    assert resultats[("2021-11-11", "MATIN")]["motif"] == "fermé : jour férié"
    assert resultats[("2021-10-05", "SOIR")]["statut"] == "reserve"
    assert etat(parent, enfant, "2021-10", "2021-10-04", "MATIN") == "verrouille"
    assert etat(parent, enfant, "2021-10", "2021-10-05", "SOIR") == "reserve"


def test_demandes_mal_formees_422_ou_404(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(admin)
    parent = nouvelle_famille(client, "forme@example.fr")
    autre = nouvelle_famille(client, "autre@example.fr")
    enfant = ajouter_enfant(parent)
    inconnue = reserver(parent, enfant, accueil, ("2021-10-04", "GOUTER"))
    assert inconnue.status_code == 422
    assert inconnue.json()["erreurs"][0]["champ"] == "presences[0].unite"
    accueil_inconnu = reserver(
        parent, enfant, "00000000-0000-0000-0000-000000000001", ("2021-10-04", "MATIN")
    )
    assert accueil_inconnu.status_code == 422
    assert accueil_inconnu.json()["erreurs"][0]["champ"] == "accueil_id"
    mauvaise_date = reserver(parent, enfant, accueil, ("2021-02-30", "MATIN"))
    assert mauvaise_date.status_code == 422
    assert reserver(autre, enfant, accueil, ("2021-10-04", "MATIN")).status_code == 404
    assert parent.get(f"/api/enfants/{enfant}/planning", params={"mois": "2021-13"}).status_code in (400, 422)


def test_incompatibilites_et_dependances(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(
        admin,
        etablissement="ACCUEIL DE LOISIRS",
        mode_accueil="Mercredis",
        jours=[3],
        hors_vacances_scolaires=True,
        unites=[
            {
                "code": "JOURNEE",
                "libelle": "Journée",
                "debut": "08:30",
                "fin": "17:30",
                "capacite": 40,
                "incompatibles": ["MATINEE"],
            },
            {"code": "MATINEE", "libelle": "Matinée", "debut": "08:30", "fin": "12:00", "capacite": 40},
            {
                "code": "REPAS",
                "libelle": "Repas",
                "debut": "12:00",
                "fin": "13:30",
                "capacite": 40,
                "requiert": ["MATINEE"],
            },
        ],
    )
    parent = nouvelle_famille(client, "mercredi@example.fr")
    enfant = ajouter_enfant(parent)
    r = reserver(
        parent, enfant, accueil, ("2021-10-06", "REPAS"), ("2021-10-06", "MATINEE"), ("2021-10-06", "JOURNEE")
    )
    resultats = {r["unite"]: r for r in r.json()["resultats"]}
    assert resultats["MATINEE"]["statut"] == "reserve"
    assert resultats["REPAS"]["statut"] == "reserve"  # its dependency is in the same batch
    assert resultats["JOURNEE"]["statut"] == "refuse"
    assert resultats["JOURNEE"]["motif"] == "incompatible avec MATINEE"
    seul = reserver(parent, enfant, accueil, ("2021-10-13", "REPAS"))
    assert seul.json()["resultats"][0]["motif"] == "nécessite aussi MATINEE"


def test_liste_d_attente_promotion_automatique_dans_l_ordre(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    unites = [{"code": "SOIR", "libelle": "Soir", "debut": "16:30", "fin": "18:30", "capacite": 1}]
    accueil = creer_accueil(admin, unites=unites)
    familles = [nouvelle_famille(client, f"f{i}@example.fr") for i in range(3)]
    enfants = [ajouter_enfant(f, prenom=f"Enfant {i}") for i, f in enumerate(familles)]
    assert [
        statuts(reserver(f, e, accueil, ("2021-10-05", "SOIR")))[0][2]
        for f, e in zip(familles, enfants, strict=True)
    ] == [
        "reserve",
        "liste_attente",
        "liste_attente",
    ]
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    occupation = agent.get(
        "/api/agent/occupation", params={"accueil_id": accueil, "du": "2021-10-05", "au": "2021-10-05"}
    ).json()["occupation"]
    assert occupation == [
        {"date": "2021-10-05", "unite": "SOIR", "capacite": 1, "reserves": 1, "liste_attente": 2}
    ]
    annulation = familles[0].post(
        f"/api/enfants/{enfants[0]}/annulations",
        json={"accueil_id": accueil, "presences": [{"date": "2021-10-05", "unite": "SOIR"}]},
    )
    assert annulation.json()["resultats"] == [
        {"date": "2021-10-05", "unite": "SOIR", "statut": "annule", "facturable": False}
    ]
    # The first in line gets the place, the second keeps waiting.
    assert etat(familles[1], enfants[1], "2021-10", "2021-10-05", "SOIR") == "reserve"
    assert etat(familles[2], enfants[2], "2021-10", "2021-10-05", "SOIR") == "liste_attente"
    assert etat(familles[0], enfants[0], "2021-10", "2021-10-05", "SOIR") == "annule"


def test_complet_sans_liste_d_attente(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(
        admin,
        liste_attente="aucune",
        unites=[{"code": "SOIR", "libelle": "Soir", "debut": "16:30", "capacite": 1}],
    )
    a = nouvelle_famille(client, "a@example.fr")
    b = nouvelle_famille(client, "b@example.fr")
    ea, eb = ajouter_enfant(a), ajouter_enfant(b)
    assert statuts(reserver(a, ea, accueil, ("2021-10-05", "SOIR")))[0][2] == "reserve"
    refus = reserver(b, eb, accueil, ("2021-10-05", "SOIR")).json()["resultats"][0]
    assert (refus["statut"], refus["motif"]) == ("refuse", "complet sans liste d'attente")
    assert etat(b, eb, "2021-10", "2021-10-05", "SOIR") == "complet"


def test_cle_d_idempotence(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(admin)
    parent = nouvelle_famille(client, "idem@example.fr")
    enfant = ajouter_enfant(parent)
    entete = {"Idempotency-Key": "resa-0001"}
    premiere = reserver(parent, enfant, accueil, ("2021-10-04", "MATIN"), headers=entete)
    seconde = reserver(parent, enfant, accueil, ("2021-10-04", "MATIN"), headers=entete)
    assert premiere.status_code == seconde.status_code == 200
    assert premiere.json() == seconde.json()
    autre_corps = reserver(parent, enfant, accueil, ("2021-10-05", "MATIN"), headers=entete)
    assert autre_corps.status_code == 409
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    occupation = agent.get(
        "/api/agent/occupation", params={"accueil_id": accueil, "du": "2021-10-04", "au": "2021-10-05"}
    ).json()["occupation"]
    assert occupation == [
        {"date": "2021-10-04", "unite": "MATIN", "capacite": 30, "reserves": 1, "liste_attente": 0}
    ]


def test_reservation_tardive_majoree_et_annulation_tardive(client, horloge) -> None:
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    vailhauques = {
        "ancrage": "jour_semaine_precedent",
        "jours_semaine": [2, 5],
        "heure_limite": "09:00",
        "retard": {"majoration_pourcent": 50},
    }
    accueil = creer_accueil(
        admin,
        unites=[{"code": "MIDI", "libelle": "Repas", "debut": "11:45", "fin": "13:30", "capacite": 100}],
        regle_reservation=vailhauques,
        regle_annulation={
            "ancrage": "jour_semaine_precedent",
            "jours_semaine": [2, 5],
            "heure_limite": "09:00",
        },
    )
    # Monday 11 Oct: deadline Friday 8 Oct 9:00. On Saturday it is late but accepted at +50 %.
    horloge.maintenant = datetime(2021, 10, 9, 10, 0, tzinfo=UTC)
    parent = nouvelle_famille(client, "vailhauques@example.fr")
    enfant = ajouter_enfant(parent)
    tardive = reserver(parent, enfant, accueil, ("2021-10-11", "MIDI")).json()["resultats"][0]
    assert tardive["statut"] == "reserve"
    assert tardive["majoration_pourcent"] == 50
    annulation = parent.post(
        f"/api/enfants/{enfant}/annulations",
        json={"accueil_id": accueil, "presences": [{"date": "2021-10-11", "unite": "MIDI"}]},
    ).json()["resultats"][0]
    assert annulation["statut"] == "refuse"
    assert annulation["motif"] == "délai d'annulation dépassé : limite le 08/10/2021 à 09:00"


def test_absence_justifiee_et_pointage(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(admin)
    parent = nouvelle_famille(client, "pointage@example.fr", nom="Pointe")
    enfant = ajouter_enfant(parent, prenom="Léa")
    frere = ajouter_enfant(parent, prenom="Tom")
    parent.put(f"/api/enfants/{enfant}/sante", json={"allergies": ["arachide"], "pai": True})
    reserver(parent, enfant, accueil, ("2021-10-04", "MATIN"), ("2021-10-05", "MATIN"))
    reserver(parent, frere, accueil, ("2021-10-04", "MATIN"))
    certificat = parent.post(
        "/api/documents",
        files={"fichier": ("certificat.pdf", b"%PDF-1.4 certificat", "application/pdf")},
        data={"type": "certificat_medical", "enfant_id": enfant},
    )
    assert certificat.status_code == 201, certificat.text
    inconnu = parent.post(
        f"/api/enfants/{enfant}/absences",
        json={
            "accueil_id": accueil,
            "date": "2021-10-05",
            "unites": ["MATIN"],
            "motif": "Malade",
            "document_id": str(uuid.uuid4()),
        },
    )
    assert inconnu.status_code == 422
    absence = parent.post(
        f"/api/enfants/{enfant}/absences",
        json={
            "accueil_id": accueil,
            "date": "2021-10-05",
            "unites": ["MATIN"],
            "motif": "Malade",
            "document_id": certificat.json()["id"],
        },
    )
    assert absence.status_code == 201
    assert absence.json()["etat"] == "absent_justifie"
    sans = parent.post(
        f"/api/enfants/{enfant}/absences",
        json={"accueil_id": accueil, "date": "2021-10-07", "unites": ["MATIN"], "motif": "Malade"},
    )
    assert sans.status_code == 422
    horloge.maintenant = datetime(2021, 10, 4, 6, 0, tzinfo=UTC)
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    parent = connecter(client, "pointage@example.fr")
    liste = agent.get("/api/agent/pointage", params={"accueil_id": accueil, "date": "2021-10-04"}).json()
    fiches = {e["prenom"]: e for e in liste["enfants"]}
    assert set(fiches) == {"Léa", "Tom"}
    assert fiches["Léa"]["allergies"] == ["arachide"]
    assert fiches["Léa"]["pai"] is True
    assert fiches["Tom"]["unites"] == [{"code": "MATIN", "etat": "reserve", "arrivee": None, "depart": None}]
    futur = agent.post(
        "/api/agent/pointage",
        json={
            "accueil_id": accueil,
            "date": "2021-10-05",
            "pointages": [{"enfant_id": enfant, "unite": "MATIN", "statut": "present"}],
        },
    )
    assert futur.status_code == 422
    pointe = agent.post(
        "/api/agent/pointage",
        json={
            "accueil_id": accueil,
            "date": "2021-10-04",
            "pointages": [
                {"enfant_id": enfant, "unite": "MATIN", "statut": "present", "arrivee": "07:40"},
                {"enfant_id": frere, "unite": "MATIN", "statut": "absent"},
                {"enfant_id": frere, "unite": "SOIR", "statut": "present"},
            ],
        },
    )
    assert pointe.status_code == 200, pointe.text
    etats = {
        (e["prenom"], u["code"]): (u["etat"], u["arrivee"])
        for e in pointe.json()["enfants"]
        for u in e["unites"]
    }
    assert etats[("Léa", "MATIN")] == ("present", "07:40")
    assert etats[("Tom", "MATIN")] == ("absent_non_justifie", None)
    assert etats[("Tom", "SOIR")] == ("present_non_reserve", None)
    assert etat(parent, enfant, "2021-10", "2021-10-05", "MATIN") == "absent_justifie"
    assert (
        parent.get("/api/agent/pointage", params={"accueil_id": accueil, "date": "2021-10-04"}).status_code
        == 403
    )


def test_eligibilite_et_ouverture_echelonnee_par_residence(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    admin.put("/api/admin/parametres", json={"commune": {"nom": "Nantes", "code_postal": "44000"}})
    maternelle = creer_accueil(admin, mode_accueil="Maternelles", eligibilite={"niveaux": ["maternelle"]})
    ete = creer_accueil(
        admin,
        etablissement="ACCUEIL DE LOISIRS",
        mode_accueil="Été",
        jours=[1, 2, 3, 4, 5],
        hors_vacances_scolaires=False,
        periode={"libelle": "Été 2022", "debut": "2022-07-07", "fin": "2022-08-31"},
        ouverture_inscriptions="2021-09-27T08:30:00+02:00",
        ouverture_exterieurs="2021-10-04T08:30:00+02:00",
    )
    resident = nouvelle_famille(client, "resident@example.fr")  # 44000 Nantes
    exterieur = nouvelle_famille(client, "exterieur@example.fr")
    exterieur.patch(
        "/api/moi", json={"adresse": {"ligne1": "1 rue Haute", "code_postal": "44300", "commune": "Orvault"}}
    )
    e_res = ajouter_enfant(resident)
    e_ext = ajouter_enfant(exterieur)
    # Before any opening, even the residents wait.
    assert (
        reserver(exterieur, e_ext, ete, ("2022-07-11", "MATIN")).json()["resultats"][0]["statut"] == "refuse"
    )
    refus = reserver(resident, e_res, maternelle, ("2021-10-04", "MATIN")).json()["resultats"][0]
    assert refus["motif"] == "non éligible : réservé au niveau maternelle"
    assert maternelle not in [
        a["id"] for a in resident.get("/api/accueils", params={"enfant_id": e_res}).json()
    ]
    avant = reserver(resident, e_res, ete, ("2022-07-11", "MATIN")).json()["resultats"][0]
    assert avant["motif"] == "inscriptions ouvertes à partir du 27/09/2021 à 08:30"
    horloge.maintenant = datetime(2021, 9, 28, 8, 0, tzinfo=UTC)
    resident = nouvelle_famille(client, "resident2@example.fr")
    exterieur2 = nouvelle_famille(client, "exterieur2@example.fr")
    exterieur2.patch(
        "/api/moi", json={"adresse": {"ligne1": "1 rue Haute", "code_postal": "44300", "commune": "Orvault"}}
    )
    e_res2, e_ext2 = ajouter_enfant(resident), ajouter_enfant(exterieur2)
    assert statuts(reserver(resident, e_res2, ete, ("2022-07-11", "MATIN")))[0][2] == "reserve"
    ext = reserver(exterieur2, e_ext2, ete, ("2022-07-11", "MATIN")).json()["resultats"][0]
    assert ext["motif"] == "inscriptions ouvertes à partir du 04/10/2021 à 08:30"


def test_administration_du_catalogue(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    parent = nouvelle_famille(client, "offre@example.fr")
    assert parent.post("/api/admin/accueils", json={}).status_code == 403
    mauvais = admin.post(
        "/api/admin/accueils",
        json={
            **accueil_periscolaire(),
            "periode": {"libelle": "X", "debut": "2022-07-06", "fin": "2021-09-02"},
            "regle_reservation": {"ancrage": "semaine_precedente", "heure_limite": "23:59"},
        },
    )
    assert mauvais.status_code == 422
    assert {e["champ"] for e in mauvais.json()["erreurs"]} == {
        "periode.fin",
        "regle_reservation.jour_semaine",
    }
    accueil = creer_accueil(admin)
    assert (
        admin.post(
            f"/api/admin/accueils/{accueil}/fermetures", json={"date": "2021-10-05", "motif": "Grève"}
        ).status_code
        == 201
    )
    enfant = ajouter_enfant(parent)
    refus = reserver(parent, enfant, accueil, ("2021-10-05", "MATIN")).json()["resultats"][0]
    assert refus["motif"] == "fermé : Grève"
    assert admin.get("/api/admin/parametres").status_code == 404
    assert (
        admin.put(
            "/api/admin/parametres", json={"commune": {"nom": "Nantes", "code_postal": "4400"}}
        ).status_code
        == 422
    )


def test_offre_a_accepter_avant_expiration_puis_passe_au_suivant(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil, familles, enfants = place_offerte(client, admin)
    # The place is offered to the first in line, held for 24 hours; nobody else sees it.
    offres = familles[1].get("/api/offres").json()
    assert [(o["enfant_id"], o["date"], o["unite"]) for o in offres] == [(enfants[1], "2021-10-05", "SOIR")]
    assert offres[0]["expire_le"].startswith("2021-09-21T")
    assert familles[2].get("/api/offres").json() == []
    assert familles[2].post(f"/api/offres/{offres[0]['id']}/acceptation").status_code == 404
    assert etat(familles[1], enfants[1], "2021-10", "2021-10-05", "SOIR") == "liste_attente"
    # 25 hours later the offer has expired: accepting fails and the next child gets the offer.
    horloge.maintenant = datetime(2021, 9, 21, 9, 0, tzinfo=UTC)
    familles = [connecter(client, f"o{i}@example.fr") for i in range(3)]
    expiree = familles[1].post(f"/api/offres/{offres[0]['id']}/acceptation")
    assert expiree.status_code == 422
    assert "expiré" in expiree.json()["detail"]
    assert etat(familles[1], enfants[1], "2021-10", "2021-10-05", "SOIR") == "annule"
    suivante = familles[2].get("/api/offres").json()
    assert [o["enfant_id"] for o in suivante] == [enfants[2]]
    acceptee = familles[2].post(f"/api/offres/{suivante[0]['id']}/acceptation")
    assert acceptee.json() == {"date": "2021-10-05", "unite": "SOIR", "statut": "reserve"}
    assert etat(familles[2], enfants[2], "2021-10", "2021-10-05", "SOIR") == "reserve"
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    occupation = agent.get(
        "/api/agent/occupation", params={"accueil_id": accueil, "du": "2021-10-05", "au": "2021-10-05"}
    ).json()["occupation"]
    assert occupation == [
        {"date": "2021-10-05", "unite": "SOIR", "capacite": 1, "reserves": 1, "liste_attente": 0}
    ]


def test_absence_signalee_seulement_avant_l_accueil_et_sur_une_reservation(client, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(admin)
    parent = nouvelle_famille(client, "absence@example.fr")
    enfant = ajouter_enfant(parent)
    reserver(parent, enfant, accueil, ("2021-10-04", "MATIN"), ("2021-10-05", "MATIN"))
    horloge.maintenant = datetime(2021, 10, 4, 6, 0, tzinfo=UTC)  # 08:00 in Paris, after 07:15
    parent = connecter(client, "absence@example.fr")
    corps = {"accueil_id": accueil, "date": "2021-10-04", "unites": ["MATIN"], "motif": "Malade"}
    tardive = parent.post(f"/api/enfants/{enfant}/absences", json=corps)
    assert tardive.status_code == 422
    assert tardive.json()["erreurs"][0]["champ"] == "date"
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    agent.post(
        "/api/agent/pointage",
        json={
            "accueil_id": accueil,
            "date": "2021-10-04",
            "pointages": [{"enfant_id": enfant, "unite": "SOIR", "statut": "absent"}],
        },
    )
    assert (
        etat(parent, enfant, "2021-10", "2021-10-04", "SOIR") == "verrouille"
    )  # no booking: nothing pointed
    assert (
        parent.post(f"/api/enfants/{enfant}/absences", json={**corps, "date": "2021-10-05"}).status_code
        == 201
    )


def test_unite_sans_capacite_comptee_depuis_le_calendrier(client, services, horloge) -> None:
    _avant_la_rentree(horloge)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    unites = [
        {"code": "MIDI", "libelle": "Restauration", "debut": "11:30", "fin": "13:30"},
        {"code": "SOIR", "libelle": "Soir", "debut": "16:30", "fin": "18:30", "capacite": 1},
    ]
    accueil = creer_accueil(admin, unites=unites)
    familles = [nouvelle_famille(client, f"illimite{i}@example.fr") for i in range(3)]
    enfants = [ajouter_enfant(f, prenom=f"Enfant {i}") for i, f in enumerate(familles)]
    for f, e in zip(familles, enfants, strict=True):
        assert statuts(reserver(f, e, accueil, ("2021-10-05", "MIDI"))) == [("2021-10-05", "MIDI", "reserve")]
    assert statuts(reserver(familles[0], enfants[0], accueil, ("2021-10-05", "SOIR")))[0][2] == "reserve"
    annulation = familles[1].post(
        f"/api/enfants/{enfants[1]}/annulations",
        json={"accueil_id": accueil, "presences": [{"date": "2021-10-05", "unite": "MIDI"}]},
    )
    assert annulation.json()["resultats"][0]["statut"] == "annule"
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    occupation = agent.get(
        "/api/agent/occupation", params={"accueil_id": accueil, "du": "2021-10-05", "au": "2021-10-05"}
    ).json()["occupation"]
    assert occupation == [
        {"date": "2021-10-05", "unite": "MIDI", "capacite": None, "reserves": 2, "liste_attente": 0},
        {"date": "2021-10-05", "unite": "SOIR", "capacite": 1, "reserves": 1, "liste_attente": 0},
    ]
    # Only the unit with a capacity has a stream of its own for the day: the canteen never contends.
    capacite = services.portail.repository.get(Capacite.id_pour(uuid.UUID(accueil), date(2021, 10, 5)))
    assert capacite.places == {"SOIR": [uuid.UUID(enfants[0])]}
