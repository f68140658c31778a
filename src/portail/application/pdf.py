"""Invoice and certificate PDFs (fpdf2, DejaVu Sans so that "€" and accents print).

The invoice is meant to be understood by a parent and accepted by the Trésor: who issued it (name,
address, SIRET), for which child and which day each line is, how each price was reached, how to pay
it, how to contest it, and, for a credit note, which invoice it corrects and why. Everything it
prints is read beforehand into a `FactureImprimee`; this module reads nothing itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from uuid import UUID

from babel.numbers import format_currency
from fpdf import FPDF

from portail.domain.campagne import Facture
from portail.domain.commune import Regie
from portail.domain.facturation import LigneFacture

POLICE = "DejaVu"
MARGE = 15
LARGEUR = 210 - 2 * MARGE
GRIS = (90, 90, 90)
FILET = (200, 200, 200)
# Written out rather than taken from a locale: the server's locales are not ours to choose.
MOIS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# Date, child, service, quantity, unit price, amount: the widths add up to LARGEUR.
COLONNES = (("Date", 20, "L"), ("Enfant", 26, "L"), ("Prestation", 82, "L"), ("Qté", 9, "R"),
            ("Prix unitaire", 23, "R"), ("Montant", 20, "R"))  # fmt: skip
ENFANT_ILLISIBLE = "Enfant"
RECOURS = (
    "Pour toute question ou réclamation sur cette facture, adressez-vous d'abord à la régie. Vous "
    "pouvez contester la somme réclamée devant la juridiction compétente (le tribunal administratif "
    "ou le tribunal judiciaire, selon la nature de la prestation) dans un délai de deux mois à compter "
    "de la réception de cette facture (article L1617-5 du code général des collectivités territoriales)."
)


def euros(cents: int) -> str:
    return str(format_currency(cents / 100, "EUR", locale="fr_FR"))


def periode_en_lettres(periode: str) -> str:
    """ "2026-11" → "novembre 2026"."""
    annee, mois = periode.split("-")
    return f"{MOIS[int(mois) - 1]} {annee}"


def siret_lisible(siret: str) -> str:
    """SIREN, then NIC, as printed on official papers: 123 456 789 00012."""
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"


@dataclass(frozen=True)
class FactureCorrigee:
    numero: str
    emise_le: date


@dataclass(frozen=True)
class Prelevement:
    """The direct debit that will pay the invoice: its date and the mandate it is made under."""

    le: date
    rum: str
    ics: str
    compte: str | None  # the debtor's IBAN, masked


@dataclass(frozen=True)
class FactureImprimee:
    facture: Facture
    regie: Regie | None
    destinataire: tuple[str, ...]
    reste_cents: int
    prenoms: Mapping[UUID, str] = field(default_factory=dict)
    prelevement: Prelevement | None = None
    corrigees: tuple[FactureCorrigee, ...] = ()

    @property
    def titre(self) -> str:
        return f"{'Avoir' if self.facture.avoir else 'Facture'} n°\u00a0{self.facture.numero}"

    def prenom(self, ligne: LigneFacture) -> str:
        return self.prenoms.get(ligne.enfant_id) or ENFANT_ILLISIBLE


class _Document(FPDF):
    """A4 in DejaVu Sans; with a `pied`, every page ends with it and "page n/N"."""

    def __init__(self, pied: str | None = None) -> None:
        super().__init__(format="A4")
        self.pied = pied
        # While the invoice table runs, a new page starts with its column headings again.
        self.dans_tableau = False
        self._mesures: dict[tuple[str, str, float], float] = {}
        dossier = resources.files("portail.ressources")
        with (
            resources.as_file(dossier / "DejaVuSans.ttf") as normal,
            resources.as_file(dossier / "DejaVuSans-Bold.ttf") as gras,
        ):
            self.add_font(POLICE, "", str(normal))
            self.add_font(POLICE, "B", str(gras))
        self.set_margins(MARGE, MARGE, MARGE)
        self.set_auto_page_break(auto=True, margin=20)
        self.add_page()

    def header(self) -> None:
        if self.page_no() > 1 and self.pied:
            self.set_font(POLICE, "", 8)
            self.set_text_color(*GRIS)
            self.cell(0, 5, f"{self.pied} (suite)", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0)
            self.ln(2)
        if self.dans_tableau:
            self.entetes_colonnes()

    def footer(self) -> None:
        if not self.pied:
            return
        self.set_y(-14)
        self.set_draw_color(*FILET)
        self.line(MARGE, self.get_y(), 210 - MARGE, self.get_y())
        self.set_font(POLICE, "", 8)
        self.set_text_color(*GRIS)
        self.cell(LARGEUR / 2, 6, self.pied)
        self.cell(LARGEUR / 2, 6, f"page {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0)

    def entetes_colonnes(self) -> None:
        self.set_font(POLICE, "B", 8.5)
        self.set_fill_color(235, 235, 235)
        for titre, largeur, alignement in COLONNES:
            self.cell(largeur, 7, titre, align=alignement, fill=True)
        self.ln()

    def coupe(self, largeur: float, texte: str) -> list[str]:
        """`texte` wrapped at spaces to fit `largeur` at the current font, 1 mm kept each side; a
        word wider than that is split, never cut off. Words are measured once each (fpdf2's own
        wrapping measures every character again for each one it adds, a second per long invoice)."""
        utile = largeur - 2
        espace = self.largeur_mot(" ")
        lignes: list[str] = []
        for paragraphe in texte.split("\n"):
            ligne, occupe = "", 0.0
            # Only plain spaces break: the no-break spaces inside amounts ("2,35 €") hold.
            for mot in filter(None, paragraphe.split(" ")):
                mesure = self.largeur_mot(mot)
                if ligne and occupe + espace + mesure <= utile:
                    ligne, occupe = f"{ligne} {mot}", occupe + espace + mesure
                    continue
                if ligne:
                    lignes.append(ligne)
                reste = mot
                while mesure > utile and len(reste) > 1:
                    n = len(reste) - 1
                    while n > 1 and self.get_string_width(reste[:n]) > utile:
                        n -= 1
                    lignes.append(reste[:n])
                    reste = reste[n:]
                    mesure = self.largeur_mot(reste)
                ligne, occupe = reste, mesure
            lignes.append(ligne)
        return lignes

    def largeur_mot(self, mot: str) -> float:
        cle = (mot, self.font_style, self.font_size_pt)
        if cle not in self._mesures:
            self._mesures[cle] = self.get_string_width(mot)
        return self._mesures[cle]

    def hauteur(self, largeur: float, interligne: float, texte: str) -> float:
        return interligne * len(self.coupe(largeur, texte))

    def lignes(
        self, x: float, y: float, largeur: float, interligne: float, texte: str, alignement: str
    ) -> None:
        """`texte` as `coupe` wrapped it, from (x, y) down."""
        for rang, ligne in enumerate(self.coupe(largeur, texte)):
            self.set_xy(x, y + rang * interligne)
            self.cell(largeur, interligne, ligne, align=alignement)

    def bloc(self, paragraphes: list[Paragraphe], avant: float = 4, reserve: float = 0) -> None:
        """Paragraphs kept on one page (with `reserve` mm more that the caller draws after them)."""
        hauteur = avant + reserve
        for p in paragraphes:
            self.set_font(POLICE, "B" if p.gras else "", p.taille)
            hauteur += self.hauteur(LARGEUR - p.retrait, p.interligne, p.texte)
        if self.will_page_break(hauteur):
            self.add_page()
        else:
            self.ln(avant)
        for p in paragraphes:
            self.set_font(POLICE, "B" if p.gras else "", p.taille)
            y = self.get_y()
            if p.retrait:
                self.cell(p.retrait, p.interligne, "•", align="R")
            self.lignes(MARGE + p.retrait, y, LARGEUR - p.retrait, p.interligne, p.texte, "L")
            self.set_xy(MARGE, y + self.hauteur(LARGEUR - p.retrait, p.interligne, p.texte))


@dataclass(frozen=True)
class Paragraphe:
    texte: str
    taille: float = 9
    gras: bool = False
    interligne: float = 4.5
    retrait: float = 0  # a bullet hangs in the indent


def _puce(texte: str) -> Paragraphe:
    return Paragraphe(texte, retrait=5)


def facture_pdf(imprimee: FactureImprimee) -> bytes:
    facture = imprimee.facture
    pdf = _Document(pied=imprimee.titre)
    _entete(pdf, imprimee)
    if facture.avoir or imprimee.corrigees:
        _correction(pdf, imprimee)
    _lignes(pdf, imprimee)
    _totaux(pdf, imprimee)
    if not facture.avoir and imprimee.reste_cents > 0:
        _paiement(pdf, imprimee)
    pdf.bloc([Paragraphe("Voies et délais de recours", gras=True), Paragraphe(RECOURS, 8, interligne=4)])
    return bytes(pdf.output())


def _entete(pdf: _Document, imprimee: FactureImprimee) -> None:
    facture, regie = imprimee.facture, imprimee.regie
    # Left: who issues the invoice. Right: what it is, then the recipient where an envelope's
    # window shows it.
    pdf.set_font(POLICE, "B", 11)
    pdf.multi_cell(95, 5.5, regie.nom if regie else "Régie", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(POLICE, "", 9)
    if regie and regie.adresse:
        pdf.multi_cell(95, 4.5, regie.adresse, align="L", new_x="LMARGIN", new_y="NEXT")
    if regie and regie.siret:
        pdf.cell(95, 4.5, f"SIRET {siret_lisible(regie.siret)}", new_x="LMARGIN", new_y="NEXT")
    bas_gauche = pdf.get_y()

    pdf.set_xy(115, MARGE)
    # The number on one line: the title shrinks for a long prefix rather than wrap.
    for taille in (15, 14, 13, 12, 11):
        pdf.set_font(POLICE, "B", taille)
        if pdf.get_string_width(imprimee.titre) <= 78:
            break
    pdf.multi_cell(80, 7, imprimee.titre, align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_font(POLICE, "", 9.5)
    pdf.multi_cell(80, 5, f"Période : {_periodes(facture)}", align="L", new_x="LEFT", new_y="NEXT")
    pdf.cell(80, 5, f"Émise le {facture.emise_le:%d/%m/%Y}", new_x="LEFT", new_y="NEXT")
    if not facture.avoir:
        pdf.set_font(POLICE, "B", 9.5)
        pdf.cell(80, 5, f"À régler avant le {facture.echeance:%d/%m/%Y}", new_x="LEFT", new_y="NEXT")
    pdf.set_xy(115, max(pdf.get_y() + 6, 48))
    pdf.set_font(POLICE, "", 10)
    for ligne in imprimee.destinataire:
        pdf.multi_cell(80, 5, ligne, align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_xy(MARGE, max(pdf.get_y(), bas_gauche) + 8)


def _periodes(facture: Facture) -> str:
    """The invoice's month, and the months it carries (billed late, being under the threshold)."""
    reportees = sorted({f"{ligne.jour:%Y-%m}" for ligne in facture.lignes} - {facture.periode})
    texte = periode_en_lettres(facture.periode)
    if reportees:
        texte += f" (avec {', '.join(periode_en_lettres(p) for p in reportees)}, reporté)"
    return texte


def _correction(pdf: _Document, imprimee: FactureImprimee) -> None:
    facture = imprimee.facture
    mois = periode_en_lettres(facture.periode)
    citees = ", ".join(f"n° {c.numero} du {c.emise_le:%d/%m/%Y}" for c in imprimee.corrigees)
    if imprimee.corrigees:
        objet = f"{'Avoir sur' if facture.avoir else 'Rectification de'} la facture {citees}."
        motif = (
            f"Motif : régularisation de {mois} après une modification survenue depuis la facturation "
            "(quotient familial, pointage, fermeture de l'accueil…). Les lignes négatives annulent "
            "ce qui avait été facturé ; les autres le remplacent."
        )
    else:
        objet = f"{'Avoir' if facture.avoir else 'Facture complémentaire'} de régularisation de {mois}."
        motif = "Motif : prestations de ce mois qui n'avaient pas été facturées ou l'avaient été à tort."
    pdf.set_fill_color(245, 245, 245)
    pdf.set_font(POLICE, "B", 9.5)
    pdf.multi_cell(0, 5.5, objet, align="L", fill=True, padding=(2, 2, 0, 2), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(POLICE, "", 9)
    pdf.multi_cell(0, 4.5, motif, align="L", fill=True, padding=(0, 2, 2, 2), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)


def _lignes(pdf: _Document, imprimee: FactureImprimee) -> None:
    pdf.dans_tableau = True
    pdf.entetes_colonnes()
    largeurs = [largeur for _, largeur, _ in COLONNES]
    retrait = largeurs[0]
    for ligne in imprimee.facture.lignes:
        cellules = (
            f"{ligne.jour:%d/%m/%Y}",
            imprimee.prenom(ligne),
            f"{ligne.accueil}, {ligne.unite}" + (" (majoration)" if ligne.nature == "majoration" else ""),
            str(ligne.quantite),
            euros(ligne.prix_unitaire_cents),
            euros(ligne.montant_cents),
        )
        pdf.set_font(POLICE, "", 8.5)
        haut = max(pdf.hauteur(w, 4.2, t) for w, t in zip(largeurs, cellules, strict=True)) + 1.5
        pdf.set_font(POLICE, "", 7)
        explication = pdf.hauteur(LARGEUR - retrait, 3.4, ligne.explication) + 2
        # A line and its explanation are read together: never split across two pages.
        if pdf.will_page_break(haut + explication):
            pdf.add_page()
        y = pdf.get_y()
        x = MARGE
        pdf.set_font(POLICE, "", 8.5)
        for (_, largeur, alignement), texte in zip(COLONNES, cellules, strict=True):
            pdf.lignes(x, y + 1, largeur, 4.2, texte, alignement)
            x += largeur
        pdf.set_font(POLICE, "", 7)
        pdf.set_text_color(*GRIS)
        pdf.lignes(MARGE + retrait, y + haut, LARGEUR - retrait, 3.4, ligne.explication, "L")
        pdf.set_text_color(0)
        pdf.set_draw_color(*FILET)
        fin = y + haut + explication
        pdf.line(MARGE, fin, MARGE + LARGEUR, fin)
        pdf.set_xy(MARGE, fin)
    pdf.dans_tableau = False


def _totaux(pdf: _Document, imprimee: FactureImprimee) -> None:
    facture = imprimee.facture
    lignes: list[tuple[str, str, bool]] = []
    if facture.avoir:
        lignes.append(("Montant de l'avoir", euros(facture.montant_cents), True))
    else:
        lignes.append(("Total de la facture", euros(facture.montant_cents), False))
        if facture.montant_cents != imprimee.reste_cents:
            lignes.append(("Déjà réglé", euros(facture.montant_cents - imprimee.reste_cents), False))
        lignes.append(("Reste à payer", euros(imprimee.reste_cents), True))
    apres = []
    if facture.avoir:
        apres.append(
            Paragraphe(
                "Cet avoir est porté au crédit de votre compte famille : il est déduit de vos factures "
                "à payer, les plus anciennes d'abord, ou de votre prochaine facture."
            )
        )
    pdf.bloc([], avant=3, reserve=6.5 * len(lignes) + 8 * len(apres))
    for libelle, montant, gras in lignes:
        pdf.set_font(POLICE, "B" if gras else "", 11 if gras else 10)
        pdf.cell(LARGEUR - 35, 6.5, f"{libelle} :", align="R")
        pdf.cell(35, 6.5, montant, align="R", new_x="LMARGIN", new_y="NEXT")
    if apres:
        pdf.bloc(apres, avant=1)


def _paiement(pdf: _Document, imprimee: FactureImprimee) -> None:
    facture, regie, prelevement = imprimee.facture, imprimee.regie, imprimee.prelevement
    reste = euros(imprimee.reste_cents)
    moyens: list[Paragraphe] = []
    if prelevement is not None:
        compte = f" sur le compte {prelevement.compte}" if prelevement.compte else ""
        moyens.append(
            Paragraphe(
                f"Par prélèvement SEPA : {reste} seront prélevés le {prelevement.le:%d/%m/%Y}{compte}. "
                "Vous n'avez rien à faire ; ne réglez pas cette facture par un autre moyen."
            )
        )
        moyens.append(
            Paragraphe(
                f"Référence unique du mandat (RUM) : {prelevement.rum} ; "
                f"identifiant créancier SEPA (ICS) : {prelevement.ics}."
            )
        )
        if regie and (regie.adresse or regie.horaires):
            moyens.append(Paragraphe(f"Pour toute question : la régie, {_guichet(regie)}."))
    else:
        if regie and regie.payfip_client:
            moyens.append(
                _puce(
                    f"en ligne par carte bancaire sur www.payfip.gouv.fr : identifiant de la collectivité "
                    f"{regie.payfip_client}, référence {facture.numero.replace('-', '')}, montant {reste} ;"
                )
            )
        if regie and regie.ordre_cheques:
            adresse = f", adressé à la régie, {regie.adresse}" if regie.adresse else ""
            moyens.append(
                _puce(
                    f"par chèque à l'ordre de « {regie.ordre_cheques} », le n° de facture "
                    f"{facture.numero} noté au dos{adresse} ;"
                )
            )
        if regie and (regie.adresse or regie.horaires):
            moyens.append(_puce(f"au guichet de la régie, {_guichet(regie)}."))
        invitation = f"Merci de régler {reste} avant le {facture.echeance:%d/%m/%Y}"
        moyens.insert(0, Paragraphe(f"{invitation}, au choix :" if moyens else f"{invitation} à la régie."))
    pdf.bloc([Paragraphe("Comment payer", 10, gras=True, interligne=6), *moyens], avant=5)


def _guichet(regie: Regie) -> str:
    return " — ".join(x for x in (regie.adresse, regie.horaires) if x)


def attestation_pdf(
    annee: int, regie: str, destinataire: list[str], lignes: list[tuple[str, date, int]]
) -> bytes:
    """One line per child under six on 1 January: name, birth date, amount paid for care."""
    pdf = _Document()
    _entete_simple(pdf, f"Attestation de frais de garde {annee}", regie, destinataire, taille=14)
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


def _entete_simple(pdf: FPDF, titre: str, regie: str, destinataire: list[str], taille: int = 15) -> None:
    """A title, the régie and a recipient: the header of the pieces that are not invoices."""
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
    pdf = _Document()
    _entete_simple(pdf, titre, regie, destinataire)
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
    pdf = _Document()
    _entete_simple(pdf, titre, regie, [periode])
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
