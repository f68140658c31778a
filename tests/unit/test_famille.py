"""Famille aggregate: household file, effective-dated quotient familial, SEPA mandate, erasure."""

from __future__ import annotations

import re
from datetime import date
from uuid import UUID, uuid4

import pytest

from portail.domain.erreurs import ErreurValidation, RegleMetier
from portail.domain.famille import Famille
from portail.domain.personnes import Responsable
from portail.domain.quotient import QuotientFamilial
from portail.domain.sepa import generer_rum
from portail.domain.valeurs import (
    Adresse,
    Civilite,
    Iban,
    SituationFamiliale,
    SourceQuotient,
)

IBAN_1 = Iban.creer("FR7630006000011234567890189")
IBAN_2 = Iban.creer("DE89370400440532013000")
MOI = Responsable(Civilite.MME, "Martin", "Claire", telephone="0612345678", email="claire@example.fr")
AUTRE = Responsable(Civilite.M, "Martin", "Paul", telephone="0698765432", lien="père")
ADRESSE = Adresse.creer("3 rue des Lilas", "44000", "Nantes")


def nouvelle_famille() -> Famille:
    famille = Famille(responsable=MOI, adresse=ADRESSE)
    famille.collect_events()
    return famille


def types(famille: Famille) -> list[type]:
    return [type(e) for e in famille.collect_events()]


def rejouer(evenements):
    copie = None
    for evenement in evenements:
        copie = evenement.mutate(copie)
    return copie


def qf(valeur: int, valable_du: date, source: SourceQuotient = SourceQuotient.CAF) -> QuotientFamilial:
    return QuotientFamilial.creer(valeur, valable_du, source)


# Creation and simple changes


def test_creation_enregistre_le_dossier_du_foyer():
    famille = Famille(responsable=MOI, adresse=ADRESSE)
    assert types(famille) == [Famille.Creee]
    assert famille.responsable == MOI
    assert famille.adresse == ADRESSE
    assert famille.situation_familiale is SituationFamiliale.NON_RENSEIGNE
    assert famille.autre_responsable is None
    assert famille.enfants == [] and famille.comptes == [] and famille.quotients == []
    assert famille.mandat is None
    assert not famille.effacee


def test_modifier_responsable_enregistre_le_changement_une_seule_fois():
    famille = nouvelle_famille()
    nouveau = Responsable(Civilite.MME, "Martin", "Claire", telephone="0611111111")
    famille.modifier_responsable(nouveau)
    assert types(famille) == [Famille.ResponsableModifie]
    assert famille.responsable == nouveau
    famille.modifier_responsable(nouveau)
    assert types(famille) == []


def test_modifier_adresse_sans_changement_n_enregistre_rien():
    famille = nouvelle_famille()
    famille.modifier_adresse(Adresse.creer("3 rue des Lilas", "44000", "Nantes"))
    assert types(famille) == []
    ailleurs = Adresse.creer("8 avenue Foch", "35000", "Rennes")
    famille.modifier_adresse(ailleurs)
    assert types(famille) == [Famille.AdresseModifiee]
    assert famille.adresse == ailleurs


def test_modifier_situation_familiale():
    famille = nouvelle_famille()
    famille.modifier_situation_familiale(SituationFamiliale.NON_RENSEIGNE)
    assert types(famille) == []
    famille.modifier_situation_familiale(SituationFamiliale.PACSE)
    assert types(famille) == [Famille.SituationFamilialeModifiee]
    assert famille.situation_familiale is SituationFamiliale.PACSE


def test_autre_responsable_defini_puis_retire():
    famille = nouvelle_famille()
    famille.retirer_autre_responsable()
    assert types(famille) == []
    famille.definir_autre_responsable(AUTRE)
    famille.definir_autre_responsable(AUTRE)
    assert types(famille) == [Famille.AutreResponsableDefini]
    assert famille.autre_responsable == AUTRE
    famille.retirer_autre_responsable()
    famille.retirer_autre_responsable()
    assert types(famille) == [Famille.AutreResponsableRetire]
    assert famille.autre_responsable is None


def test_enfant_et_compte_ne_sont_rattaches_qu_une_fois():
    famille = nouvelle_famille()
    enfant, compte = uuid4(), uuid4()
    famille.ajouter_enfant(enfant)
    famille.ajouter_enfant(enfant)
    famille.rattacher_compte(compte)
    famille.rattacher_compte(compte)
    assert types(famille) == [Famille.EnfantAjoute, Famille.CompteRattache]
    assert famille.enfants == [enfant]
    assert famille.comptes == [compte]


# Quotient familial, effective-dated


def test_quotient_creer_refuse_hors_bornes_avec_message():
    assert qf(0, date(2025, 1, 1)).valeur == 0
    assert qf(100_000, date(2025, 1, 1)).valeur == 100_000
    for valeur in (-1, 100_001, True):
        with pytest.raises(ErreurValidation) as erreur:
            QuotientFamilial.creer(valeur, date(2025, 1, 1), SourceQuotient.CAF)
        assert [(e.champ, e.message) for e in erreur.value.erreurs] == [
            ("valeur", "le quotient familial doit être compris entre 0 et 100000 €")
        ]


def test_quotient_au_selon_la_date_d_effet():
    famille = nouvelle_famille()
    famille.enregistrer_quotient(qf(800, date(2025, 1, 1)))
    famille.enregistrer_quotient(qf(650, date(2025, 7, 1), SourceQuotient.ATTESTATION))
    assert types(famille) == [Famille.QuotientFamilialEnregistre] * 2
    assert famille.quotient_au(date(2024, 12, 31)) is None
    assert famille.quotient_au(date(2025, 1, 1)).valeur == 800
    assert famille.quotient_au(date(2025, 6, 30)).valeur == 800
    en_juillet = famille.quotient_au(date(2025, 7, 1))
    assert (en_juillet.valeur, en_juillet.source) == (650, SourceQuotient.ATTESTATION)
    assert famille.quotient_au(date(2030, 1, 1)).valeur == 650


def test_quotient_retroactif_s_insere_dans_l_historique():
    famille = nouvelle_famille()
    famille.enregistrer_quotient(qf(650, date(2025, 7, 1)))
    famille.enregistrer_quotient(qf(800, date(2025, 1, 1)))
    assert [q.valable_du for q in famille.quotients] == [date(2025, 1, 1), date(2025, 7, 1)]
    assert famille.quotient_au(date(2025, 3, 15)).valeur == 800
    assert famille.quotient_au(date(2025, 9, 1)).valeur == 650


def test_quotient_de_meme_date_remplace_le_precedent():
    famille = nouvelle_famille()
    famille.enregistrer_quotient(qf(800, date(2025, 1, 1), SourceQuotient.SAISIE))
    famille.enregistrer_quotient(qf(720, date(2025, 1, 1), SourceQuotient.CAF))
    assert len(famille.quotients) == 1
    en_vigueur = famille.quotient_au(date(2025, 2, 1))
    assert (en_vigueur.valeur, en_vigueur.source) == (720, SourceQuotient.CAF)


def test_meme_quotient_deux_fois_n_enregistre_rien():
    famille = nouvelle_famille()
    famille.enregistrer_quotient(qf(800, date(2025, 1, 1)))
    famille.collect_events()
    famille.enregistrer_quotient(qf(800, date(2025, 1, 1)))
    assert types(famille) == []


# Mandat SEPA


def test_generer_rum_format_stable_et_court():
    famille_id = UUID("12345678-9abc-def0-1234-56789abcdef0")
    rum = generer_rum(famille_id, 1)
    assert rum == "PF-123456789ABCDEF0-001"
    assert len(rum) <= 35
    assert generer_rum(famille_id, 1) == rum
    assert generer_rum(famille_id, 12) == "PF-123456789ABCDEF0-012"


def test_signer_mandat_cree_un_mandat_actif_avec_sa_rum():
    famille = nouvelle_famille()
    mandat = famille.signer_mandat("Claire Martin", IBAN_1, "AGRIFRPPXXX", date(2025, 2, 1))
    assert types(famille) == [Famille.MandatSepaSigne]
    assert re.fullmatch(r"PF-[0-9A-F]{16}-001", mandat.rum)
    assert mandat.rum == generer_rum(famille.id, 1)
    assert famille.mandat == mandat
    assert mandat.actif
    assert (mandat.titulaire, mandat.iban, mandat.bic, mandat.signe_le) == (
        "Claire Martin",
        IBAN_1,
        "AGRIFRPPXXX",
        date(2025, 2, 1),
    )


def test_meme_mandat_deux_fois_n_enregistre_rien():
    famille = nouvelle_famille()
    premier = famille.signer_mandat("Claire Martin", IBAN_1, None, date(2025, 2, 1))
    famille.collect_events()
    second = famille.signer_mandat("Claire Martin", IBAN_1, None, date(2025, 3, 1))
    assert types(famille) == []
    assert second == premier
    assert len(famille.mandats) == 1


def test_nouvel_iban_revoque_le_mandat_precedent():
    famille = nouvelle_famille()
    ancien = famille.signer_mandat("Claire Martin", IBAN_1, None, date(2025, 2, 1))
    famille.collect_events()
    nouveau = famille.signer_mandat("Claire Martin", IBAN_2, "COBADEFFXXX", date(2025, 5, 1))
    assert types(famille) == [Famille.MandatSepaRevoque, Famille.MandatSepaSigne]
    assert nouveau.rum == generer_rum(famille.id, 2) != ancien.rum
    assert famille.mandat == nouveau
    assert [m.actif for m in famille.mandats] == [False, True]
    assert famille.mandats[0].rum == ancien.rum
    assert famille.mandats[0].revoque_le == date(2025, 5, 1)


def test_nouveau_titulaire_sur_le_meme_iban_est_un_nouveau_mandat():
    famille = nouvelle_famille()
    famille.signer_mandat("Claire Martin", IBAN_1, None, date(2025, 2, 1))
    famille.collect_events()
    famille.signer_mandat("Paul Martin", IBAN_1, None, date(2025, 3, 1))
    assert types(famille) == [Famille.MandatSepaRevoque, Famille.MandatSepaSigne]
    assert famille.mandat.titulaire == "Paul Martin"


def test_revoquer_mandat():
    famille = nouvelle_famille()
    famille.signer_mandat("Claire Martin", IBAN_1, None, date(2025, 2, 1))
    famille.collect_events()
    famille.revoquer_mandat(date(2025, 4, 30))
    assert types(famille) == [Famille.MandatSepaRevoque]
    assert famille.mandat is None
    assert famille.mandats[0].revoque_le == date(2025, 4, 30)
    with pytest.raises(RegleMetier, match="Aucun mandat de prélèvement actif"):
        famille.revoquer_mandat(date(2025, 5, 1))
    assert types(famille) == []


def test_revoquer_sans_mandat_est_refuse():
    famille = nouvelle_famille()
    with pytest.raises(RegleMetier) as erreur:
        famille.revoquer_mandat(date(2025, 4, 30))
    assert erreur.value.detail == "Aucun mandat de prélèvement actif à révoquer."
    assert types(famille) == []


def test_mandat_signe_apres_revocation_prend_la_rum_suivante():
    famille = nouvelle_famille()
    famille.signer_mandat("Claire Martin", IBAN_1, None, date(2025, 2, 1))
    famille.revoquer_mandat(date(2025, 3, 1))
    famille.collect_events()
    mandat = famille.signer_mandat("Claire Martin", IBAN_1, None, date(2025, 4, 1))
    assert types(famille) == [Famille.MandatSepaSigne]
    assert mandat.rum.endswith("-002")


# Erasure


def famille_complete() -> Famille:
    famille = Famille(responsable=MOI, adresse=ADRESSE)
    famille.modifier_situation_familiale(SituationFamiliale.MARIE)
    famille.definir_autre_responsable(AUTRE)
    famille.ajouter_enfant(uuid4())
    famille.rattacher_compte(uuid4())
    famille.enregistrer_quotient(qf(800, date(2025, 1, 1)))
    famille.signer_mandat("Claire Martin", IBAN_1, "AGRIFRPPXXX", date(2025, 2, 1))
    return famille


def test_effacer_retire_les_donnees_personnelles():
    famille = famille_complete()
    rum = famille.mandat.rum
    famille.collect_events()
    famille.effacer(date(2025, 6, 1))
    assert types(famille) == [Famille.Effacee]
    assert famille.effacee and famille.effacee_le == date(2025, 6, 1)
    assert famille.responsable is None
    assert famille.adresse is None
    assert famille.autre_responsable is None
    assert famille.situation_familiale is None
    assert famille.mandat is None
    [mandat] = famille.mandats
    assert (mandat.titulaire, mandat.iban) == (None, None)
    assert mandat.rum == rum
    assert mandat.revoque_le == date(2025, 6, 1)


def test_effacer_garde_la_date_de_revocation_anterieure():
    famille = famille_complete()
    famille.revoquer_mandat(date(2025, 3, 1))
    famille.effacer(date(2025, 6, 1))
    assert famille.mandats[0].revoque_le == date(2025, 3, 1)


def test_effacer_deux_fois_n_enregistre_qu_un_evenement():
    famille = famille_complete()
    famille.effacer(date(2025, 6, 1))
    famille.collect_events()
    famille.effacer(date(2025, 7, 1))
    assert types(famille) == []
    assert famille.effacee_le == date(2025, 6, 1)


@pytest.mark.parametrize(
    "commande",
    [
        lambda f: f.modifier_responsable(AUTRE),
        lambda f: f.modifier_adresse(Adresse.creer("1 rue", "75001", "Paris")),
        lambda f: f.modifier_situation_familiale(SituationFamiliale.DIVORCE),
        lambda f: f.definir_autre_responsable(AUTRE),
        lambda f: f.retirer_autre_responsable(),
        lambda f: f.rattacher_compte(uuid4()),
        lambda f: f.ajouter_enfant(uuid4()),
        lambda f: f.enregistrer_quotient(qf(500, date(2025, 9, 1))),
        lambda f: f.signer_mandat("X", IBAN_2, None, date(2025, 9, 1)),
        lambda f: f.revoquer_mandat(date(2025, 9, 1)),
    ],
)
def test_famille_effacee_refuse_toute_modification(commande):
    famille = famille_complete()
    famille.effacer(date(2025, 6, 1))
    famille.collect_events()
    with pytest.raises(RegleMetier) as erreur:
        commande(famille)
    assert "effacée" in erreur.value.detail
    assert types(famille) == []


# Replay


def test_rejouer_les_evenements_redonne_le_meme_etat():
    famille = famille_complete()
    famille.modifier_adresse(Adresse.creer("8 avenue Foch", "35000", "Rennes"))
    famille.enregistrer_quotient(qf(650, date(2025, 7, 1)))
    famille.signer_mandat("Claire Martin", IBAN_2, None, date(2025, 8, 1))
    famille.retirer_autre_responsable()
    evenements = famille.collect_events()
    copie = rejouer(evenements)
    assert isinstance(copie, Famille)
    assert vars(copie) == vars(famille)
    assert copie.version == len(evenements)


def test_rejouer_une_famille_effacee_redonne_le_meme_etat():
    famille = famille_complete()
    famille.effacer(date(2025, 6, 1))
    copie = rejouer(famille.collect_events())
    assert vars(copie) == vars(famille)
    assert copie.responsable is None and copie.mandats[0].iban is None
