"""The invoice PDF on its own: long invoices run over pages, numbered, each line with its
explanation; labels wrap instead of being cut; months in French words; a Regie stored before the
invoice's fields existed still reads."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from uuid import uuid4

import pypdf
import pytest

from portail.application.pdf import FactureImprimee, facture_pdf, periode_en_lettres
from portail.domain.campagne import Facture
from portail.domain.commune import Regie
from portail.domain.erreurs import ErreurValidation
from portail.domain.facturation import LigneFacture
from portail.domain.valeurs import siret
from portail.store.transcodings import ValueObjectAsDict

LIBELLE_LONG = "ACCUEIL DE LOISIRS MUNICIPAL DU CENTRE-VILLE – Mercredis et vacances scolaires (3-11 ans)"


def _pages(contenu: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(contenu)).pages]


def _facture(n: int) -> FactureImprimee:
    famille, enfant, accueil = uuid4(), uuid4(), uuid4()
    lignes = tuple(
        LigneFacture(
            famille_id=famille,
            enfant_id=enfant,
            accueil_id=accueil,
            accueil=LIBELLE_LONG,
            jour=date(2026, 11, 2) + timedelta(days=i % 28),
            unite=f"U{i:02d}",
            nature="prestation",
            quantite=1,
            prix_unitaire_cents=305,
            montant_cents=305,
            # Long enough to take two lines under its row.
            explication=f"explication E{i:02d} : réservé; QF de 600 € à moins de 1000 €; grille du "
            "01/09/2026; résident; QF 742 € (caf, depuis le 01/09/2026); " + "détail " * 12,
        )
        for i in range(n)
    )
    facture = Facture(
        numero="F2026-000042",
        famille_id=famille,
        campagne_id=uuid4(),
        periode="2026-11",
        lignes=lignes,
        montant_cents=305 * n,
        emise_le=date(2026, 12, 1),
        echeance=date(2026, 12, 31),
    )
    return FactureImprimee(facture, None, ("Mme Camille Peje",), 305 * n, {enfant: "Léa"})


def test_une_longue_facture_numerote_ses_pages_et_garde_chaque_explication_avec_sa_ligne() -> None:
    pages = _pages(facture_pdf(_facture(70)))
    total = len(pages)
    assert total >= 3
    for numero, texte in enumerate(pages, start=1):
        assert f"page {numero}/{total}" in texte
        assert "Date Enfant Prestation Qté Prix unitaire Montant" in texte or numero == total
        lignes = set(re.findall(r"U(\d\d) 1 3,05", texte))
        explications = set(re.findall(r"explication E(\d\d)", texte))
        assert lignes == explications
    assert sorted(n for t in pages for n in re.findall(r"explication E(\d\d)", t)) == [
        f"{i:02d}" for i in range(70)
    ]
    assert "Facture n° F2026-000042 (suite)" in pages[1]
    assert "Reste à payer : 213,50 €" in pages[-1].replace("\xa0", " ").replace("\u202f", " ")


def test_les_libelles_longs_passent_a_la_ligne_sans_etre_coupes() -> None:
    texte = _pages(facture_pdf(_facture(1)))[0]
    assert f"Léa {LIBELLE_LONG}, U00" in texte
    assert "Période : novembre 2026" in texte


def test_un_enfant_illisible_s_imprime_enfant() -> None:
    imprimee = _facture(1)
    texte = _pages(facture_pdf(FactureImprimee(imprimee.facture, None, (), 305)))[0]
    assert "Enfant ACCUEIL DE LOISIRS" in texte


def test_mois_en_toutes_lettres() -> None:
    assert [periode_en_lettres(f"2026-{m:02d}") for m in (1, 2, 8, 12)] == [
        "janvier 2026",
        "février 2026",
        "août 2026",
        "décembre 2026",
    ]


def test_une_regie_enregistree_avant_les_champs_de_la_facture_se_relit() -> None:
    ancienne = {"nom": "Régie", "prefixe_factures": "F", "ics": "FR12ZZZ123456", "iban": "FR76", "bic": None}
    regie = ValueObjectAsDict(Regie).decode(ancienne)
    assert regie == Regie("Régie", "F", "FR12ZZZ123456", "FR76", None)
    assert (regie.siret, regie.adresse, regie.horaires, regie.ordre_cheques, regie.payfip_client) == (
        None,
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize("valeur", ["21440109300015", "214 401 093 00015", "73282932000074"])
def test_siret_valide(valeur: str) -> None:
    assert siret(valeur) == valeur.replace(" ", "")


@pytest.mark.parametrize("valeur", ["21440109300016", "2144010930001", "214401093000150", "ABCDEFGHIJKLMN"])
def test_siret_refuse(valeur: str) -> None:
    with pytest.raises(ErreurValidation):
        siret(valeur)
