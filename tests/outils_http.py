"""Helpers for HTTP tests: register a family and log in as it, create staff accounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.testing import TestClient

MOT_DE_PASSE = "Motdepasse-2026"


@dataclass
class Session:
    client: TestClient  # type: ignore[type-arg]
    jeton: str
    compte_id: str
    famille_id: str | None

    @property
    def entetes(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.jeton}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers={**self.entetes, **kw.pop("headers", {})}, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers={**self.entetes, **kw.pop("headers", {})}, **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.client.put(url, headers={**self.entetes, **kw.pop("headers", {})}, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.client.patch(url, headers={**self.entetes, **kw.pop("headers", {})}, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.client.delete(url, headers={**self.entetes, **kw.pop("headers", {})}, **kw)


def inscription(email: str, nom: str = "Martin", prenom: str = "Claire") -> dict[str, Any]:
    return {
        "email": email,
        "mot_de_passe": MOT_DE_PASSE,
        "responsable": {
            "civilite": "Mme",
            "nom": nom,
            "prenom": prenom,
            "telephone": "06 12 34 56 78",
            "adresse": {"ligne1": "3 place de la Mairie", "code_postal": "44000", "commune": "Nantes"},
        },
    }


def connecter(client: TestClient, email: str, mot_de_passe: str = MOT_DE_PASSE) -> Session:  # type: ignore[type-arg]
    reponse = client.post("/api/auth/connexion", json={"email": email, "mot_de_passe": mot_de_passe})
    assert reponse.status_code == 200, reponse.text
    corps = reponse.json()
    return Session(client, corps["token"], corps["compte"]["id"], corps["compte"]["famille_id"])


def nouvelle_famille(client: TestClient, email: str, **kw: str) -> Session:  # type: ignore[type-arg]
    reponse = client.post("/api/inscription", json=inscription(email, **kw))
    assert reponse.status_code == 201, reponse.text
    return connecter(client, email)


def compte_personnel(client: TestClient, email: str, role: str) -> Session:  # type: ignore[type-arg]
    from portail.application.contexte import Contexte

    services_app = client.app.state.services
    services_app.comptes.creer_compte_personnel(Contexte.systeme("test"), email, MOT_DE_PASSE, [role])
    return connecter(client, email)
