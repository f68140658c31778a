"""Properties of the value objects and of the effective-dated quotient familial."""

from __future__ import annotations

import string
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from portail.domain.erreurs import ErreurValidation
from portail.domain.famille import Famille
from portail.domain.personnes import Responsable
from portail.domain.quotient import (
    QF_MAXIMUM,
    QuotientFamilial,
    avec_quotient,
    quotient_au,
)
from portail.domain.valeurs import (
    Adresse,
    Civilite,
    Iban,
    SourceQuotient,
    age_en_mois,
    date_naissance,
    email,
    telephone,
)

JOURS = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))

# E-mail


@given(st.emails())
def test_toute_adresse_rfc_est_acceptee_en_minuscules(adresse):
    assert email(adresse) == adresse.lower()


@given(st.emails(), st.data())
def test_email_ignore_la_casse_et_les_espaces_autour(adresse, data):
    casse = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in adresse)
    bord = data.draw(st.sampled_from(["", " ", "\t", "  \n"]))
    assert email(bord + casse + bord) == email(adresse)


@given(
    st.one_of(
        st.emails(),
        st.text(alphabet=string.ascii_letters + string.digits + "@.-_+ ", max_size=40),
        st.text(max_size=30),
    )
)
def test_email_accepte_se_retrouve_a_l_identique(saisie):
    refus: list[str] = []
    try:
        normalise = email(saisie)
    except ErreurValidation as erreur:
        refus = [e.message for e in erreur.erreurs]
    if refus:
        assert refus in (["l'adresse e-mail est obligatoire"], ["l'adresse e-mail n'est pas valide"])
        return
    assert email(normalise) == normalise
    assert normalise == normalise.strip().lower()
    assert normalise.count("@") == 1


# Téléphone

SEPARATEURS = st.sampled_from(["", " ", ".", "-"])


@st.composite
def telephones_francais(draw):
    chiffres = "0" + draw(st.sampled_from("123456789")) + draw(st.text("0123456789", min_size=8, max_size=8))
    sep = draw(SEPARATEURS)
    paires = [chiffres[i : i + 2] for i in range(0, 10, 2)]
    prefixe = draw(st.sampled_from(["national", "+33", "0033"]))
    if prefixe == "national":
        saisie = sep.join(paires)
    else:
        saisie = prefixe + sep + chiffres[1] + sep + sep.join(paires[1:])
    return saisie, chiffres


@given(telephones_francais())
def test_telephone_francais_est_stocke_en_forme_nationale(cas):
    saisie, chiffres = cas
    assert telephone(saisie) == chiffres
    assert telephone(f"  {saisie} ") == chiffres


@given(
    st.one_of(
        telephones_francais().map(lambda cas: cas[0]),
        st.text(alphabet="+0123456789 .-()", max_size=20),
        st.from_regex(r"\+[1-9][0-9 ]{7,18}", fullmatch=True),
    )
)
def test_normalisation_du_telephone_est_idempotente(saisie):
    try:
        normalise = telephone(saisie)
    except ErreurValidation:
        return
    assert telephone(normalise) == normalise
    assert normalise[0] in "+0"
    assert normalise.lstrip("+").isascii() and normalise.lstrip("+").isdigit()
    assert 8 <= len(normalise.lstrip("+")) <= 15


# IBAN


def _numerique(texte: str) -> int:
    return int("".join(str(int(c, 36)) for c in texte))


def cle_iban(pays: str, bban: str) -> str:
    """ISO 7064 MOD 97-10 check digits, computed independently of schwifty."""
    return f"{98 - _numerique(bban + pays + '00') % 97:02d}"


def cle_rib(banque: str, guichet: str, compte: str) -> str:
    return f"{97 - (89 * int(banque) + 15 * int(guichet) + 3 * int(compte)) % 97:02d}"


@st.composite
def ibans_francais(draw):
    banque = draw(st.text("0123456789", min_size=5, max_size=5))
    guichet = draw(st.text("0123456789", min_size=5, max_size=5))
    compte = draw(st.text("0123456789", min_size=11, max_size=11))
    bban = banque + guichet + compte + cle_rib(banque, guichet, compte)
    return "FR" + cle_iban("FR", bban) + bban


def test_cle_iban_calculee_sur_un_exemple_connu():
    assert cle_iban("FR", "30006000011234567890189") == "76"
    assert cle_rib("30006", "00001", "12345678901") == "89"


@settings(deadline=None)
@given(ibans_francais())
def test_iban_francais_valide_est_accepte(iban):
    cree = Iban.creer(iban)
    assert cree.valeur == iban
    assert cree.masque == f"{iban[:4]} **** **** {iban[-4:]}"
    groupes = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    assert Iban.creer(groupes.lower()).valeur == iban


@settings(deadline=None)
@given(ibans_francais(), st.integers(min_value=2, max_value=26), st.integers(min_value=1, max_value=9))
def test_iban_avec_un_chiffre_altere_est_refuse(iban, position, decalage):
    chiffre = (int(iban[position]) + decalage) % 10
    altere = iban[:position] + str(chiffre) + iban[position + 1 :]
    assert altere != iban
    with pytest.raises(ErreurValidation) as erreur:
        Iban.creer(altere)
    assert [e.message for e in erreur.value.erreurs] == ["l'IBAN n'est pas valide"]


# Quotient familial


@given(st.integers(min_value=-(10**9), max_value=10**9), JOURS, st.sampled_from(SourceQuotient))
def test_quotient_accepte_exactement_0_a_100000(valeur, jour, source):
    if 0 <= valeur <= QF_MAXIMUM:
        q = QuotientFamilial.creer(valeur, jour, source)
        assert (q.valeur, q.valable_du, q.source) == (valeur, jour, source)
    else:
        with pytest.raises(ErreurValidation):
            QuotientFamilial.creer(valeur, jour, source)


QUOTIENTS = st.builds(
    QuotientFamilial.creer,
    st.integers(min_value=0, max_value=QF_MAXIMUM),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2024, 12, 31)),
    st.sampled_from(SourceQuotient),
)
JOURS_QF = st.dates(min_value=date(2019, 6, 1), max_value=date(2025, 6, 30))


def oracle_quotient(par_date: dict[date, QuotientFamilial], jour: date) -> QuotientFamilial | None:
    """Walk back one day at a time until a QF takes effect."""
    while jour >= date(2020, 1, 1):
        if jour in par_date:
            return par_date[jour]
        jour -= timedelta(days=1)
    return None


@given(st.lists(QUOTIENTS, unique_by=lambda q: q.valable_du, max_size=12), JOURS_QF)
def test_quotient_au_prend_la_derniere_date_d_effet(historique, jour):
    attendu = oracle_quotient({q.valable_du: q for q in historique}, jour)
    assert quotient_au(historique, jour) == attendu


@given(st.lists(QUOTIENTS, max_size=12), st.lists(JOURS_QF, min_size=1, max_size=5))
def test_famille_retient_le_dernier_quotient_saisi_pour_chaque_date(saisies, jours):
    famille = Famille(
        responsable=Responsable(Civilite.M, "Martin", "Paul"),
        adresse=Adresse.creer("1 rue", "44000", "Nantes"),
    )
    par_date: dict[date, QuotientFamilial] = {}
    historique: list[QuotientFamilial] = []
    for q in saisies:
        famille.enregistrer_quotient(q)
        par_date[q.valable_du] = q
        historique = avec_quotient(historique, q)
    assert famille.quotients == historique
    assert [q.valable_du for q in famille.quotients] == sorted(par_date)
    for jour in jours:
        assert famille.quotient_au(jour) == oracle_quotient(par_date, jour)


# Âge et date de naissance


@given(JOURS, JOURS, JOURS)
def test_age_en_mois_croit_avec_le_jour(naissance, jour1, jour2):
    avant, apres = sorted((jour1, jour2))
    assert age_en_mois(naissance, avant) <= age_en_mois(naissance, apres)


@given(JOURS, JOURS.filter(lambda d: d < date(2040, 12, 31)))
def test_age_en_mois_gagne_au_plus_un_mois_par_jour(naissance, jour):
    ecart = age_en_mois(naissance, jour + timedelta(days=1)) - age_en_mois(naissance, jour)
    assert ecart in (0, 1)


@given(JOURS, st.integers(min_value=1, max_value=20_000), st.integers(0, 5), st.integers(5, 130))
def test_date_naissance_refuse_toute_date_future(aujourd_hui, jours_plus_tard, age_min, age_max):
    futur = aujourd_hui + timedelta(days=jours_plus_tard)
    with pytest.raises(ErreurValidation) as erreur:
        date_naissance(futur, aujourd_hui=aujourd_hui, age_min=age_min, age_max=age_max)
    assert [e.message for e in erreur.value.erreurs] == [
        "la date de naissance ne peut pas être dans le futur"
    ]


@given(JOURS, st.integers(min_value=0, max_value=40_000))
def test_date_naissance_passee_respecte_les_bornes_d_age(aujourd_hui, jours_avant):
    naissance = aujourd_hui - timedelta(days=jours_avant)
    assume(naissance.year > 1)
    # Age in completed years, computed the usual way (birthday reached this year or not).
    anniversaire_passe = (aujourd_hui.month, aujourd_hui.day) >= (naissance.month, naissance.day)
    age = aujourd_hui.year - naissance.year - (0 if anniversaire_passe else 1)
    if 3 <= age <= 17:
        assert date_naissance(naissance, aujourd_hui=aujourd_hui, age_min=3, age_max=17) == naissance
    else:
        with pytest.raises(ErreurValidation):
            date_naissance(naissance, aujourd_hui=aujourd_hui, age_min=3, age_max=17)
