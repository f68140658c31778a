"""What the scheduled jobs look for in the read models: offers past their expiry, invoices past
their due date, documents and fiches sanitaires about to expire, families that left long ago."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from portail.store import lecture
from portail.store.chaine import VUE_JOURNAL

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore


class Echeances:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._ds = datastore
        self._s = datastore.schema

    def _lignes(self, requete: str, parametres: tuple[Any, ...]) -> list[Any]:
        return lecture.lignes(self._ds, requete, parametres)

    def offres_echues(self, maintenant: datetime) -> list[tuple[UUID, date]]:
        """(accueil, day) with at least one offer still open after its expiry."""
        return [
            (ligne["accueil_id"], ligne["jour"])
            for ligne in self._lignes(
                f"SELECT DISTINCT accueil_id, jour FROM {self._s}.proj_offres"
                " WHERE statut = 'proposee' AND expire_le <= %s ORDER BY jour, accueil_id",
                (maintenant,),
            )
        ]

    def familles_de_l_accueil(self, accueil_id: UUID) -> list[UUID]:
        return [
            ligne["famille_id"]
            for ligne in self._lignes(
                f"SELECT DISTINCT famille_id FROM {self._s}.proj_plannings WHERE accueil_id = %s"
                " ORDER BY famille_id",
                (accueil_id,),
            )
        ]

    def impayes(self, aujourd_hui: date) -> list[Any]:
        """Invoices past their due date that still owe something."""
        return self._lignes(
            f"SELECT facture_id, famille_id, numero, periode, echeance, reste_a_payer_cents"
            f" FROM {self._s}.proj_factures WHERE echeance < %s AND reste_a_payer_cents > 0"
            " ORDER BY echeance, numero",
            (aujourd_hui,),
        )

    def derniers_documents(self, types: list[str]) -> list[Any]:
        """The latest document not refused of each family, child and type: an older one is
        replaced, so only the latest can expire."""
        return self._lignes(
            f"SELECT DISTINCT ON (famille_id, enfant_id, type) document_id, famille_id, enfant_id, type,"
            f" depose_le FROM {self._s}.proj_documents WHERE type = ANY(%s) AND statut <> 'refuse'"
            " AND depose_le IS NOT NULL ORDER BY famille_id, enfant_id, type, depose_le DESC",
            (types,),
        )

    def fiches_expirant(self, du: date, au: date) -> list[Any]:
        return self._lignes(
            f"SELECT enfant_id, famille_id, fiche_valable_jusqu_au FROM {self._s}.proj_enfants"
            " WHERE fiche_valable_jusqu_au BETWEEN %s AND %s ORDER BY fiche_valable_jusqu_au, enfant_id",
            (du, au),
        )

    def familles_parties(self, limite: date, limite_instant: datetime) -> list[UUID]:
        """Families not erased that left before `limite`: no day booked, waiting or pointed from
        `limite` on, nothing recorded about them (their own changes, bookings, pointages,
        invoices, payments…) since `limite_instant`, and no invoice still owing money."""
        s = self._s
        return [
            ligne["famille_id"]
            for ligne in self._lignes(
                f"SELECT j.famille_id FROM {s}.{VUE_JOURNAL} j WHERE j.famille_id IS NOT NULL"
                " GROUP BY j.famille_id HAVING max(j.horodatage) < %s"
                " AND bool_and(j.type <> 'Famille.Effacee')"
                f" AND NOT EXISTS (SELECT 1 FROM {s}.proj_calendrier c"
                " WHERE c.famille_id = j.famille_id AND c.jour >= %s)"
                f" AND NOT EXISTS (SELECT 1 FROM {s}.proj_factures f"
                " WHERE f.famille_id = j.famille_id AND f.reste_a_payer_cents > 0)"
                " ORDER BY j.famille_id",
                (limite_instant, limite),
            )
        ]
