"""A family's ledger: credit notes, write-offs and amounts owed recorded by hand, and refunds of
its credit."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from portail.domain.encours import Encours, ModeReglement, ModeRemboursement, TypeAjustement
from portail.domain.erreurs import Conflit, ErreurValidation, RegleMetier

LE = date(2025, 12, 2)


def _encours(*montants: int) -> tuple[Encours, list[UUID]]:
    """A ledger with one invoice per amount, due one after the other."""
    encours = Encours(id=uuid4(), famille_id=uuid4())
    factures = []
    for i, montant in enumerate(montants, start=1):
        facture_id = uuid4()
        encours.facture_emise(facture_id, f"F2025-{i:06d}", montant, date(2026, 1, i))
        factures.append(facture_id)
    return encours, factures


def _ajuster(encours: Encours, nature: TypeAjustement, montant: int, facture_id: UUID | None) -> UUID:
    ajustement_id = uuid4()
    encours.ajuster(ajustement_id, nature, montant, facture_id, "N", "motif", LE, LE)
    return ajustement_id


def test_un_avoir_va_d_abord_a_la_facture_qu_il_cite() -> None:
    encours, (ancienne, citee) = _encours(500, 300)
    _ajuster(encours, TypeAjustement.GESTE_COMMERCIAL, 250, citee)
    # Not to the oldest invoice, as a payment would go.
    assert encours.factures[str(citee)].reste_cents == 50
    assert encours.factures[str(ancienne)].reste_cents == 500
    assert encours.solde_cents == 550


def test_avoirs_et_non_valeurs_plafonnes_par_la_facture_citee() -> None:
    encours, (facture,) = _encours(500)
    _ajuster(encours, TypeAjustement.GREVE, 200, facture)
    with pytest.raises(Conflit, match="3,00 €"):
        _ajuster(encours, TypeAjustement.GESTE_COMMERCIAL, 301, facture)
    with pytest.raises(Conflit, match="3,00 €"):
        _ajuster(encours, TypeAjustement.ADMISSION_EN_NON_VALEUR, 301, facture)
    _ajuster(encours, TypeAjustement.ADMISSION_EN_NON_VALEUR, 300, facture)
    assert (encours.factures[str(facture)].reste_cents, encours.credit_cents, encours.solde_cents) == (
        0,
        0,
        0,
    )
    # Billed 5,00 €, credited 2,00 € and written off 3,00 €: no room for another credit note.
    with pytest.raises(Conflit):
        _ajuster(encours, TypeAjustement.GESTE_COMMERCIAL, 1, facture)


def test_un_credit_cite_une_facture_qui_a_quelque_chose_a_payer() -> None:
    encours, _ = _encours(500)
    with pytest.raises(ErreurValidation):
        _ajuster(encours, TypeAjustement.GREVE, 100, None)
    avoir = uuid4()
    encours.facture_emise(avoir, "F2025-000009", -100, LE)
    with pytest.raises(RegleMetier):
        _ajuster(encours, TypeAjustement.GREVE, 100, avoir)
    with pytest.raises(ErreurValidation):
        _ajuster(encours, TypeAjustement.GREVE, 0, avoir)


def test_un_ajustement_positif_se_regle_comme_une_facture() -> None:
    encours, _ = _encours()
    encours.recevoir(uuid4(), 300, ModeReglement.CHEQUE, None, LE)
    ajustement = _ajuster(encours, TypeAjustement.AJUSTEMENT_POSITIF, 1000, None)
    # The credit already there goes to it at once.
    assert encours.factures[str(ajustement)].reste_cents == 700
    assert (encours.credit_cents, encours.solde_cents) == (0, 700)


def test_un_rejet_ne_rouvre_pas_ce_qui_a_ete_admis_en_non_valeur() -> None:
    encours, (facture,) = _encours(500)
    prelevement = uuid4()
    encours.recevoir(prelevement, 200, ModeReglement.PRELEVEMENT, None, LE)
    _ajuster(encours, TypeAjustement.ADMISSION_EN_NON_VALEUR, 300, facture)
    assert encours.solde_cents == 0
    encours.rejeter_prelevement(prelevement, "AM04")
    # Only the 2,00 € the debit paid come back.
    assert encours.factures[str(facture)].reste_cents == 200
    assert encours.solde_cents == 200


def test_remboursement_dans_la_limite_du_credit() -> None:
    encours, _ = _encours(500)
    encours.recevoir(uuid4(), 800, ModeReglement.CHEQUE, None, LE)
    with pytest.raises(Conflit, match=r"\(3,01 €\) dépasse le crédit de la famille \(3,00 €\)"):
        encours.rembourser(uuid4(), 301, ModeRemboursement.VIREMENT, None, LE)
    assert len(encours.pending_events) == 4  # opened, invoice due, payment, allocation: nothing more
    remboursement = uuid4()
    encours.rembourser(remboursement, 300, ModeRemboursement.VIREMENT, "VIR 1", LE)
    encours.rembourser(remboursement, 300, ModeRemboursement.VIREMENT, "VIR 1", LE)  # recorded once
    assert (encours.credit_cents, encours.solde_cents) == (0, 0)
    assert isinstance(encours.pending_events[-1], Encours.Rembourse)
    assert len(encours.pending_events) == 5


def test_le_journal_rejoue_donne_le_meme_etat() -> None:
    encours, (facture,) = _encours(500)
    _ajuster(encours, TypeAjustement.GREVE, 100, facture)
    _ajuster(encours, TypeAjustement.ADMISSION_EN_NON_VALEUR, 100, facture)
    _ajuster(encours, TypeAjustement.AJUSTEMENT_POSITIF, 250, None)
    encours.recevoir(uuid4(), 1000, ModeReglement.CHEQUE, None, LE)
    encours.rembourser(uuid4(), 350, ModeRemboursement.CHEQUE, None, LE)
    rejoue = None
    for evenement in encours.collect_events():
        rejoue = evenement.mutate(rejoue)
    assert isinstance(rejoue, Encours)
    assert {k: f.reste_cents for k, f in rejoue.factures.items()} == {
        k: f.reste_cents for k, f in encours.factures.items()
    }
    assert (
        (rejoue.credit_cents, rejoue.solde_cents)
        == (encours.credit_cents, encours.solde_cents)
        == (100, -100)
    )
