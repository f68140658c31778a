"""Invoice PDF (fpdf2, DejaVu Sans so that "€" and accents print): the lines and their explanation."""

from __future__ import annotations

from datetime import date
from importlib import resources

from babel.numbers import format_currency
from fpdf import FPDF

from portail.domain.campagne import Facture

POLICE = "DejaVu"


def euros(cents: int) -> str:
    return str(format_currency(cents / 100, "EUR", locale="fr_FR"))


def _document() -> FPDF:
    pdf = FPDF(format="A4")
    dossier = resources.files("portail.ressources")
    with (
        resources.as_file(dossier / "DejaVuSans.ttf") as normal,
        resources.as_file(dossier / "DejaVuSans-Bold.ttf") as gras,
    ):
        pdf.add_font(POLICE, "", str(normal))
        pdf.add_font(POLICE, "B", str(gras))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    return pdf


def facture_pdf(facture: Facture, regie: str, destinataire: list[str], reste_cents: int) -> bytes:
    pdf = _document()
    pdf.set_font(POLICE, "B", 15)
    titre = "Avoir" if facture.avoir else "Facture"
    pdf.cell(0, 9, f"{titre} n° {facture.numero}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(POLICE, "", 10)
    pdf.cell(0, 6, regie, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0,
        6,
        f"Période : {facture.periode} — émise le {facture.emise_le:%d/%m/%Y} — échéance le {facture.echeance:%d/%m/%Y}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    for adresse in destinataire:
        pdf.cell(0, 5, adresse, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font(POLICE, "B", 9)
    largeurs = (24, 70, 16, 30, 30)
    for titre_colonne, largeur in zip(
        ("Date", "Prestation", "Qté", "Prix unitaire", "Montant"), largeurs, strict=True
    ):
        pdf.cell(largeur, 7, titre_colonne, border="B")
    pdf.ln()
    for ligne in facture.lignes:
        pdf.set_font(POLICE, "", 9)
        pdf.cell(largeurs[0], 6, f"{ligne.jour:%d/%m/%Y}")
        pdf.cell(largeurs[1], 6, f"{ligne.accueil[:34]} {ligne.unite}")
        pdf.cell(largeurs[2], 6, str(ligne.quantite), align="R")
        pdf.cell(largeurs[3], 6, euros(ligne.prix_unitaire_cents), align="R")
        pdf.cell(largeurs[4], 6, euros(ligne.montant_cents), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(POLICE, "", 7)
        pdf.multi_cell(0, 4, ligne.explication, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(POLICE, "B", 11)
    pdf.cell(0, 7, f"Total : {euros(facture.montant_cents)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(POLICE, "", 10)
    pdf.cell(0, 6, f"Reste à payer : {euros(reste_cents)}", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def attestation_pdf(
    annee: int, regie: str, destinataire: list[str], lignes: list[tuple[str, date, int]]
) -> bytes:
    """One line per child under six on 1 January: name, birth date, amount paid for care."""
    pdf = _document()
    _entete(pdf, f"Attestation de frais de garde {annee}", regie, destinataire, taille=14)
    pdf.multi_cell(
        0,
        5,
        f"Sommes facturées et réglées pour la garde en {annee} des enfants de moins de six ans au 1er "
        f"janvier {annee}, avoirs déduits, hors frais de repas (article 200 quater B du code général "
        "des impôts).",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    for nom, naissance, montant in lignes:
        pdf.cell(110, 7, f"{nom}, né(e) le {naissance:%d/%m/%Y}")
        pdf.cell(0, 7, euros(montant), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(POLICE, "B", 11)
    pdf.cell(0, 8, f"Total : {euros(sum(m for _, _, m in lignes))}", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _entete(pdf: FPDF, titre: str, regie: str, destinataire: list[str], taille: int = 15) -> None:
    pdf.set_font(POLICE, "B", taille)
    pdf.cell(0, 9, titre, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(POLICE, "", 10)
    pdf.cell(0, 6, regie, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for adresse in destinataire:
        pdf.cell(0, 5, adresse, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)


def piece_pdf(
    titre: str,
    libelle: str,
    regie: str,
    destinataire: list[str],
    dates: tuple[date, date],
    facture_citee: str | None,
    montants: tuple[int, int],
) -> bytes:
    """A piece the régie recorded by hand (a credit note, a write-off, an amount owed): one line,
    the invoice it cites, its amount and what is left to pay."""
    pdf = _document()
    _entete(pdf, titre, regie, destinataire)
    emise_le, echeance = dates
    montant, reste = montants
    pdf.cell(
        0, 6, f"Émise le {emise_le:%d/%m/%Y} — échéance le {echeance:%d/%m/%Y}", new_x="LMARGIN", new_y="NEXT"
    )
    if facture_citee is not None:
        pdf.cell(0, 6, f"Se rapporte à la facture n° {facture_citee}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.cell(140, 7, libelle, border="B")
    pdf.cell(0, 7, euros(montant), border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(POLICE, "B", 11)
    pdf.cell(0, 7, f"Total : {euros(montant)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(POLICE, "", 10)
    pdf.cell(0, 6, f"Reste à payer : {euros(reste)}", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def bordereau_pdf(titre: str, regie: str, periode: str, lignes: list[tuple[date, str, str, int]]) -> bytes:
    """A deposit slip: one line per payment (date, payer, reference, amount), their number and
    total."""
    pdf = _document()
    _entete(pdf, titre, regie, [periode])
    largeurs = (26, 74, 50, 30)
    pdf.set_font(POLICE, "B", 9)
    for titre_colonne, largeur in zip(("Date", "Payeur", "Référence", "Montant"), largeurs, strict=True):
        pdf.cell(largeur, 7, titre_colonne, border="B")
    pdf.ln()
    pdf.set_font(POLICE, "", 9)
    for le, payeur, reference, montant in lignes:
        pdf.cell(largeurs[0], 6, f"{le:%d/%m/%Y}")
        pdf.cell(largeurs[1], 6, payeur[:40])
        pdf.cell(largeurs[2], 6, reference[:28])
        pdf.cell(largeurs[3], 6, euros(montant), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(POLICE, "B", 11)
    total = sum(m for *_, m in lignes)
    pdf.cell(
        0, 7, f"{len(lignes)} règlement(s) — total : {euros(total)}", align="R", new_x="LMARGIN", new_y="NEXT"
    )
    return bytes(pdf.output())
