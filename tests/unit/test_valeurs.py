"""Value objects of the family file: what is accepted, how it is stored, what people are told."""

from __future__ import annotations

from datetime import date

import pytest

from portail.domain.erreurs import ErreurValidation
from portail.domain.valeurs import (
    Adresse,
    Classe,
    Iban,
    Niveau,
    age_en_annees,
    age_en_mois,
    age_libelle,
    bic,
    code_postal,
    date_naissance,
    email,
    nom_personne,
    telephone,
    texte,
)

AUJOURD_HUI = date(2025, 3, 10)


def messages(erreur: pytest.ExceptionInfo[ErreurValidation]) -> list[str]:
    return [e.message for e in erreur.value.erreurs]


# E-mail


@pytest.mark.parametrize(
    ("saisie", "attendu"),
    [
        ("jean.dupont@example.fr", "jean.dupont@example.fr"),
        ("  Jean.Dupont@Example.FR \n", "jean.dupont@example.fr"),
        ("MARIE+cantine@Mairie-Ville.gouv.fr", "marie+cantine@mairie-ville.gouv.fr"),
        ("o'neil@sub.domaine.com", "o'neil@sub.domaine.com"),
    ],
)
def test_email_est_normalise_en_minuscules_sans_espaces(saisie, attendu):
    assert email(saisie) == attendu


@pytest.mark.parametrize("saisie", ["", "   ", "\t"])
def test_email_vide_est_refuse_comme_obligatoire(saisie):
    with pytest.raises(ErreurValidation) as erreur:
        email(saisie)
    assert messages(erreur) == ["l'adresse e-mail est obligatoire"]


@pytest.mark.parametrize(
    "saisie",
    [
        "jean.dupont",  # no @
        "jean@",  # no domain
        "@example.fr",  # no local part
        "jean@example",  # domain without a dot
        "jean@-example.fr",  # label starting with a hyphen
        "jean@example-.fr",  # label ending with a hyphen
        "jean dupont@example.fr",  # inner space
        "jean@@example.fr",
        "jérôme@example.fr",  # non-ASCII local part
        "jean@exa_mple.fr",
        "a" * 65 + "@example.fr",  # local part over 64 characters
        "a@" + ".".join(["b" * 60] * 5) + ".fr",  # over 254 characters
    ],
)
def test_email_mal_forme_est_refuse_avec_un_message_francais(saisie):
    with pytest.raises(ErreurValidation) as erreur:
        email(saisie)
    assert messages(erreur) == ["l'adresse e-mail n'est pas valide"]
    assert "l'adresse e-mail n'est pas valide" in erreur.value.detail


def test_email_local_de_64_caracteres_est_accepte():
    adresse = "a" * 64 + "@example.fr"
    assert email(adresse) == adresse


# Téléphone


@pytest.mark.parametrize(
    ("saisie", "attendu"),
    [
        ("0612345678", "0612345678"),
        ("06 12 34 56 78", "0612345678"),
        ("06.12.34.56.78", "0612345678"),
        ("06-12-34-56-78", "0612345678"),
        ("(01) 23 45 67 89", "0123456789"),
        (" 01 23 45 67 89 ", "0123456789"),
        ("+33 6 12 34 56 78", "0612345678"),
        ("+33612345678", "0612345678"),
        ("0033 6 12 34 56 78", "0612345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+32 2 123 45 67", "+3221234567"),
        ("+1 (202) 555-0143", "+12025550143"),
    ],
)
def test_telephone_normalise_forme_nationale_ou_internationale(saisie, attendu):
    assert telephone(saisie) == attendu


@pytest.mark.parametrize(
    "saisie",
    [
        "",
        "061234567",  # 9 digits
        "06123456789",  # 11 digits
        "0012345678",  # 0 then 0
        "6123456789",  # missing leading 0
        "06 12 34 AB 78",
        "+1234567",  # 7 digits only
        "+0612345678",  # country code cannot start with 0
        "+1234567890123456",  # 16 digits
    ],
)
def test_telephone_invalide_est_refuse_avec_un_exemple(saisie):
    with pytest.raises(ErreurValidation) as erreur:
        telephone(saisie)
    assert messages(erreur) == ["le numéro de téléphone n'est pas valide (ex. 06 12 34 56 78)"]


@pytest.mark.parametrize(
    "saisie",
    [
        "+33 0 6 12 34 56 78",  # national 0 kept after +33 → 11 digits
        "+33 6 12 34 56 7",  # too short
        "+33 0 12 34 56 78",  # +33 followed by 0
        "0033 6 12 34 56 789",
    ],
)
def test_telephone_plus_33_invalide_est_refuse(saisie):
    with pytest.raises(ErreurValidation) as erreur:
        telephone(saisie)
    assert messages(erreur) == ["le numéro de téléphone n'est pas valide"]


def test_telephone_refuse_les_chiffres_non_ascii():
    # Arabic-Indic digits after "06": accepted today and stored as "06١٢٣٤٥٦٧٨".
    with pytest.raises(ErreurValidation):
        telephone("06١٢٣٤٥٦٧٨")


# Noms


@pytest.mark.parametrize(
    "saisie",
    [
        "Dupont",
        "Éloïse",
        "Jean-Pierre",
        "O'Neil",
        "D’Artagnan",
        "N'Guessan",
        "de La Fontaine",
        "Müller-Lüdenscheidt",
        "Çelik",
        "Zoë",
    ],
)
def test_nom_personne_accepte_accents_tirets_apostrophes(saisie):
    assert nom_personne(saisie) == saisie


def test_nom_personne_est_nettoye_et_recompose():
    # "Éloïse" typed with combining accents (NFD) is stored in its composed form.
    decompose = "  E\u0301loi\u0308se "
    assert nom_personne(decompose) == "Éloïse"


@pytest.mark.parametrize("saisie", ["", "   ", "\t\n"])
def test_nom_personne_vide_est_refuse(saisie):
    with pytest.raises(ErreurValidation) as erreur:
        nom_personne(saisie)
    assert messages(erreur) == ["ne doit pas être vide"]


@pytest.mark.parametrize("saisie", ["Enfant 1", "Jumeau 2", "Louis XIV 2"])
def test_nom_personne_tolere_les_chiffres_a_cote_d_une_lettre(saisie):
    assert nom_personne(saisie) == saisie


MESSAGE_NOM = "ne doit contenir que des lettres, chiffres, espaces, tirets ou apostrophes"


@pytest.mark.parametrize(
    "saisie",
    [
        "Jean_Paul",
        "Jean@Dupont",
        "Jean;Paul",
        "-Jean",  # leading hyphen
        "Jean-",  # trailing hyphen
        "Jean..",
        "<script>",
    ],
)
def test_nom_personne_sans_lettre_ou_avec_symboles_est_refuse(saisie):
    with pytest.raises(ErreurValidation) as erreur:
        nom_personne(saisie)
    assert messages(erreur) == [MESSAGE_NOM]


@pytest.mark.parametrize("saisie", ["123", "1 2", "-"])
def test_nom_personne_sans_aucune_lettre_est_refuse(saisie):
    with pytest.raises(ErreurValidation) as erreur:
        nom_personne(saisie)
    assert messages(erreur) == ["doit contenir au moins une lettre"]


def test_nom_personne_trop_long_est_refuse():
    with pytest.raises(ErreurValidation) as erreur:
        nom_personne("A" * 101)
    assert messages(erreur) == ["ne doit pas dépasser 100 caractères"]
    assert nom_personne("A" * 100) == "A" * 100


def test_texte_refuse_les_caracteres_de_controle_et_nomme_le_champ():
    with pytest.raises(ErreurValidation) as erreur:
        texte("ligne\x00cachée", nom_champ="remarques")
    assert [(e.champ, e.message) for e in erreur.value.erreurs] == [
        ("remarques", "contient des caractères non imprimables")
    ]


# Code postal


@pytest.mark.parametrize(
    ("saisie", "attendu"),
    [
        ("75001", "75001"),
        ("01000", "01000"),
        ("20000", "20000"),
        ("97411", "97411"),
        ("98000", "98000"),
        (" 75 001 ", "75001"),
    ],
)
def test_code_postal_francais_accepte(saisie, attendu):
    assert code_postal(saisie) == attendu


@pytest.mark.parametrize("saisie", ["", "7500", "750011", "00100", "99000", "2A004", "ABCDE", "75-001"])
def test_code_postal_invalide_est_refuse(saisie):
    with pytest.raises(ErreurValidation) as erreur:
        code_postal(saisie)
    assert messages(erreur) == ["le code postal doit comporter 5 chiffres"]


def test_code_postal_refuse_les_chiffres_non_ascii():
    with pytest.raises(ErreurValidation):
        code_postal("7٥٠٠١")


# Date de naissance et âge


def test_date_naissance_dans_les_bornes_est_acceptee():
    naissance = date(2015, 6, 1)
    assert date_naissance(naissance, aujourd_hui=AUJOURD_HUI, age_min=0, age_max=18) == naissance


def test_date_naissance_future_est_refusee():
    with pytest.raises(ErreurValidation) as erreur:
        date_naissance(date(2025, 3, 11), aujourd_hui=AUJOURD_HUI, age_min=0, age_max=18)
    assert messages(erreur) == ["la date de naissance ne peut pas être dans le futur"]


def test_date_naissance_du_jour_est_acceptee_pour_un_nouveau_ne():
    assert date_naissance(AUJOURD_HUI, aujourd_hui=AUJOURD_HUI, age_min=0, age_max=18) == AUJOURD_HUI


def test_date_naissance_trop_ancienne_est_refusee_le_jour_des_19_ans():
    # 18 years and 364 days: still 18, accepted; on the 19th birthday: refused.
    assert date_naissance(date(2006, 3, 11), aujourd_hui=AUJOURD_HUI, age_min=0, age_max=18)
    with pytest.raises(ErreurValidation) as erreur:
        date_naissance(date(2006, 3, 10), aujourd_hui=AUJOURD_HUI, age_min=0, age_max=18)
    assert messages(erreur) == ["la date de naissance indique plus de 18 ans"]


def test_date_naissance_trop_recente_est_refusee_avant_l_age_minimum():
    # A parent must be at least 16: the day before the 16th birthday is refused.
    with pytest.raises(ErreurValidation) as erreur:
        date_naissance(date(2009, 3, 11), aujourd_hui=AUJOURD_HUI, age_min=16, age_max=120)
    assert messages(erreur) == ["la date de naissance indique moins de 16 ans"]
    assert date_naissance(date(2009, 3, 10), aujourd_hui=AUJOURD_HUI, age_min=16, age_max=120)


def test_age_libelle_exemple_du_portail():
    # By hand: 2012-01-15 → 2021-09-15 is 9 years 8 months; 4 October is before 15 October,
    # so the 9th month is not complete yet.
    assert age_en_mois(date(2012, 1, 15), date(2021, 10, 4)) == 9 * 12 + 8
    assert age_libelle(date(2012, 1, 15), date(2021, 10, 4)) == "9 ans et 8 mois"


@pytest.mark.parametrize(
    ("naissance", "jour", "attendu"),
    [
        (date(2020, 3, 1), date(2021, 3, 1), "1 an"),
        (date(2020, 3, 1), date(2021, 4, 15), "1 an et 1 mois"),
        (date(2021, 1, 10), date(2021, 6, 10), "5 mois"),
        (date(2021, 1, 10), date(2021, 6, 9), "4 mois"),
        (date(2015, 5, 20), date(2025, 5, 20), "10 ans"),
        (date(2025, 3, 1), date(2025, 3, 10), "0 mois"),
    ],
)
def test_age_libelle_comme_les_parents_le_lisent(naissance, jour, attendu):
    assert age_libelle(naissance, jour) == attendu


def test_age_en_annees_change_le_jour_anniversaire():
    assert age_en_annees(date(2015, 3, 11), AUJOURD_HUI) == 9
    assert age_en_annees(date(2015, 3, 10), AUJOURD_HUI) == 10


def test_classe_donne_son_niveau():
    assert Classe.GS.niveau is Niveau.MATERNELLE
    assert Classe.TPS.niveau is Niveau.MATERNELLE
    assert Classe.CP.niveau is Niveau.ELEMENTAIRE
    assert Classe.CM2.niveau is Niveau.ELEMENTAIRE


# Adresse


def test_adresse_valide_est_nettoyee():
    adresse = Adresse.creer("  12 rue de la Paix ", "75 002", " Paris ", "Bâtiment B")
    assert adresse == Adresse(
        ligne1="12 rue de la Paix", code_postal="75002", commune="Paris", ligne2="Bâtiment B"
    )


def test_adresse_sans_complement_garde_ligne2_vide():
    assert Adresse.creer("1 place de la Mairie", "69001", "Lyon").ligne2 is None
    assert Adresse.creer("1 place de la Mairie", "69001", "Lyon", "").ligne2 is None


def test_adresse_signale_chaque_champ_en_erreur_a_la_fois():
    with pytest.raises(ErreurValidation) as erreur:
        Adresse.creer("", "123", "   ")
    assert [(e.champ, e.message) for e in erreur.value.erreurs] == [
        ("ligne1", "ne doit pas être vide"),
        ("code_postal", "le code postal doit comporter 5 chiffres"),
        ("commune", "ne doit pas être vide"),
    ]
    assert erreur.value.detail == (
        "ligne1 : ne doit pas être vide; "
        "code_postal : le code postal doit comporter 5 chiffres; "
        "commune : ne doit pas être vide"
    )


def test_adresse_ligne2_trop_longue_est_signalee_sous_son_nom():
    with pytest.raises(ErreurValidation) as erreur:
        Adresse.creer("1 rue", "75001", "Paris", "x" * 201)
    assert [e.champ for e in erreur.value.erreurs] == ["ligne2"]


# IBAN et BIC

IBAN_FR = "FR7630006000011234567890189"


def test_iban_francais_valide_est_garde_sous_forme_compacte():
    assert Iban.creer(IBAN_FR).valeur == IBAN_FR
    assert Iban.creer("fr76 3000 6000 0112 3456 7890 189").valeur == IBAN_FR


def test_iban_masque_ne_montre_que_le_pays_la_cle_et_la_fin():
    assert Iban.creer(IBAN_FR).masque == "FR76 **** **** 0189"


def test_iban_deduit_le_bic_de_la_banque():
    # Bank code 30006 is Crédit Agricole S.A. (BIC AGRIFRPP, primary branch XXX).
    assert Iban.creer(IBAN_FR).bic_deduit() == "AGRIFRPPXXX"


@pytest.mark.parametrize(
    "saisie",
    [
        "FR7630006000011234567890188",  # last digit altered
        "FR7730006000011234567890189",  # check digits altered
        "FR763000600001123456789018",  # too short for France
        "XX7630006000011234567890189",  # unknown country
        "",
        "pas un iban",
    ],
)
def test_iban_invalide_est_refuse(saisie):
    with pytest.raises(ErreurValidation) as erreur:
        Iban.creer(saisie)
    assert messages(erreur) == ["l'IBAN n'est pas valide"]


def test_iban_hors_zone_sepa_est_refuse():
    # A valid Brazilian IBAN (correct check digits) that a SEPA direct debit cannot use.
    with pytest.raises(ErreurValidation) as erreur:
        Iban.creer("BR1800360305000010009795493C1")
    assert messages(erreur) == ["l'IBAN doit appartenir à la zone SEPA"]


@pytest.mark.parametrize(
    "saisie",
    [
        "DE89370400440532013000",  # Germany
        "CH9300762011623852957",  # Switzerland: SEPA, outside the EU
        "GB29NWBK60161331926819",  # United Kingdom: still SEPA
    ],
)
def test_iban_europeens_de_la_zone_sepa_sont_acceptes(saisie):
    assert Iban.creer(saisie).valeur == saisie


@pytest.mark.parametrize(
    ("saisie", "attendu"),
    [("AGRIFRPP", "AGRIFRPP"), (" agrifrppxxx ", "AGRIFRPPXXX"), ("BNPAFRPPXXX", "BNPAFRPPXXX")],
)
def test_bic_valide_est_compact_et_en_majuscules(saisie, attendu):
    assert bic(saisie) == attendu


@pytest.mark.parametrize("saisie", ["", "AGRI", "AGRIFRPPX", "AGR!FRPP", "AGRIXXPP"])
def test_bic_invalide_est_refuse(saisie):
    with pytest.raises(ErreurValidation) as erreur:
        bic(saisie)
    assert messages(erreur) == ["le BIC n'est pas valide"]


@pytest.mark.parametrize("adresse", [".a@x.fr", "a.@x.fr", "a..b@x.fr"])
def test_email_refuse_les_points_mal_places(adresse):
    with pytest.raises(ErreurValidation):
        email(adresse)


@pytest.mark.parametrize("saisie", ["+33 (0)6 12 34 56 78", "06\u00a012\u00a034\u00a056\u00a078"])
def test_telephone_accepte_les_notations_usuelles(saisie):
    assert telephone(saisie) == "0612345678"


def test_adresse_ligne2_blanche_vaut_absente():
    assert Adresse.creer("1 rue A", "75001", "Paris", "   ").ligne2 is None
