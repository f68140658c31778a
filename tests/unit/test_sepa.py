"""SEPA rules that need no database: the TARGET2 calendar, the creditor identifier (ICS), the
collection date of a debit, and FRST or RCUR from a family ledger's history."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from portail.domain.encours import Encours, ModeReglement
from portail.domain.erreurs import Conflit, ErreurValidation, RegleMetier
from portail.domain.regles.target2 import (
    est_ouvre,
    jour_ouvre_suivant,
    jours_feries,
    paques,
    prochain_jour_ouvre,
)
from portail.domain.sepa import Sequence, date_de_prelevement, ics

# TARGET2 calendar


@pytest.mark.parametrize(
    ("annee", "dimanche"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),  # the latest possible date
        (2285, date(2285, 3, 22)),  # the earliest possible date
    ],
)
def test_paques(annee: int, dimanche: date) -> None:
    assert paques(annee) == dimanche


def test_jours_fermes_2026_et_2027() -> None:
    assert sorted(jours_feries(2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 12, 25),
        date(2026, 12, 26),
    ]
    assert sorted(jours_feries(2027)) == [
        date(2027, 1, 1),
        date(2027, 3, 26),
        date(2027, 3, 29),
        date(2027, 5, 1),
        date(2027, 12, 25),
        date(2027, 12, 26),
    ]


def test_ouvert_en_semaine_hors_jours_fermes() -> None:
    assert est_ouvre(date(2026, 4, 2))  # Thursday before Easter
    assert not est_ouvre(date(2026, 4, 3))
    assert not est_ouvre(date(2026, 4, 4))  # Saturday
    assert not est_ouvre(date(2026, 4, 5))  # Easter Sunday
    assert not est_ouvre(date(2026, 4, 6))
    assert est_ouvre(date(2026, 4, 7))
    # French public holidays that are not TARGET2 closing days: the system is open.
    assert est_ouvre(date(2026, 5, 8))
    assert est_ouvre(date(2026, 7, 14))
    assert est_ouvre(date(2026, 5, 14))  # Ascension


def test_prochain_jour_ouvre_et_jour_ouvre_suivant() -> None:
    # On or after: an open day is itself; Good Friday 2026 jumps the whole Easter weekend.
    assert prochain_jour_ouvre(date(2026, 4, 2)) == date(2026, 4, 2)
    assert prochain_jour_ouvre(date(2026, 4, 3)) == date(2026, 4, 7)
    # Strictly after.
    assert jour_ouvre_suivant(date(2026, 4, 2)) == date(2026, 4, 7)
    assert jour_ouvre_suivant(date(2026, 4, 7)) == date(2026, 4, 8)
    # Christmas on a Friday and Boxing Day on a Saturday (2026), New Year on a Friday (2027).
    assert prochain_jour_ouvre(date(2026, 12, 24)) == date(2026, 12, 24)
    assert jour_ouvre_suivant(date(2026, 12, 24)) == date(2026, 12, 28)
    assert jour_ouvre_suivant(date(2026, 12, 31)) == date(2027, 1, 4)
    # 1 May 2027 is a Saturday: no shift to another day.
    assert prochain_jour_ouvre(date(2027, 4, 30)) == date(2027, 4, 30)


def test_ferme_samedi_dimanche_toute_l_annee() -> None:
    jour = date(2026, 1, 1)
    while jour.year == 2026:
        if jour.isoweekday() >= 6:
            assert not est_ouvre(jour)
        jour += timedelta(days=1)


# Creditor identifier (ICS)


def cle_ics(pays: str, national: str) -> str:
    """Check digits computed independently of the validator: 98 − (number mod 97), with the
    country and "00" after the national identifier, letters as 10 to 35."""
    nombre = "".join(str(int(c, 36)) for c in national + pays + "00")
    return f"{98 - int(nombre) % 97:02d}"


def test_cle_calculee() -> None:
    # 123456 F(15) R(27) 00 → 123456152700 mod 97 = 26 → 98 − 26 = 72.
    assert cle_ics("FR", "123456") == "72"


@pytest.mark.parametrize(
    "valeur",
    [
        "FR72ZZZ123456",
        "fr72 zzz 123456",
        f"FR{cle_ics('FR', '4B7C9D')}ABC4B7C9D",  # another business code, letters in the national id
        f"DE{cle_ics('DE', '00000123456')}ZZZ00000123456",
    ],
)
def test_ics_valide(valeur: str) -> None:
    assert ics(valeur) == "".join(valeur.split()).upper()


@pytest.mark.parametrize(
    ("valeur", "message"),
    [
        ("FR00ZZZ000000", "la clé de l'ICS ne correspond pas (contrôle modulo 97)"),
        ("FR12ZZZ123456", "la clé de l'ICS ne correspond pas (contrôle modulo 97)"),
        # The business code is not part of the check, but a wrong national id is.
        ("FR72ZZZ123465", "la clé de l'ICS ne correspond pas (contrôle modulo 97)"),
        ("FR72ZZZ1234567", "l'identifiant national d'un ICS FR a 6 caractères"),
        ("F172ZZZ123456", None),
        ("FRXXZZZ123456", None),
        ("FR72ZZ", None),
        ("FR72ZZZ12345-", None),
        ("", None),
    ],
)
def test_ics_refuse(valeur: str, message: str | None) -> None:
    with pytest.raises(ErreurValidation) as erreur:
        ics(valeur)
    texte = erreur.value.erreurs[0].message
    assert texte == message if message else texte.startswith("l'ICS s'écrit pays (2 lettres)")


def test_le_code_activite_n_entre_pas_dans_la_cle() -> None:
    assert ics("FR72ABC123456") == "FR72ABC123456"


# Collection date


def test_date_demandee_verifiee() -> None:
    jeudi = date(2026, 4, 2)
    # The first business day after Thursday 2 April 2026 is Tuesday 7 April.
    assert date_de_prelevement(jeudi, date(2026, 4, 7), date(2026, 5, 4)) == date(2026, 4, 7)
    with pytest.raises(ErreurValidation) as trop_tot:
        date_de_prelevement(jeudi, date(2026, 4, 2), date(2026, 5, 4))
    assert trop_tot.value.erreurs[0].champ == "date"
    assert "au plus tôt le 07/04/2026" in trop_tot.value.erreurs[0].message
    with pytest.raises(ErreurValidation) as ferme:
        date_de_prelevement(jeudi, date(2026, 5, 1), date(2026, 5, 4))
    assert ferme.value.erreurs[0].champ == "date"
    assert ferme.value.erreurs[0].message.startswith("le 01/05/2026 n'est pas un jour ouvré TARGET2")
    assert ferme.value.erreurs[0].message.endswith("le suivant est le 04/05/2026")


def test_date_par_defaut_l_echeance_ouvree_jamais_trop_tot() -> None:
    # A due date on 1 May moves to Monday 4 May 2026.
    assert date_de_prelevement(date(2026, 4, 10), None, date(2026, 5, 1)) == date(2026, 5, 4)
    # A due date already past: the first business day after today.
    assert date_de_prelevement(date(2026, 4, 2), None, date(2026, 3, 1)) == date(2026, 4, 7)
    # A due date that is today: still too late, tomorrow at the earliest.
    assert date_de_prelevement(date(2026, 6, 1), None, date(2026, 6, 1)) == date(2026, 6, 2)


# Sequence type and re-presentation, from the ledger's events

RUM_1 = "PF-0000000000000001-001"
RUM_2 = "PF-0000000000000001-002"
LE = date(2026, 3, 2)


def _encours_avec_facture(montant: int = 3000) -> tuple[Encours, UUID]:
    encours = Encours(id=uuid4(), famille_id=uuid4())
    facture_id = uuid4()
    encours.facture_emise(facture_id, "F2026-000001", montant, date(2026, 3, 2))
    return encours, facture_id


def _preleve(encours: Encours, montant: int, rum: str) -> UUID:
    reglement_id = uuid4()
    encours.recevoir(reglement_id, montant, ModeReglement.PRELEVEMENT, None, LE, rum)
    return reglement_id


def test_frst_puis_rcur_sur_un_mandat() -> None:
    encours, _ = _encours_avec_facture()
    assert encours.sequence(RUM_1) is Sequence.FRST
    _preleve(encours, 1000, RUM_1)
    assert encours.sequence(RUM_1) is Sequence.RCUR
    # A new mandate (new RUM) starts again with FRST.
    assert encours.sequence(RUM_2) is Sequence.FRST


def test_apres_un_frst_rejete_frst_apres_un_rcur_rejete_rcur() -> None:
    encours, _ = _encours_avec_facture()
    premier = _preleve(encours, 1000, RUM_1)
    encours.rejeter_prelevement(premier, "AM04")
    assert encours.sequence(RUM_1) is Sequence.FRST
    _preleve(encours, 1000, RUM_1)
    second = _preleve(encours, 1000, RUM_1)
    encours.rejeter_prelevement(second, "AM04")
    assert encours.sequence(RUM_1) is Sequence.RCUR


def test_un_cheque_ne_compte_pas_pour_le_mandat() -> None:
    encours, _ = _encours_avec_facture()
    encours.recevoir(uuid4(), 1000, ModeReglement.CHEQUE, "CHQ 1", LE, RUM_1)
    assert encours.sequence(RUM_1) is Sequence.FRST
    assert encours.mandats == {}


def test_representation_une_seule_fois_de_ce_qui_reste_du() -> None:
    encours, facture_id = _encours_avec_facture(3000)
    reglement = _preleve(encours, 3000, RUM_1)
    with pytest.raises(RegleMetier, match="Seul un prélèvement rejeté"):
        encours.representer(reglement, date(2026, 4, 7))
    encours.rejeter_prelevement(reglement, "AM04")
    # Part paid by cheque since the rejection: only the rest is presented again.
    encours.recevoir(uuid4(), 1000, ModeReglement.CHEQUE, None, LE)
    representation = encours.representer(reglement, date(2026, 4, 7))
    assert representation.preleve_le == date(2026, 4, 7)
    assert encours.a_representer(representation) == 2000
    assert encours.representee(facture_id)
    with pytest.raises(Conflit, match="déjà été représenté"):
        encours.representer(reglement, date(2026, 4, 8))
    with pytest.raises(RegleMetier, match="Règlement inconnu"):
        encours.representer(uuid4(), date(2026, 4, 7))


def test_rien_a_representer_une_fois_regle() -> None:
    encours, _ = _encours_avec_facture(3000)
    reglement = _preleve(encours, 3000, RUM_1)
    encours.rejeter_prelevement(reglement, "AM04")
    encours.recevoir(uuid4(), 3000, ModeReglement.CHEQUE, None, LE)
    with pytest.raises(RegleMetier, match="Rien à représenter"):
        encours.representer(reglement, date(2026, 4, 7))
    assert encours.representations == {}


# Settings stored before the pre-notification delay existed


def test_une_regie_enregistree_sans_delai_se_relit_avec_14_jours() -> None:
    from portail.domain.commune import Parametres, Regie
    from portail.store import format_evenements as fmt
    from portail.store.transcodings import ValueObjectAsDict

    ancienne = {"nom": "Régie", "prefixe_factures": "F", "ics": "FR72ZZZ123456", "iban": "FR76", "bic": None}
    etat = fmt.decoder_etat(
        Parametres.Modifies,
        fmt.encoder(
            {
                "commune": {"nom": "Nantes", "code_postal": "44000"},
                "regie": ancienne,
                "seuil_facturation_cents": 0,
                "timestamp": "2025-01-01T00:00:00+00:00",
            }
        ),
        lambda _champ, _enveloppe: None,
    )
    assert etat["regie"] == Regie("Régie", "F", "FR72ZZZ123456", "FR76", None, 14)
    # Rows of the older JSON format.
    assert ValueObjectAsDict(Regie).decode(ancienne).delai_prenotification_jours == 14
