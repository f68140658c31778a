"""Reading the log for auditors: filtered and paged events with who, when, why and what, the
field-by-field history of any aggregate, and streamed exports. Erased data reads as erased."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import MapperDeserialisationError, Notification

from portail.application.portail import Portail
from portail.application.tableur import sans_formule
from portail.domain.erreurs import Introuvable
from portail.store import lecture
from portail.store.chaine import VUE_JOURNAL
from portail.store.format_evenements import champs_valeur

CHAMPS_TECHNIQUES = {"originator_id", "originator_version", "timestamp", "audit", "originator_topic"}
EFFACE = "[effacé]"
MASQUE = "[masqué]"
SECRETS = {"mot_de_passe_hash", "jeton_empreinte", "reinitialisations", "changement_email"}
"""Never shown, even to auditors: they record that a password or a reset changed, not its value."""


def en_json(valeur: Any) -> Any:
    """Plain JSON values for any domain value."""
    champs = champs_valeur(type(valeur))
    if champs is not None:
        return {nom: en_json(getattr(valeur, nom)) for nom in champs}
    if isinstance(valeur, Enum):
        return en_json(valeur.value)
    if isinstance(valeur, UUID | Decimal):
        return str(valeur)
    if isinstance(valeur, datetime | date | time):
        return valeur.isoformat()
    if isinstance(valeur, list | tuple | set | frozenset):
        return [en_json(v) for v in valeur]
    if isinstance(valeur, dict):
        return {str(k): en_json(v) for k, v in valeur.items()}
    return valeur


@dataclass(frozen=True)
class Filtres:
    famille_id: UUID | None = None
    enfant_id: UUID | None = None
    acteur: UUID | None = None
    type: str | None = None
    du: datetime | None = None
    au: datetime | None = None

    def sql(self) -> tuple[str, list[Any]]:
        conditions: list[str] = []
        parametres: list[Any] = []
        for colonne, valeur in (
            ("famille_id", self.famille_id),
            ("enfant_id", self.enfant_id),
            ("acteur_compte_id", self.acteur),
        ):
            if valeur is not None:
                conditions.append(f"{colonne} = %s")
                parametres.append(valeur)
        if self.type:
            # "Famille" for every event of the aggregate, "Famille.ResponsableModifie" for one.
            conditions.append("(type = %s OR agregat_type = %s)")
            parametres.extend([self.type, self.type])
        if self.du is not None:
            conditions.append("horodatage >= %s")
            parametres.append(self.du)
        if self.au is not None:
            conditions.append("horodatage <= %s")
            parametres.append(self.au)
        return " AND ".join(conditions) or "TRUE", parametres


class ServiceAudit:
    def __init__(self, portail: Portail) -> None:
        self.portail = portail
        datastore = portail.factory.datastore  # type: ignore[attr-defined]
        self._ds = datastore
        self._s = datastore.schema

    def _evenements(self, lignes: list[dict[str, Any]]) -> dict[int, Any]:
        """The domain events at these positions, read in one query; an unreadable one is absent."""
        table = f"{self._s}.{self.portail.recorder.events_table_name}"  # type: ignore[attr-defined]
        enregistres = lecture.lignes(
            self._ds,
            "SELECT notification_id, originator_id, originator_version, topic, state"
            f" FROM {table} WHERE notification_id = ANY(%s)",
            [[ligne["position"] for ligne in lignes]],
        )
        evenements: dict[int, Any] = {}
        for r in enregistres:
            notification = Notification(
                id=r["notification_id"],
                originator_id=r["originator_id"],
                originator_version=r["originator_version"],
                topic=r["topic"],
                state=bytes(r["state"]),
            )
            with contextlib.suppress(MapperDeserialisationError):
                evenements[r["notification_id"]] = self.portail.mapper.to_domain_event(notification)
        return evenements

    def _decrire_page(self, lignes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        evenements = self._evenements(lignes)
        return [self.decrire(ligne, evenements.get(ligne["position"])) for ligne in lignes]

    def _efface(self, evenement: Any) -> bool:
        personnel = bool(getattr(type(evenement), "PERSONNEL", ())) or getattr(
            type(evenement), "SUJET_PERSONNEL", False
        )
        return personnel and self.portail.trousseau.cle_pour_lire(evenement.originator_id) is None

    def decrire(self, ligne: dict[str, Any], evenement: Any | None) -> dict[str, Any]:
        audit = (vars(evenement).get("audit") if evenement is not None else None) or {}
        acteur = audit.get("acteur") or {}
        donnees: dict[str, Any] | None = None
        efface = False
        if evenement is not None:
            efface = self._efface(evenement)
            donnees = {
                k: (
                    MASQUE
                    if k in SECRETS
                    else EFFACE
                    if efface and v is None and k in getattr(type(evenement), "PERSONNEL", ())
                    else en_json(v)
                )
                for k, v in vars(evenement).items()
                if k not in CHAMPS_TECHNIQUES
            }
        return {
            "position": ligne["position"],
            "horodatage": ligne["horodatage"].isoformat() if ligne["horodatage"] else None,
            "agregat": {
                "type": ligne["agregat_type"],
                "id": str(ligne["agregat_id"]),
                "version": ligne["version"],
            },
            "type": ligne["type"],
            "acteur": {
                "compte_id": acteur.get("compte_id"),
                "role": acteur.get("role"),
                "nom": acteur.get("nom"),
            },
            "correlation_id": audit.get("correlation_id"),
            "motif": EFFACE
            if efface and audit.get("motif") is None and "motif" in audit
            else audit.get("motif"),
            "donnees": donnees if donnees is not None else {"illisible": True},
            "efface": efface,
        }

    def lignes(self, filtres: Filtres, apres: int, limite: int) -> list[dict[str, Any]]:
        condition, parametres = filtres.sql()
        return lecture.lignes(
            self._ds,
            f"SELECT position, agregat_id, agregat_type, version, type, horodatage FROM {self._s}.{VUE_JOURNAL}"
            f" WHERE position > %s AND {condition} ORDER BY position LIMIT %s",
            [apres, *parametres, limite],
        )

    def evenements(
        self, filtres: Filtres, apres: int, limite: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        lignes = self.lignes(filtres, apres, limite + 1)
        suivant = lignes[limite - 1]["position"] if len(lignes) > limite else None
        return self._decrire_page(lignes[:limite]), suivant

    def historique(self, agregat_id: UUID) -> dict[str, Any]:
        """Every change of one aggregate: for each version, the fields whose value changed."""
        evenements = list(self.portail.events.get(agregat_id))
        if not evenements:
            raise Introuvable("Agrégat introuvable.")
        changements: list[dict[str, Any]] = []
        agregat: Any = None
        avant: dict[str, Any] = {}
        for evenement in evenements:
            agregat = evenement.mutate(agregat)  # type: ignore[attr-defined]
            apres = _etat(agregat)
            audit = vars(evenement).get("audit") or {}
            efface = self._efface(evenement)
            changements.append(
                {
                    "version": evenement.originator_version,
                    "horodatage": audit.get("horodatage") or evenement.timestamp.isoformat(),  # type: ignore[attr-defined]
                    "type": type(evenement).__qualname__,
                    "acteur": audit.get("acteur"),
                    "motif": EFFACE
                    if efface and audit.get("motif") is None and "motif" in audit
                    else audit.get("motif"),
                    "champs": [
                        {
                            "champ": champ,
                            "avant": _affiche(avant.get(champ), efface),
                            "apres": _affiche(apres.get(champ), efface),
                        }
                        for champ in sorted(set(avant) | set(apres))
                        if avant.get(champ) != apres.get(champ)
                    ],
                }
            )
            avant = apres
        return {
            "agregat": {"type": type(agregat).__name__, "id": str(agregat_id)},
            "changements": changements,
        }

    def exporter(self, filtres: Filtres, format_: str) -> Iterator[bytes]:
        """The filtered log, page by page: memory stays constant whatever its length."""
        apres = 0
        ecrire_entete = True
        while True:
            lignes = self.lignes(filtres, apres, 500)
            if not lignes:
                return
            for evenement in self._decrire_page(lignes):
                if format_ == "jsonl":
                    yield (json.dumps(evenement, ensure_ascii=False, sort_keys=True) + "\n").encode()
                else:
                    tampon = io.StringIO()
                    ecrivain = csv.writer(tampon)
                    if ecrire_entete:
                        ecrivain.writerow(
                            [
                                "position",
                                "horodatage",
                                "agregat_type",
                                "agregat_id",
                                "version",
                                "type",
                                "acteur_compte_id",
                                "role",
                                "correlation_id",
                                "motif",
                                "donnees",
                            ]
                        )
                        ecrire_entete = False
                    ecrivain.writerow(
                        sans_formule(
                            evenement["position"],
                            evenement["horodatage"],
                            evenement["agregat"]["type"],
                            evenement["agregat"]["id"],
                            evenement["agregat"]["version"],
                            evenement["type"],
                            evenement["acteur"]["compte_id"],
                            evenement["acteur"]["role"],
                            evenement["correlation_id"],
                            evenement["motif"],
                            json.dumps(evenement["donnees"], ensure_ascii=False, sort_keys=True),
                        )
                    )
                    yield tampon.getvalue().encode()
            apres = lignes[-1]["position"]


def _etat(agregat: Any) -> dict[str, Any]:
    return {
        k: MASQUE if k in SECRETS else en_json(v)
        for k, v in vars(agregat).items()
        if not k.startswith("_") and k not in {"id", "version", "created_on", "modified_on"}
    }


def _affiche(valeur: Any, efface: bool) -> Any:
    return EFFACE if efface and valeur is None else valeur
