"""Mon profil, Mon foyer, Mes enfants, quotient familial and prélèvement through HTTP."""

from __future__ import annotations

from outils_http import compte_personnel, connecter, nouvelle_famille

IBAN = "FR7630006000011234567890189"


def test_profil_modifie_seulement_les_champs_envoyes(client) -> None:
    s = nouvelle_famille(client, "profil@example.fr")
    r = s.patch("/api/moi", json={"profession": "Infirmière", "telephone": "+33 7 11 22 33 44"})
    assert r.status_code == 200
    resp = r.json()["responsable"]
    assert resp["profession"] == "Infirmière"
    assert resp["telephone"] == "0711223344"
    assert resp["nom"] == "Martin"
    r = s.patch(
        "/api/moi", json={"adresse": {"ligne1": "8 rue Neuve", "code_postal": "44100", "commune": "Nantes"}}
    )
    assert r.json()["responsable"]["adresse"]["ligne1"] == "8 rue Neuve"
    assert r.json()["responsable"]["profession"] == "Infirmière"
    assert s.get("/api/foyer").json()["adresse"]["code_postal"] == "44100"


def test_profil_refuse_une_date_de_naissance_future_et_rien_ne_change(client) -> None:
    s = nouvelle_famille(client, "date@example.fr")
    r = s.patch("/api/moi", json={"date_naissance": "2999-01-01", "profession": "Pilote"})
    assert r.status_code == 422
    assert r.json()["erreurs"][0]["champ"] == "date_naissance"
    assert s.get("/api/moi").json()["responsable"]["profession"] is None


def test_foyer_situation_et_autre_responsable(client) -> None:
    s = nouvelle_famille(client, "foyer@example.fr")
    assert (
        s.patch("/api/foyer", json={"situation_familiale": "pacse"}).json()["situation_familiale"] == "pacse"
    )
    assert s.patch("/api/foyer", json={"situation_familiale": "polygame"}).status_code == 422
    r = s.put(
        "/api/foyer/autre-responsable",
        json={"civilite": "M", "nom": "Martin", "prenom": "Paul", "telephone": "0698765432", "lien": "père"},
    )
    assert r.status_code == 200
    responsables = r.json()["responsables"]
    assert [x["prenom"] for x in responsables] == ["Claire", "Paul"]
    mauvais = s.put(
        "/api/foyer/autre-responsable", json={"civilite": "M", "nom": "", "prenom": "Paul", "email": "x@"}
    )
    assert mauvais.status_code == 422
    assert {e["champ"] for e in mauvais.json()["erreurs"]} == {
        "autre_responsable.nom",
        "autre_responsable.email",
    }
    assert s.delete("/api/foyer/autre-responsable").status_code == 204
    assert len(s.get("/api/foyer").json()["responsables"]) == 1


def test_enfants_ajout_lecture_age_et_modification(client, horloge) -> None:
    s = nouvelle_famille(client, "enfants@example.fr")
    r = s.post(
        "/api/enfants",
        json={"nom": "Peje", "prenom": "Enfant 1", "date_naissance": "2015-01-15", "classe": "CM1"},
    )
    assert r.status_code == 201
    enfant = r.json()
    assert enfant["niveau"] == "elementaire"
    assert enfant["age"].endswith("mois") or enfant["age"].endswith("ans")
    enfant_id = enfant["id"]
    assert [e["id"] for e in s.get("/api/enfants").json()] == [enfant_id]
    r = s.patch(f"/api/enfants/{enfant_id}", json={"classe": "CP", "ecole": "École du Centre"})
    assert r.json()["classe"] == "CP"
    assert r.json()["ecole"] == "École du Centre"
    assert (
        s.patch(f"/api/enfants/{enfant_id}", json={"niveau": "maternelle", "classe": "CM2"}).status_code
        == 422
    )
    futur = s.post("/api/enfants", json={"nom": "Peje", "prenom": "Bébé", "date_naissance": "2999-01-01"})
    assert futur.status_code == 422
    assert futur.json()["erreurs"][0]["champ"] == "date_naissance"
    assert (
        s.post("/api/enfants", json={"nom": "", "prenom": "X", "date_naissance": "2015-01-01"}).status_code
        == 422
    )
    assert len(s.get("/api/enfants").json()) == 1


def test_age_affiche_comme_les_parents_le_lisent(client, horloge) -> None:
    from datetime import UTC, datetime

    horloge.maintenant = datetime(2021, 10, 4, 9, 0, tzinfo=UTC)
    s = nouvelle_famille(client, "age@example.fr")
    r = s.post("/api/enfants", json={"nom": "Peje", "prenom": "Enfant 1", "date_naissance": "2012-01-15"})
    assert r.json()["age"] == "9 ans et 8 mois"


def test_sante_personnes_et_autorisations(client, horloge) -> None:
    from datetime import UTC, datetime

    horloge.maintenant = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    s = nouvelle_famille(client, "sante@example.fr")
    enfant_id = s.post(
        "/api/enfants", json={"nom": "Peje", "prenom": "Léa", "date_naissance": "2018-03-02"}
    ).json()["id"]
    r = s.put(
        f"/api/enfants/{enfant_id}/sante",
        json={
            "allergies": ["arachide", "kiwi"],
            "regime_alimentaire": "sans_porc",
            "pai": True,
            "pai_detail": "Trousse d'urgence dans le cartable",
            "medecin": {"nom": "Dr Durand", "telephone": "02 40 00 00 00"},
            "vaccinations_a_jour": True,
        },
    )
    assert r.status_code == 200
    sante = r.json()["sante"]
    assert sante["allergies"] == ["arachide", "kiwi"]
    assert sante["medecin"] == {"nom": "Dr Durand", "telephone": "0240000000"}
    assert r.json()["fiche_sanitaire_valable_jusqu_au"] == "2027-08-31"
    assert s.put(f"/api/enfants/{enfant_id}/sante", json={"regime_alimentaire": "halal"}).status_code == 422
    r = s.put(
        f"/api/enfants/{enfant_id}/personnes-autorisees",
        json={
            "personnes": [
                {"nom": "Martin", "prenom": "Jeanne", "telephone": "0611111111", "lien": "grand-mère"}
            ]
        },
    )
    assert r.json()["personnes_autorisees"][0]["prenom"] == "Jeanne"
    r = s.put(f"/api/enfants/{enfant_id}/autorisations", json={"droit_image": True, "sortie_seul": False})
    assert r.json()["autorisations"]["droit_image"] is True


def test_l_enfant_d_une_autre_famille_est_introuvable(client) -> None:
    a = nouvelle_famille(client, "a@example.fr")
    b = nouvelle_famille(client, "b@example.fr", nom="Bernard")
    enfant_a = a.post(
        "/api/enfants", json={"nom": "Martin", "prenom": "Zoé", "date_naissance": "2016-05-05"}
    ).json()["id"]
    assert b.get(f"/api/enfants/{enfant_a}").status_code == 404
    assert b.patch(f"/api/enfants/{enfant_a}", json={"prenom": "Volé"}).status_code == 404
    assert b.put(f"/api/enfants/{enfant_a}/sante", json={}).status_code == 404
    assert b.get(f"/api/enfants/{'0' * 8}-0000-0000-0000-{'0' * 12}").status_code == 404
    assert a.get(f"/api/enfants/{enfant_a}").json()["prenom"] == "Zoé"


def test_quotient_familial_date_d_effet_saisi_par_la_regie(client, horloge) -> None:
    from datetime import UTC, datetime

    horloge.maintenant = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
    parent = nouvelle_famille(client, "qf@example.fr")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    url = f"/api/regie/familles/{parent.famille_id}/quotient-familial"
    assert (
        regie.put(url, json={"valeur": 742, "valable_du": "2026-01-01", "source": "caf"}).status_code == 200
    )
    assert (
        regie.put(url, json={"valeur": 615, "valable_du": "2026-04-01", "source": "attestation"}).status_code
        == 200
    )
    qf = parent.get("/api/quotient-familial").json()
    assert qf["actuel"] == {"valeur": 742, "valable_du": "2026-01-01", "source": "caf"}
    assert [q["valeur"] for q in qf["historique"]] == [742, 615]
    horloge.maintenant = datetime(2026, 4, 2, 10, 0, tzinfo=UTC)
    # The 2-hour session has expired meanwhile.
    assert parent.get("/api/quotient-familial").status_code == 401
    parent = connecter(client, "qf@example.fr")
    regie = connecter(client, "regie@mairie.fr")
    assert parent.get("/api/quotient-familial").json()["actuel"]["valeur"] == 615
    assert parent.put(url, json={"valeur": 1, "valable_du": "2026-01-01", "source": "caf"}).status_code == 403
    assert regie.put(url, json={"valeur": -5, "valable_du": "2026-01-01", "source": "caf"}).status_code == 422
    assert (
        regie.put(url, json={"valeur": 5, "valable_du": "2026-01-01", "source": "impots"}).status_code == 422
    )
    inconnue = f"/api/regie/familles/{'1' * 8}-1111-1111-1111-{'1' * 12}/quotient-familial"
    assert (
        regie.put(inconnue, json={"valeur": 5, "valable_du": "2026-01-01", "source": "caf"}).status_code
        == 404
    )


def test_prelevement_mandat_sepa(client) -> None:
    s = nouvelle_famille(client, "sepa@example.fr")
    assert s.get("/api/prelevement").status_code == 404
    mauvais = s.put(
        "/api/prelevement", json={"titulaire": "Claire Martin", "iban": "FR7630006000011234567890188"}
    )
    assert mauvais.status_code == 422
    assert mauvais.json()["erreurs"][0]["champ"] == "iban"
    r = s.put(
        "/api/prelevement", json={"titulaire": "Claire Martin", "iban": "FR76 3000 6000 0112 3456 7890 189"}
    )
    assert r.status_code == 200
    mandat = r.json()
    assert mandat["actif"] is True
    assert mandat["iban_masque"] == "FR76 **** **** 0189"
    assert mandat["rum"].startswith("PF-")
    assert mandat["bic"] == "AGRIFRPPXXX"
    assert IBAN not in r.text
    assert s.get("/api/foyer").json()["mandat_sepa"]["rum"] == mandat["rum"]
    # Same mandate again: nothing new; another IBAN: a new RUM.
    assert (
        s.put("/api/prelevement", json={"titulaire": "Claire Martin", "iban": IBAN}).json()["rum"]
        == mandat["rum"]
    )
    autre = s.put(
        "/api/prelevement", json={"titulaire": "Claire Martin", "iban": "DE89370400440532013000"}
    ).json()
    assert autre["rum"] != mandat["rum"]
    assert s.delete("/api/prelevement").status_code == 204
    assert s.get("/api/prelevement").status_code == 404
    assert s.delete("/api/prelevement").status_code == 422
