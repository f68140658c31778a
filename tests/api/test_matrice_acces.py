"""Access matrix: every route of the OpenAPI document, called by everyone who must not use it —
anonymous, a parent of another family, each staff role — answers no 2xx."""

from __future__ import annotations

import inspect
import re
import uuid
from datetime import UTC, datetime

from outils_http import compte_personnel, connecter, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, reserver

PUBLIQUES = re.compile(
    r"^/(health|ready|metrics|schema.*|api/inscription|api/auth/(connexion|mot-de-passe-oublie|reinitialisation|confirmation-email)|api/paiements/.*)$"
)
TOUT_COMPTE = re.compile(r"^/api/(moi.*|auth/deconnexion)$")
FAMILLE = re.compile(
    r"^/api/(foyer|enfants|quotient-familial|prelevement|accueils|offres|factures|solde|attestations|documents|actualites).*"
)
ROLES = {
    r"^/api/agent/documents.*": {"agent", "regisseur", "admin"},
    r"^/api/admin/accueils/\{accueil_id\}/tarifs$": {"admin", "regisseur"},
    r"^/api/admin/.*": {"admin"},
    r"^/api/regie/.*": {"regisseur", "admin"},
    r"^/api/agent/.*": {"agent", "admin"},
    r"^/api/audit/.*": {"auditeur", "admin"},
}


def _autorises(chemin: str) -> set[str] | None:
    """Who may get a 2xx on this route; None: anyone."""
    if PUBLIQUES.match(chemin):
        return None
    if TOUT_COMPTE.match(chemin):
        return {"parent", "agent", "regisseur", "auditeur", "admin"}
    if FAMILLE.match(chemin):
        # A parent reaches only its own family: with the other family's ids, nothing.
        return {"parent"} if "{" not in chemin else set()
    for motif, roles in ROLES.items():
        if re.match(motif, chemin):
            return roles
    raise AssertionError(f"route sans règle d'accès dans ce test : {chemin}")


def test_aucun_2xx_hors_des_droits(client, horloge) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil = creer_accueil(admin)
    famille_a = nouvelle_famille(client, "a@example.fr")
    enfant_a = ajouter_enfant(famille_a)
    reserver(famille_a, enfant_a, accueil, ("2021-10-04", "MATIN"))
    identites = {
        "anonyme": None,
        "parent": nouvelle_famille(client, "b@example.fr"),  # another family
        "agent": compte_personnel(client, "agent@mairie.fr", "agent"),
        "regisseur": compte_personnel(client, "regie@mairie.fr", "regisseur"),
        "auditeur": compte_personnel(client, "auditeur@mairie.fr", "auditeur"),
        "admin": connecter(client, "admin@mairie.fr", "Motdepasse-2026"),
    }
    valeurs = {
        "enfant_id": enfant_a,
        "famille_id": famille_a.famille_id,
        "accueil_id": accueil,
        "agregat_id": famille_a.famille_id,
        "facture_id": str(uuid.uuid4()),
        "campagne_id": str(uuid.uuid4()),
        "offre_id": str(uuid.uuid4()),
        "reglement_id": str(uuid.uuid4()),
        "session_id": "session-inconnue",
        "document_id": str(uuid.uuid4()),
    }
    document = client.get("/schema/openapi.json").json()
    appels = 0
    for chemin, operations in document["paths"].items():
        autorises = _autorises(chemin)
        if autorises is None:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: valeurs[m.group(1)], chemin)
        for methode in operations:
            if methode not in {"get", "post", "put", "patch", "delete"}:
                continue
            for nom, session in identites.items():
                if nom in autorises:
                    continue
                client.cookies.clear()
                entetes = session.entetes if session else {}
                reponse = client.request(
                    methode.upper(),
                    url,
                    headers=entetes,
                    params={
                        "mois": "2021-10",
                        "accueil_id": accueil,
                        "date": "2021-10-04",
                        "annee": 2021,
                        "enfant_id": enfant_a,
                    },
                    json={} if methode != "get" else None,
                )
                appels += 1
                assert not 200 <= reponse.status_code < 300, (
                    nom,
                    methode,
                    chemin,
                    reponse.status_code,
                    reponse.text[:200],
                )
                assert reponse.headers["content-type"].startswith("application/problem+json"), (
                    nom,
                    methode,
                    chemin,
                )
    assert appels > 150


def test_gardes_sur_la_boucle(client) -> None:
    """The framework runs a plain function guard in a worker thread, a hop to and from the event
    loop on every request of its routes: every guard is a coroutine."""
    gardes = {
        garde
        for route in client.app.routes
        for gestionnaire in getattr(route, "route_handlers", ())
        for garde in gestionnaire.resolve_guards()
    }
    assert len(gardes) >= 3
    en_fil = [g for g in gardes if not inspect.iscoroutinefunction(g)]
    assert en_fil == []
