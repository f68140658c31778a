"""The accounting export: every entry of a period as CSV for the accounting software."""

from __future__ import annotations

import csv
import io
from datetime import date

from portail.application.tableur import sans_formule
from portail.projections.lectures_regie import LecturesRegie

COLONNES = (
    "date",
    "numero_piece",
    "type",
    "famille_id",
    "payeur",
    "montant_cents",
    "mode",
    "imputation_budgetaire",
    "campagne_id",
    "piece_origine",
    "reference",
)
SEPARATEUR = ";"
"""What French spreadsheets and accounting imports expect by default."""


def export_comptable(lectures: LecturesRegie, du: date, au: date) -> str:
    """A header line, then one row per entry dated from `du` to `au`: an invoice has one row per
    budget line its accueils carry. Null values are empty cells."""
    tampon = io.StringIO()
    ecrivain = csv.writer(tampon, delimiter=SEPARATEUR, lineterminator="\r\n")
    ecrivain.writerow(COLONNES)
    for ligne in lectures.ecritures(du, au):
        ecrivain.writerow(sans_formule(*("" if v is None else v for v in ligne)))
    return tampon.getvalue()
