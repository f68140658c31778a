"""Key material: from the environment, or generated once into the data folder (mode 0600)."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def _fichier(chemin: Path, fabrique: str) -> str:
    if chemin.exists():
        return chemin.read_text().strip()
    chemin.parent.mkdir(parents=True, exist_ok=True)
    descripteur = os.open(chemin, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descripteur, "w") as f:
        f.write(fabrique)
    return fabrique


def cle_maitre(valeur: str | None, data_dir: Path) -> bytes:
    texte = valeur or _fichier(data_dir / "cle_maitre", base64.b64encode(secrets.token_bytes(32)).decode())
    cle = base64.b64decode(texte)
    if len(cle) != 32:
        raise ValueError("PORTAIL_MASTER_KEY doit être 32 octets encodés en base64")
    return cle


def secret_sessions(valeur: str | None, data_dir: Path) -> str:
    return valeur or _fichier(data_dir / "secret_sessions", secrets.token_urlsafe(48))
