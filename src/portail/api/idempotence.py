"""`Idempotency-Key` on the routes that create: a request sent again with the same key and body
gets the first answer, and nothing is created twice (`store/idempotence.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request
from litestar.params import HeaderParameter

from portail.api.auth import Utilisateur
from portail.api.etat import contexte, services
from portail.application.contexte import Contexte

R = TypeVar("R")

CleIdempotence = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=200,
        description=(
            "Même clé et même corps : même réponse, rien n'est créé deux fois. Même clé, autre corps : 409."
        ),
    ),
]


def une_seule_fois(
    request: Request[Any, Any, Any],
    cle: str | None,
    demande: Any,
    commande: Callable[[Contexte], R],
    type_reponse: type[R],
    statut: int = 201,
) -> R:
    """What `commande` answers, run with the request's actor; with a key, run at most once per
    account, key and request (the path and `demande`, what the body says), and answered again
    from the stored answer."""
    utilisateur = request.scope.get("user")
    if not cle or not isinstance(utilisateur, Utilisateur):
        return commande(contexte(request))
    empreinte = msgspec.json.encode({"chemin": request.url.path, "corps": demande})
    reponse = services(request).idempotence.servir(
        utilisateur.compte_id,
        cle,
        empreinte,
        msgspec.json.encode,
        lambda en_cours: commande(replace(contexte(request), idempotence=en_cours)),
        statut,
    )
    return msgspec.json.decode(reponse.corps, type=type_reponse)
