"""The régie's reads, from the read models of `comptabilite.py` and `proj_factures`: the journal of
invoices and pieces, the receipts of a period, the accounting entries of a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from portail.store import lecture

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

COLONNES_PIECE = (
    "f.facture_id, f.numero, f.nature, f.famille_id, fa.payeur, f.periode, f.emise_le, f.echeance,"
    " f.montant_cents, f.reste_a_payer_cents, f.statut, f.campagne_id, f.facture_origine"
)


@dataclass(frozen=True)
class FiltresJournal:
    famille_id: UUID | None = None
    enfant_id: UUID | None = None
    numero: str | None = None
    """Exact number or its beginning."""
    statut: str | None = None
    nature: str | None = None
    periode: str | None = None


class LecturesRegie:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._ds = datastore
        self._s = datastore.schema

    def journal(self, filtres: FiltresJournal, apres: str | None, limite: int) -> list[Any]:
        """Pieces by number, those after `apres` (a number); one more than `limite` tells that
        another page follows."""
        s = self._s
        conditions: list[str] = []
        parametres: list[Any] = []
        for colonne, valeur in (
            ("f.famille_id", filtres.famille_id),
            ("f.statut", filtres.statut),
            ("f.nature", filtres.nature),
            ("f.periode", filtres.periode),
        ):
            if valeur is not None:
                conditions.append(f"{colonne} = %s")
                parametres.append(valeur)
        if filtres.numero:
            conditions.append("starts_with(f.numero, %s)")
            parametres.append(filtres.numero)
        if filtres.enfant_id is not None:
            conditions.append(
                f"EXISTS (SELECT 1 FROM {s}.proj_factures_ventilation v"
                " WHERE v.facture_id = f.facture_id AND v.enfant_id = %s)"
            )
            parametres.append(filtres.enfant_id)
        if apres is not None:
            conditions.append("f.numero > %s")
            parametres.append(apres)
        where = " AND ".join(conditions) or "TRUE"
        return lecture.lignes(
            self._ds,
            f"SELECT {COLONNES_PIECE} FROM {s}.proj_factures f"
            f" LEFT JOIN {s}.proj_familles fa ON fa.famille_id = f.famille_id"
            f" WHERE {where} ORDER BY f.numero, f.facture_id LIMIT %s",
            (*parametres, limite + 1),
        )

    def piece(self, facture_id: UUID) -> Any | None:
        s = self._s
        return lecture.ligne(
            self._ds,
            f"SELECT {COLONNES_PIECE} FROM {s}.proj_factures f"
            f" LEFT JOIN {s}.proj_familles fa ON fa.famille_id = f.famille_id WHERE f.facture_id = %s",
            (facture_id,),
        )

    def encaissements(self, du: date, au: date, mode: str | None) -> list[Any]:
        """Payments received from `du` to `au` (inclusive), of one mode or all."""
        s = self._s
        filtre_mode = " AND m.mode = %s" if mode is not None else ""
        return lecture.lignes(
            self._ds,
            "SELECT m.mouvement_id, m.le, m.famille_id, fa.payeur, m.montant_cents, m.mode, m.reference,"
            f" m.rejete FROM {s}.proj_mouvements m"
            f" LEFT JOIN {s}.proj_familles fa ON fa.famille_id = m.famille_id"
            f" WHERE m.nature = 'reglement' AND m.le BETWEEN %s AND %s{filtre_mode}"
            " ORDER BY m.le, m.mode, fa.payeur NULLS LAST, m.mouvement_id",
            (du, au, *([mode] if mode is not None else [])),
        )

    def paiements(self, famille_id: UUID) -> list[Any]:
        """A family's money movements, newest first: its payments (a rejected debit marked so,
        with its rejection), and the refunds of its credit."""
        return lecture.lignes(
            self._ds,
            "SELECT le, nature, montant_cents, mode, rejete FROM"
            f" {self._s}.proj_mouvements WHERE famille_id = %s AND nature IN ('reglement', 'rejet', 'remboursement')"
            " ORDER BY le DESC, mouvement_id",
            (famille_id,),
        )

    def ecritures(self, du: date, au: date) -> list[tuple[Any, ...]]:
        """Every entry dated from `du` to `au`, signed as the family's balance moves (positive: it
        owes more): invoices split by budget line, pieces recorded by hand, payments, rejected
        debits, refunds. Columns: date, piece, type, famille_id, payeur, montant_cents, mode,
        imputation_budgetaire, campagne_id, piece_origine, reference."""
        s = self._s
        return lecture.tuples(
            self._ds,
            "WITH dans_periode AS ("
            f" SELECT * FROM {s}.proj_factures WHERE emise_le BETWEEN %(du)s AND %(au)s),"
            " par_imputation AS ("
            " SELECT v.facture_id, a.imputation_budgetaire AS imputation, sum(v.montant_cents) AS montant_cents"
            f" FROM {s}.proj_factures_ventilation v"
            f" LEFT JOIN {s}.proj_accueils a ON a.accueil_id = v.accueil_id"
            " WHERE v.facture_id IN (SELECT facture_id FROM dans_periode"
            " UNION SELECT facture_origine FROM dans_periode)"
            " GROUP BY v.facture_id, a.imputation_budgetaire),"
            # A piece recorded by hand takes the budget line of the invoice it cites, when it has one.
            " imputation_unique AS ("
            " SELECT facture_id, min(imputation) AS imputation FROM par_imputation"
            " GROUP BY facture_id HAVING count(*) = 1)"
            " SELECT f.emise_le, f.numero,"
            " CASE WHEN f.nature IN ('geste_commercial', 'greve')"
            " OR (f.nature = 'facture' AND f.montant_cents < 0) THEN 'avoir'"
            " WHEN f.nature = 'facture' THEN 'facture' ELSE 'ajustement' END,"
            " f.famille_id, fa.payeur, coalesce(i.montant_cents, f.montant_cents), NULL,"
            " CASE WHEN f.nature = 'facture' THEN i.imputation ELSE u.imputation END,"
            " coalesce(f.campagne_id, o.campagne_id), o.numero, NULL"
            " FROM dans_periode f"
            " LEFT JOIN par_imputation i ON f.nature = 'facture' AND i.facture_id = f.facture_id"
            " LEFT JOIN imputation_unique u ON u.facture_id = f.facture_origine"
            f" LEFT JOIN {s}.proj_factures o ON o.facture_id = f.facture_origine"
            f" LEFT JOIN {s}.proj_familles fa ON fa.famille_id = f.famille_id"
            " UNION ALL"
            " SELECT m.le, m.mouvement_id::text, m.nature, m.famille_id, fa.payeur,"
            " CASE WHEN m.nature = 'reglement' THEN -m.montant_cents ELSE m.montant_cents END,"
            " m.mode, NULL, NULL, m.reglement_id::text, m.reference"
            f" FROM {s}.proj_mouvements m LEFT JOIN {s}.proj_familles fa ON fa.famille_id = m.famille_id"
            " WHERE m.le BETWEEN %(du)s AND %(au)s"
            " ORDER BY 1, 2, 8 NULLS FIRST",
            {"du": du, "au": au},
        )
