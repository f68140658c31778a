"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portail.domain.erreurs import ErreurValidation

LONGUEUR_MIN = 8
LONGUEUR_MAX = 128


def verifier_politique(mot_de_passe: str) -> None:
    """CNIL délibération 2022-100, case of an account protected by login throttling:
    at least 8 characters mixing three of the four kinds (upper, lower, digit, other)."""
    if len(mot_de_passe) < LONGUEUR_MIN:
        raise ErreurValidation.sur("", f"le mot de passe doit comporter au moins {LONGUEUR_MIN} caractères")
    if len(mot_de_passe) > LONGUEUR_MAX:
        raise ErreurValidation.sur("", f"le mot de passe ne doit pas dépasser {LONGUEUR_MAX} caractères")
    sortes = [
        any(c.isupper() for c in mot_de_passe),
        any(c.islower() for c in mot_de_passe),
        any(c.isdigit() for c in mot_de_passe),
        any(not c.isalnum() for c in mot_de_passe),
    ]
    if sum(sortes) < 3:
        raise ErreurValidation.sur(
            "",
            "le mot de passe doit mêler au moins trois sortes de caractères parmi majuscules, "
            "minuscules, chiffres et caractères spéciaux",
        )


class Hacheur:
    def __init__(self, memoire_kib: int, iterations: int) -> None:
        self._ph = PasswordHasher(time_cost=iterations, memory_cost=memoire_kib, parallelism=1)
        # Verifying against this when the account does not exist keeps answers equally slow.
        self._leurre = self._ph.hash("leurre-pour-temps-constant")

    def hacher(self, mot_de_passe: str) -> str:
        return self._ph.hash(mot_de_passe)

    def verifier(self, empreinte: str | None, mot_de_passe: str) -> bool:
        try:
            return self._ph.verify(empreinte or self._leurre, mot_de_passe) and empreinte is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
