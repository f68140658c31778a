"""What a stolen session cannot do silently: guess the current password without limit, move the
account to another address without the new address's owner and the old one knowing, or make the
portal mail without end."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from portail.bootstrap import construire_services
from portail.settings import Settings

from outils_http import MOT_DE_PASSE, compte_personnel, connecter, inscription, nouvelle_famille

FAUX = "Faux-Secret-2026"
NOUVEAU = "Nouveau-Secret-9"


@dataclass
class Courriel:
    destinataire: str
    sujet: str
    texte: str


def _courriels(dossier: Path | None) -> list[Courriel]:
    assert dossier is not None
    lus = []
    for chemin in sorted(dossier.glob("*.eml"), key=lambda c: c.stat().st_mtime_ns):
        message = email.message_from_bytes(chemin.read_bytes(), policy=email.policy.default)
        texte = message.get_body().get_content()  # type: ignore[union-attr]
        lus.append(Courriel(str(message["To"]), str(message["Subject"]), texte))
    return lus


def _jeton_email(courriel: Courriel) -> str:
    trouve = re.search(r"/confirmation-email\?token=([A-Za-z0-9_.\-]+)", courriel.texte)
    assert trouve, courriel.texte
    return trouve.group(1)


def _dernier_lien(dossier: Path | None, destinataire: str) -> str:
    return next(_jeton_email(c) for c in reversed(_courriels(dossier)) if c.destinataire == destinataire)


def test_le_mot_de_passe_actuel_d_un_changement_de_mot_de_passe_est_freine(client, horloge) -> None:
    session = nouvelle_famille(client, "vol@example.fr")
    for _ in range(5):
        faux = session.put("/api/moi/mot-de-passe", json={"ancien": FAUX, "nouveau": NOUVEAU})
        assert faux.status_code == 422
    bloque = session.put("/api/moi/mot-de-passe", json={"ancien": MOT_DE_PASSE, "nouveau": NOUVEAU})
    assert bloque.status_code == 429
    assert bloque.headers["content-type"].startswith("application/problem+json")
    attente = int(bloque.headers["retry-after"])
    assert 0 < attente <= 15 * 60
    # The same allowance as login: guessing by either way spends it.
    connexion = client.post(
        "/api/auth/connexion", json={"email": "vol@example.fr", "mot_de_passe": MOT_DE_PASSE}
    )
    assert connexion.status_code == 429
    horloge.avancer(seconds=attente + 1)
    ok = session.put("/api/moi/mot-de-passe", json={"ancien": MOT_DE_PASSE, "nouveau": NOUVEAU})
    assert ok.status_code == 204


def test_le_mot_de_passe_actuel_d_un_changement_d_email_est_freine(client, settings: Settings) -> None:
    session = nouvelle_famille(client, "vol@example.fr")
    for _ in range(5):
        faux = session.put("/api/moi/email", json={"email": "pirate@example.fr", "mot_de_passe": FAUX})
        assert faux.status_code == 422
        assert faux.json()["erreurs"][0]["champ"] == "mot_de_passe"
    bloque = session.put("/api/moi/email", json={"email": "pirate@example.fr", "mot_de_passe": MOT_DE_PASSE})
    assert bloque.status_code == 429
    assert int(bloque.headers["retry-after"]) > 0
    assert not _courriels(settings.mail_dir)
    assert session.get("/api/moi").json()["compte"]["email"] == "vol@example.fr"


def test_le_changement_d_email_attend_la_confirmation_et_previent_l_ancienne_adresse(
    client, settings: Settings, horloge
) -> None:
    session = nouvelle_famille(client, "avant@example.fr")
    autre_session = connecter(client, "avant@example.fr")
    demande = session.put("/api/moi/email", json={"email": "Apres@Example.fr", "mot_de_passe": MOT_DE_PASSE})
    assert demande.status_code == 202, demande.text
    assert demande.json()["email_en_attente"] == "apres@example.fr"
    courriels = _courriels(settings.mail_dir)
    assert sorted(c.destinataire for c in courriels) == ["apres@example.fr", "avant@example.fr"]
    lien = next(c for c in courriels if c.destinataire == "apres@example.fr")
    avis = next(c for c in courriels if c.destinataire == "avant@example.fr")
    assert "confirmation-email?token=" not in avis.texte
    assert "apres@example.fr" in avis.texte
    jeton = _jeton_email(lien)

    # Nothing changes until the link is followed.
    assert session.get("/api/moi").json()["compte"]["email"] == "avant@example.fr"
    assert autre_session.get("/api/foyer").status_code == 200
    refus = client.post(
        "/api/auth/connexion", json={"email": "apres@example.fr", "mot_de_passe": MOT_DE_PASSE}
    )
    assert refus.status_code == 401
    assert client.post("/api/inscription", json=inscription("avant@example.fr")).status_code == 409

    horloge.avancer(seconds=1)
    confirmation = client.post("/api/auth/confirmation-email", json={"token": jeton})
    assert confirmation.status_code == 204, confirmation.text
    # Every session opened before ends; the new address logs in, the old one is free again.
    assert session.get("/api/foyer").status_code == 401
    assert autre_session.get("/api/foyer").status_code == 401
    horloge.avancer(seconds=1)
    apres = connecter(client, "apres@example.fr")
    assert apres.get("/api/moi").json()["compte"]["email"] == "apres@example.fr"
    assert client.post("/api/inscription", json=inscription("avant@example.fr")).status_code == 201
    assert client.post("/api/inscription", json=inscription("apres@example.fr")).status_code == 409
    # The link serves once.
    encore = client.post("/api/auth/confirmation-email", json={"token": jeton})
    assert encore.status_code == 422
    assert encore.headers["content-type"].startswith("application/problem+json")


def test_le_lien_de_confirmation_expire_et_un_changement_de_mot_de_passe_l_annule(
    client, settings: Settings, horloge
) -> None:
    session = nouvelle_famille(client, "avant@example.fr")
    corps = {"email": "apres@example.fr", "mot_de_passe": MOT_DE_PASSE}
    assert session.put("/api/moi/email", json=corps).status_code == 202
    premier = _dernier_lien(settings.mail_dir, "apres@example.fr")
    horloge.avancer(hours=24, seconds=1)
    assert client.post("/api/auth/confirmation-email", json={"token": premier}).status_code == 422

    session = connecter(client, "avant@example.fr")
    assert session.put("/api/moi/email", json=corps).status_code == 202
    second = _dernier_lien(settings.mail_dir, "apres@example.fr")
    assert second != premier
    assert (
        session.put("/api/moi/mot-de-passe", json={"ancien": MOT_DE_PASSE, "nouveau": NOUVEAU}).status_code
        == 204
    )
    assert client.post("/api/auth/confirmation-email", json={"token": second}).status_code == 422
    for jeton in ("n-importe-quoi", "0" * 32 + ".abc"):
        assert client.post("/api/auth/confirmation-email", json={"token": jeton}).status_code == 422


def test_un_changement_d_email_vers_une_adresse_prise_est_refuse_sans_courriel(
    client, settings: Settings
) -> None:
    nouvelle_famille(client, "prise@example.fr")
    session = nouvelle_famille(client, "moi@example.fr")
    prise = session.put("/api/moi/email", json={"email": "prise@example.fr", "mot_de_passe": MOT_DE_PASSE})
    assert prise.status_code == 409
    assert not _courriels(settings.mail_dir)


def test_les_demandes_de_reinitialisation_sont_limitees_sans_rien_dire(
    client, settings: Settings, horloge
) -> None:
    nouvelle_famille(client, "oubli@example.fr")
    reponses = [
        client.post("/api/auth/mot-de-passe-oublie", json={"email": adresse})
        for adresse in ["oubli@example.fr"] * 10 + ["personne@example.fr"] * 10
    ]
    assert {r.status_code for r in reponses} == {202}
    assert len({r.content for r in reponses}) == 1
    assert {tuple(sorted(k for k in r.headers if k != "x-correlation-id")) for r in reponses} == {
        tuple(sorted(k for k in reponses[0].headers if k != "x-correlation-id"))
    }
    # Three links per address and window, whatever the number of requests.
    assert [c.destinataire for c in _courriels(settings.mail_dir)] == ["oubli@example.fr"] * 3
    horloge.avancer(minutes=16)
    client.post("/api/auth/mot-de-passe-oublie", json={"email": "oubli@example.fr"})
    assert len(_courriels(settings.mail_dir)) == 4


def test_les_demandes_de_reinitialisation_d_une_adresse_ip_sont_limitees(client, settings: Settings) -> None:
    nouvelle_famille(client, "oubli@example.fr")
    for i in range(20):
        assert (
            client.post("/api/auth/mot-de-passe-oublie", json={"email": f"x{i}@example.fr"}).status_code
            == 202
        )
    assert client.post("/api/auth/mot-de-passe-oublie", json={"email": "oubli@example.fr"}).status_code == 202
    assert not _courriels(settings.mail_dir)


def test_le_changement_d_email_se_relit_depuis_le_journal_sans_montrer_son_lien(
    client, services, settings: Settings, base, horloge
) -> None:
    session = nouvelle_famille(client, "avant@example.fr")
    corps = {"email": "apres@example.fr", "mot_de_passe": MOT_DE_PASSE}
    assert session.put("/api/moi/email", json=corps).status_code == 202
    jeton = _dernier_lien(settings.mail_dir, "apres@example.fr")
    # Another process, with nothing in memory, reads the pending change from the stored events.
    en_attente = services.comptes.compte(UUID(session.compte_id)).changement_email
    assert en_attente is not None and en_attente.email == "apres@example.fr"
    auditeur = compte_personnel(client, "audit@mairie.fr", "auditeur")
    historique = auditeur.get(f"/api/audit/agregats/{session.compte_id}/historique").text
    assert jeton.partition(".")[2] not in historique
    assert "ChangementEmailDemande" in historique
    assert client.post("/api/auth/confirmation-email", json={"token": jeton}).status_code == 204
    relu = construire_services(settings, base, horloge)
    try:
        compte = relu.comptes.compte(UUID(session.compte_id))
        assert compte.email == "apres@example.fr"
        assert compte.changement_email is None
        assert relu.comptes.compte_par_email("apres@example.fr") is not None
        assert relu.comptes.compte_par_email("avant@example.fr") is None
    finally:
        relu.portail.close()
