"""Regenerate docs/facture-exemple.png: an invoice made of fixed, invented data, rendered by the
portal's own code (`portail.application.pdf`), its first page turned into a PNG by `pdftoppm`
(Debian package poppler-utils).

    .venv/bin/python scripts/facture_exemple.py            # docs/facture-exemple.png
    .venv/bin/python scripts/facture_exemple.py --pdf x.pdf --png x.png
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from uuid import UUID

from portail.application.pdf import FactureImprimee, facture_pdf
from portail.domain.campagne import Facture
from portail.domain.commune import Regie
from portail.domain.facturation import LigneFacture
from portail.generation import PARAMETRES_REGIE

RACINE = Path(__file__).resolve().parents[1]
FAMILLE = UUID("00000000-0000-4000-8000-000000000001")
LEA = UUID("00000000-0000-4000-8000-000000000002")
HUGO = UUID("00000000-0000-4000-8000-000000000003")
PERISCOLAIRE = UUID("00000000-0000-4000-8000-000000000004")
MERCREDIS = UUID("00000000-0000-4000-8000-000000000005")
QF = "grille du 01/09/2026; résident; QF 742 € (caf, depuis le 01/09/2026)"
# The régie `portail demo` sets up.
REGIE = Regie(bic=None, **PARAMETRES_REGIE)


def _ligne(
    enfant: UUID, jour: date, unite: str, libelle: str, prix: int, regle: str, tarif: str, quantite: int = 1
) -> LigneFacture:
    accueil = "PERISCOLAIRE – Garderie et Restauration"
    accueil_id = PERISCOLAIRE
    if unite == "JOURNEE":
        accueil, accueil_id = "ACCUEIL DE LOISIRS – Mercredis", MERCREDIS
    return LigneFacture(
        famille_id=FAMILLE,
        enfant_id=enfant,
        accueil_id=accueil_id,
        accueil=accueil,
        jour=jour,
        unite=unite,
        nature="prestation",
        quantite=quantite,
        prix_unitaire_cents=prix,
        montant_cents=quantite * prix,
        explication=f"{jour:%d/%m/%Y} {libelle} : {regle}; {tarif}; {QF}",
    )


def facture_exemple() -> FactureImprimee:
    midi = "QF de 640 € à moins de 860 €"
    soir = "taux d'effort 0.36 % × QF 742 €"
    lignes = [
        _ligne(LEA, date(2026, 11, 3), "MIDI", "Restauration", 235, "réservé", midi),
        _ligne(LEA, date(2026, 11, 3), "SOIR", "Accueil du soir", 267, "présent", soir),
        _ligne(LEA, date(2026, 11, 5), "MIDI", "Restauration", 0, "absence justifiée, non facturée", midi),
        _ligne(LEA, date(2026, 11, 6), "MIDI", "Restauration", 235, "annulation hors délai, facturée", midi),
        _ligne(HUGO, date(2026, 11, 2), "MIDI", "Restauration", 120, "réservé", f"{midi}, tarif PAI"),
        _ligne(
            HUGO,
            date(2026, 11, 4),
            "JOURNEE",
            "Journée avec repas",
            1050,
            "présent",
            "QF de 700 € à moins de 1000 €",
        ),
        _ligne(
            HUGO,
            date(2026, 11, 5),
            "SOIR",
            "Accueil du soir",
            600,
            "présence non réservée : 6,00 €",
            soir,
        ),
    ]
    facture = Facture(
        numero="PF2026-000123",
        famille_id=FAMILLE,
        campagne_id=UUID("00000000-0000-4000-8000-000000000006"),
        periode="2026-11",
        lignes=tuple(lignes),
        montant_cents=sum(ligne.montant_cents for ligne in lignes),
        emise_le=date(2026, 12, 1),
        echeance=date(2026, 12, 31),
    )
    return FactureImprimee(
        facture=facture,
        regie=REGIE,
        destinataire=("Mme Camille Peje", "12 rue de la Mairie", "44000 Nantes"),
        reste_cents=facture.montant_cents,
        prenoms={LEA: "Léa", HUGO: "Hugo"},
    )


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--pdf", type=Path, help="also keep the PDF here")
    arguments.add_argument("--png", type=Path, default=RACINE / "docs" / "facture-exemple.png")
    options = arguments.parse_args()
    if shutil.which("pdftoppm") is None:
        sys.exit("pdftoppm est introuvable : installez poppler-utils (apt-get install poppler-utils).")
    contenu = facture_pdf(facture_exemple())
    with tempfile.TemporaryDirectory() as dossier:
        pdf = options.pdf or Path(dossier) / "facture-exemple.pdf"
        pdf.write_bytes(contenu)
        sortie = Path(dossier) / "page"
        subprocess.run(  # noqa: S603 - a fixed program, our own files
            ["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(sortie)],  # noqa: S607
            check=True,
        )
        shutil.copyfile(sortie.with_suffix(".png"), options.png)
    print(f"{options.png} ({options.png.stat().st_size // 1024} Ko)")  # noqa: T201


if __name__ == "__main__":
    main()
