"""Documents: type read from the content, 10 MB at most, only the family (and staff) read them,
staff validate or refuse, erasure makes them unreadable. News: for all, or for some accueils."""

from __future__ import annotations

from datetime import UTC, datetime

from outils_http import compte_personnel, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, reserver

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _deposer(session, contenu: bytes, nom: str = "piece.pdf", type_: str = "attestation_qf"):
    return session.post(
        "/api/documents", files={"fichier": (nom, contenu, "application/pdf")}, data={"type": type_}
    )


def test_type_lu_dans_le_contenu_et_taille(client) -> None:
    parent = nouvelle_famille(client, "doc@example.fr")
    png = _deposer(parent, PNG, nom="photo.pdf")  # the name lies, the content decides
    assert png.status_code == 201
    assert png.json()["media_type"] == "image/png"
    assert png.json()["statut"] == "depose"
    faux = _deposer(parent, b"MZ\x90\x00 programme", nom="facture.pdf")
    assert faux.status_code == 422
    assert faux.json()["erreurs"][0]["champ"] == "fichier"
    trop_gros = _deposer(parent, b"%PDF-1.4" + b"0" * (10 * 1024 * 1024 + 10))
    assert trop_gros.status_code in (413, 422)
    assert [d["id"] for d in parent.get("/api/documents").json()] == [png.json()["id"]]
    assert parent.get(f"/api/documents/{png.json()['id']}/contenu").content == PNG


def test_seule_la_famille_et_le_personnel_lisent_et_le_personnel_verifie(client, base) -> None:
    a = nouvelle_famille(client, "a@example.fr")
    b = nouvelle_famille(client, "b@example.fr")
    document = _deposer(a, b"%PDF-1.7 attestation CAF").json()
    assert b.get(f"/api/documents/{document['id']}/contenu").status_code == 404
    assert b.get("/api/documents").json() == []
    agent = compte_personnel(client, "agent@mairie.fr", "agent")
    assert [d["id"] for d in agent.get("/api/agent/documents", params={"statut": "depose"}).json()] == [
        document["id"]
    ]
    assert agent.get(f"/api/agent/documents/{document['id']}/contenu").content.startswith(b"%PDF")
    refus = agent.post(f"/api/agent/documents/{document['id']}/refus", json={"motif": "Illisible"})
    assert refus.json()["statut"] == "refuse"
    assert agent.post(f"/api/agent/documents/{document['id']}/validation").status_code == 422
    assert a.post(f"/api/agent/documents/{document['id']}/validation").status_code == 403
    autre = _deposer(a, b"%PDF-1.7 attestation lisible").json()
    assert agent.post(f"/api/agent/documents/{autre['id']}/validation").json()["statut"] == "valide"
    # The stored file is encrypted: its bytes are not the document's.
    import pathlib

    fichiers = [
        p.read_bytes()
        for p in pathlib.Path(client.app.state.services.settings.data_dir, "documents").rglob("*")
        if p.is_file()
    ]
    assert fichiers
    assert not any(b"attestation" in f for f in fichiers)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    assert admin.delete(f"/api/admin/familles/{a.famille_id}").status_code == 204
    assert agent.get(f"/api/agent/documents/{autre['id']}/contenu").status_code == 404


def test_actualites_pour_tous_et_par_accueil(client, horloge) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(admin)
    autre_accueil = creer_accueil(admin, mode_accueil="Autre")
    inscrite = nouvelle_famille(client, "inscrite@example.fr")
    reserver(inscrite, ajouter_enfant(inscrite), accueil, ("2021-10-04", "MATIN"))
    ailleurs = nouvelle_famille(client, "ailleurs@example.fr")
    assert (
        admin.post(
            "/api/admin/actualites", json={"titre": "Rentrée", "contenu": "Bonne rentrée à tous"}
        ).status_code
        == 201
    )
    assert (
        admin.post(
            "/api/admin/actualites",
            json={"titre": "Sortie", "contenu": "Sortie au musée", "accueils": [accueil]},
        ).status_code
        == 201
    )
    admin.post(
        "/api/admin/actualites", json={"titre": "Piscine", "contenu": "Piscine", "accueils": [autre_accueil]}
    )
    assert sorted(a["titre"] for a in inscrite.get("/api/actualites").json()) == ["Rentrée", "Sortie"]
    assert [a["titre"] for a in ailleurs.get("/api/actualites").json()] == ["Rentrée"]
    assert (
        admin.post(
            "/api/admin/actualites", json={"titre": "X", "contenu": "Y", "accueils": [inscrite.famille_id]}
        ).status_code
        == 422
    )
    assert inscrite.post("/api/admin/actualites", json={"titre": "X", "contenu": "Y"}).status_code == 403


def test_partie_fichier_sans_nom_refusee_proprement(client) -> None:
    parent = nouvelle_famille(client, "sansnom@example.fr")
    # A part without a filename is sent as a plain field; whatever its bytes, the answer is a 422.
    for contenu in (b"\xff\xfe\x00binaire", b"du texte", b""):
        corps = (
            b'--frontiere\r\nContent-Disposition: form-data; name="fichier"\r\n\r\n'
            + contenu
            + b'\r\n--frontiere\r\nContent-Disposition: form-data; name="type"\r\n\r\nautre\r\n--frontiere--\r\n'
        )
        reponse = parent.post(
            "/api/documents",
            content=corps,
            headers={"Content-Type": "multipart/form-data; boundary=frontiere"},
        )
        assert reponse.status_code in (400, 422), (contenu, reponse.status_code, reponse.text)
        assert reponse.headers["content-type"].startswith("application/problem+json")
    assert parent.get("/api/documents").json() == []
