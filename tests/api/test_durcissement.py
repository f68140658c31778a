"""Hardening found by a penetration test: what a hostile client sends never gives a 500, never
reaches the log raw, never turns into a formula; repeated creations are served once."""

from __future__ import annotations

import csv
import io
import os
import time
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

import psycopg
import pytest
from litestar.testing import TestClient

from portail.api.app import create_app
from portail.domain.regles.calendrier import PARIS

from outils_http import MOT_DE_PASSE, compte_personnel, connecter, inscription, nouvelle_famille


@pytest.mark.parametrize(
    "corps",
    ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000],
    ids=["listes", "objets"],
)
@pytest.mark.parametrize("chemin", ["/api/auth/connexion", "/api/inscription"])
def test_json_imbrique_mille_fois_donne_un_400_sans_session(client, chemin: str, corps: str) -> None:
    reponse = client.post(chemin, content=corps, headers={"Content-Type": "application/json"})
    assert reponse.status_code == 400
    assert reponse.headers["content-type"].startswith("application/problem+json")
    assert "imbriqué" in reponse.json()["detail"]


def test_caracteres_de_controle_du_chemin_echappes_dans_le_journal_console(
    settings, base, horloge, capfd
) -> None:
    reglages = replace(settings, log_format="console", log_level="INFO")
    with TestClient(app=create_app(reglages, horloge=horloge, base=base)) as client:
        capfd.readouterr()
        # ESC [2J clears a terminal, backspaces rub out what came before, NUL cuts lines in tools.
        client.get("/api/%1B%5B2J%1B%5B31mfaux%08%08%08%00%7F%C2%9B/x")
        client.get("/schema/%0Afaux-journal%0D")
    sortie = capfd.readouterr()
    texte = sortie.out + sortie.err
    lignes = [ligne for ligne in texte.splitlines() if "requete" in ligne]
    assert len(lignes) == 2, texte
    for controle in ("\x1b", "\x08", "\x00", "\x7f", "\x9b", "\r"):
        assert controle not in texte
    assert "faux-journal" not in "".join(ligne for ligne in texte.splitlines() if "requete" not in ligne)
    assert "/api/\\x1b[2J\\x1b[31mfaux\\x08\\x08\\x08\\x00\\x7f\\x9b/x" in lignes[0]
    assert "faux-journal" in lignes[1]


FORMULES_PLEINE_CHASSE = ["\uff1d1+1", "\uff0b1+1", "\uff0d1+1", "\uff20SOMME(A1)"]
"""What a validated reference can still start with: `＝`, `＋`, `－`, `＠` (full width)."""


def _export_comptable(regie, le: str) -> list[dict[str, str]]:
    reponse = regie.get("/api/regie/export-comptable.csv", params={"du": le, "au": le})
    assert reponse.status_code == 200, reponse.text
    return list(csv.DictReader(io.StringIO(reponse.text, newline=""), delimiter=";"))


def _jour_a_paris(horloge) -> str:
    """The régie's day: between midnight in Paris and midnight UTC the two dates differ."""
    return horloge.maintenant.astimezone(PARIS).date().isoformat()


def _regler(regie, famille, reference: str):
    corps = {"famille_id": famille.famille_id, "montant_cents": 100, "mode": "cheque", "reference": reference}
    return regie.post("/api/regie/reglements", json=corps)


def test_export_comptable_protege_les_formules_pleine_chasse(client, horloge) -> None:
    famille = nouvelle_famille(client, "tableur@example.fr")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    for reference in FORMULES_PLEINE_CHASSE:
        assert _regler(regie, famille, reference).status_code == 201
    lignes = _export_comptable(regie, _jour_a_paris(horloge))
    recues = sorted(ligne["reference"] for ligne in lignes if ligne["type"] == "reglement")
    assert recues == sorted("'" + reference for reference in FORMULES_PLEINE_CHASSE)


@pytest.mark.parametrize("reference", ["\0=1+1", "CHQ\x0b1", "ref\u200b", "\ufeff=1"])
def test_reference_de_reglement_avec_caractere_de_controle_refusee(client, horloge, reference) -> None:
    """A NUL used to be recorded, then stopped the projections at that event: PostgreSQL's text
    holds no NUL, so every later write waited for a runner that never moved again."""
    famille = nouvelle_famille(client, "controle@example.fr")
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    reponse = _regler(regie, famille, reference)
    assert reponse.status_code == 422
    assert reponse.json()["erreurs"][0]["champ"] == "reference"
    assert _regler(regie, famille, "CHQ-1").status_code == 201
    lignes = _export_comptable(regie, _jour_a_paris(horloge))
    assert [ligne["reference"] for ligne in lignes if ligne["type"] == "reglement"] == ["CHQ-1"]


MOTIFS_PIEGES = {
    "%0B%3D1%2B1": "\x0b=1+1",
    "%0C%3D1%2B1": "\x0c=1+1",
    "%C2%A0%3D1%2B1": "\xa0=1+1",
    "%E3%80%80%3D1%2B1": "\u3000=1+1",
    "%E2%80%8B%3D1%2B1": "\u200b=1+1",
    "%EF%BB%BF%3D1%2B1": "\ufeff=1+1",
    "%EF%BC%9D1%2B1": "\uff1d1+1",
    "%0A%3D1%2B1": "\n=1+1",
}


def test_export_d_audit_protege_chaque_debut_de_formule_du_motif(client) -> None:
    parent = nouvelle_famille(client, "motifs@example.fr")
    for i, motif in enumerate(MOTIFS_PIEGES):
        reponse = parent.patch("/api/moi", json={"telephone": f"06998877{i:02d}"}, headers={"X-Motif": motif})
        assert reponse.status_code == 200, reponse.text
    auditeur = compte_personnel(client, "auditeur@mairie.fr", "auditeur")
    reponse = auditeur.get("/api/audit/export", params={"format": "csv", "famille_id": parent.famille_id})
    assert reponse.status_code == 200
    rangees = list(csv.DictReader(io.StringIO(reponse.text, newline="")))
    motifs = sorted(rangee["motif"] for rangee in rangees if rangee["motif"])
    assert motifs == sorted("'" + motif for motif in MOTIFS_PIEGES.values())


@pytest.mark.parametrize(("role_existant", "cree"), [("admin", False), ("regisseur", True)])
def test_l_administrateur_de_l_environnement_n_est_pas_cree_quand_un_admin_existe(
    settings, base, horloge, services, role_existant: str, cree: bool
) -> None:
    from portail.application.contexte import Contexte

    # As `portail demo` or an administrator's POST /api/admin/comptes makes a staff account.
    services.comptes.creer_compte_personnel(
        Contexte.systeme("demo"), "personnel@mairie.fr", "Personnel-Mairie-2026", [role_existant]
    )
    reglages = replace(settings, admin_email="admin@mairie.fr", admin_password="Admin-Mairie-2026")
    with TestClient(app=create_app(reglages, horloge=horloge, base=base)) as client:
        connexion = client.post(
            "/api/auth/connexion", json={"email": "admin@mairie.fr", "mot_de_passe": "Admin-Mairie-2026"}
        )
        assert connexion.status_code == (200 if cree else 401)
        connecter(client, "personnel@mairie.fr", "Personnel-Mairie-2026")


def _connexion(reglages, base, horloge):
    with TestClient(app=create_app(reglages, horloge=horloge, base=base)) as client:
        client.post("/api/inscription", json=inscription("cookie@example.fr"))
        return client.post(
            "/api/auth/connexion", json={"email": "cookie@example.fr", "mot_de_passe": MOT_DE_PASSE}
        )


@pytest.mark.parametrize(
    ("url", "cookie_secure", "tls"),
    [
        ("https://famille.example.fr", None, True),
        ("http://famille.example.fr", None, True),
        ("https://127.0.0.1:8443", None, True),
        ("http://127.0.0.1:8000", None, False),
        ("http://localhost:8000", None, False),
        ("http://[::1]:8000", None, False),
        ("http://127.0.0.1:8000", True, False),
    ],
)
def test_cookies_secure_et_hsts_sauf_en_clair_sur_la_boucle_locale(
    settings, base, horloge, url: str, cookie_secure: bool | None, tls: bool
) -> None:
    reponse = _connexion(replace(settings, url_publique=url, cookie_secure=cookie_secure), base, horloge)
    assert reponse.status_code == 200
    cookies = reponse.headers.get_list("set-cookie")
    assert len(cookies) == 2
    secure = cookie_secure if cookie_secure is not None else tls
    assert all(("; Secure" in c) is secure for c in cookies), cookies
    if tls:
        assert reponse.headers["strict-transport-security"] == "max-age=31536000"
    else:
        assert "strict-transport-security" not in reponse.headers


def test_cookie_secure_par_defaut_depuis_l_environnement() -> None:
    from portail.settings import Settings

    assert Settings.depuis_environnement({}).cookies_securises is False
    publique = {"PORTAIL_URL_PUBLIQUE": "https://famille.example.fr"}
    assert Settings.depuis_environnement(publique).cookies_securises is True
    assert (
        Settings.depuis_environnement({**publique, "PORTAIL_COOKIE_SECURE": "non"}).cookies_securises is False
    )
    assert Settings.depuis_environnement({"PORTAIL_COOKIE_SECURE": "true"}).cookies_securises is True


@pytest.mark.parametrize("parametre", ["numero", "apres"])
def test_un_nul_dans_la_recherche_du_journal_de_la_regie_donne_un_400(client, parametre: str) -> None:
    regie = compte_personnel(client, "regie@mairie.fr", "regisseur")
    reponse = regie.get("/api/regie/factures", params={parametre: "F2025\x00"})
    assert reponse.status_code == 400
    assert reponse.json()["erreurs"][0]["champ"] == parametre


NOM_EFFACE = "Zyxwvoubliee"


def test_apres_un_effacement_fait_par_un_autre_processus_le_nom_disparait_aussitot(client, services) -> None:
    """`client` is one API process, `services` another one on the same database: the second erases
    the family, the first must stop decrypting its events at once, not after its 30 s key cache."""
    from portail.application.contexte import Contexte
    from portail.application.effacement import effacer_famille

    famille = nouvelle_famille(client, "oubli@example.fr", nom=NOM_EFFACE)
    auditeur = compte_personnel(client, "auditeur@mairie.fr", "auditeur")
    url = f"/api/audit/evenements?famille_id={famille.famille_id}&limite=500"
    assert NOM_EFFACE in auditeur.get(url).text
    assert NOM_EFFACE in auditeur.get(f"/api/audit/agregats/{famille.famille_id}/historique").text

    effacer_famille(
        Contexte.systeme("test"), services.familles, services.comptes, uuid.UUID(famille.famille_id)
    )
    limite = time.monotonic() + 2
    while NOM_EFFACE in auditeur.get(url).text and time.monotonic() < limite:
        time.sleep(0.05)
    assert NOM_EFFACE not in auditeur.get(url).text
    assert NOM_EFFACE not in auditeur.get(f"/api/audit/agregats/{famille.famille_id}/historique").text


NOM_ENFANT = "Qoxxhildegarde"
ALLERGIE_RARE = "kumquatine"


def _octets_de_la_table(url: str, schema: str, table: str) -> bytes:
    """What the table's data files hold, dead rows included, once the server has written them."""
    relation = f"{schema}.{table}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
            ligne = conn.execute("SELECT current_setting('data_directory')").fetchone()
            chemins = conn.execute(
                "SELECT pg_relation_filepath(c.oid), pg_relation_filepath(c.reltoastrelid)"
                " FROM pg_class c WHERE c.oid = %s::regclass",
                (relation,),
            ).fetchone()
    except psycopg.errors.InsufficientPrivilege as erreur:
        pytest.skip(f"lire les fichiers de la table demande un superutilisateur : {erreur}")
    assert ligne is not None and chemins is not None
    octets = b""
    for chemin in (c for c in chemins if c):
        fichier = Path(ligne[0]) / chemin
        if not os.access(fichier, os.R_OK):
            pytest.skip(
                f"le serveur PostgreSQL n'est pas local ou ses fichiers ne sont pas lisibles : {fichier}"
            )
        segments = [fichier, *sorted(fichier.parent.glob(f"{fichier.name}.[0-9]*"))]
        octets += b"".join(segment.read_bytes() for segment in segments)
    return octets


def test_apres_l_effacement_les_fichiers_de_proj_enfants_ne_tiennent_aucun_nom(client, base) -> None:
    famille = nouvelle_famille(client, "fichiers@example.fr", nom=NOM_ENFANT)
    enfant = famille.post(
        "/api/enfants", json={"nom": NOM_ENFANT, "prenom": "Léonie", "date_naissance": "2016-02-03"}
    ).json()["id"]
    sante = {"allergies": [ALLERGIE_RARE], "pai": True}
    assert famille.put(f"/api/enfants/{enfant}/sante", json=sante).status_code == 200
    # The runner has applied both events (the route waits for it).
    assert famille.get(f"/api/enfants/{enfant}").json()["sante"]["allergies"] == [ALLERGIE_RARE]
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    assert admin.delete(f"/api/admin/familles/{famille.famille_id}").status_code == 204
    octets = _octets_de_la_table(base.url, base.schema, "proj_enfants")
    assert octets, "aucun fichier lu"
    for aiguille in (NOM_ENFANT, "Léonie", ALLERGIE_RARE):
        assert aiguille.encode() not in octets


def test_une_table_proj_enfants_d_une_version_anterieure_est_remplacee(settings, base, horloge) -> None:
    from portail.bootstrap import construire_services

    enfant_id, famille_id = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(base.url, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {base.schema}.proj_enfants (enfant_id uuid PRIMARY KEY, famille_id uuid NOT NULL,"
            " nom text, prenom text, date_naissance date, niveau text, allergies text[] NOT NULL DEFAULT '{}',"
            " pai boolean NOT NULL DEFAULT false, regime text, fiche_valable_jusqu_au date)"
        )
        conn.execute(
            f"INSERT INTO {base.schema}.proj_enfants (enfant_id, famille_id, nom, prenom, allergies, pai,"
            " fiche_valable_jusqu_au) VALUES (%s, %s, %s, 'Léonie', %s, true, '2027-01-31')",
            (enfant_id, famille_id, NOM_ENFANT, [ALLERGIE_RARE]),
        )
    construire_services(settings, base, horloge).portail.close()
    with psycopg.connect(base.url) as conn:
        lignes = conn.execute(f"SELECT * FROM {base.schema}.proj_enfants").fetchall()
    assert lignes == [(enfant_id, famille_id, date(2027, 1, 31))]
    octets = _octets_de_la_table(base.url, base.schema, "proj_enfants")
    assert NOM_ENFANT.encode() not in octets
    assert ALLERGIE_RARE.encode() not in octets


@pytest.mark.parametrize(
    "chemin", ["/schema", "/schema/redoc", "/schema/swagger", "/schema/elements", "/schema/rapidoc"]
)
def test_aucune_page_de_documentation_ne_charge_de_script_d_un_cdn(client, chemin: str) -> None:
    reponse = client.get(chemin)
    assert "<script" not in reponse.text
    assert "cdn" not in reponse.text.lower() and "unpkg" not in reponse.text.lower()
    assert reponse.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert reponse.status_code == (200 if chemin == "/schema" else 404)


def test_le_document_openapi_reste_servi(client) -> None:
    reponse = client.get("/schema/openapi.json")
    assert reponse.status_code == 200
    assert reponse.json()["info"]["title"] == "Portail Familles"
