"""Enfant aggregate: identity, schooling, fiche sanitaire, authorised persons, erasure."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from portail.domain.enfant import Enfant, fin_annee_scolaire
from portail.domain.erreurs import RegleMetier
from portail.domain.personnes import (
    Autorisations,
    IdentiteEnfant,
    Medecin,
    PersonneAutorisee,
    RegimeAlimentaire,
    Sante,
    Scolarite,
)
from portail.domain.valeurs import Classe, Niveau

FAMILLE_ID = uuid4()
IDENTITE = IdentiteEnfant("Martin", "Léa", date(2016, 4, 12), "Nantes")
SCOLARITE = Scolarite("École Jules Ferry", Niveau.ELEMENTAIRE, Classe.CE2)
SANTE = Sante(
    allergies=("arachide",),
    regime_alimentaire=RegimeAlimentaire.SANS_PORC,
    pai=True,
    pai_detail="Trousse d'urgence dans le cartable",
    medecin=Medecin("Dr Bernard", "0240000000"),
    vaccinations_a_jour=True,
)
MAMIE = PersonneAutorisee("Durand", "Josette", "0611223344", "grand-mère")


def nouvel_enfant() -> Enfant:
    enfant = Enfant(famille_id=FAMILLE_ID, identite=IDENTITE, scolarite=SCOLARITE)
    enfant.collect_events()
    return enfant


def types(enfant: Enfant) -> list[type]:
    return [type(e) for e in enfant.collect_events()]


def rejouer(evenements):
    copie = None
    for evenement in evenements:
        copie = evenement.mutate(copie)
    return copie


def test_inscription():
    enfant = Enfant(famille_id=FAMILLE_ID, identite=IDENTITE, scolarite=SCOLARITE)
    assert types(enfant) == [Enfant.Inscrit]
    assert enfant.famille_id == FAMILLE_ID
    assert enfant.identite == IDENTITE
    assert enfant.scolarite == SCOLARITE
    assert enfant.sante is None
    assert enfant.fiche_sanitaire_valable_jusqu_au is None
    assert enfant.personnes_autorisees == ()
    assert enfant.autorisations == Autorisations()
    assert not enfant.efface


def test_modifier_identite_seulement_si_elle_change():
    enfant = nouvel_enfant()
    enfant.modifier_identite(IdentiteEnfant("Martin", "Léa", date(2016, 4, 12), "Nantes"))
    assert types(enfant) == []
    corrigee = IdentiteEnfant("Martin", "Léa", date(2016, 4, 21), "Nantes")
    enfant.modifier_identite(corrigee)
    assert types(enfant) == [Enfant.IdentiteModifiee]
    assert enfant.identite == corrigee


def test_modifier_scolarite_au_passage_en_cm1():
    enfant = nouvel_enfant()
    enfant.modifier_scolarite(SCOLARITE)
    assert types(enfant) == []
    cm1 = Scolarite("École Jules Ferry", Niveau.ELEMENTAIRE, Classe.CM1)
    enfant.modifier_scolarite(cm1)
    assert types(enfant) == [Enfant.ScolariteModifiee]
    assert enfant.scolarite.classe is Classe.CM1


@pytest.mark.parametrize(
    ("le", "valable_jusqu_au"),
    [
        (date(2024, 9, 1), date(2025, 8, 31)),
        (date(2024, 10, 15), date(2025, 8, 31)),
        (date(2025, 1, 5), date(2025, 8, 31)),
        (date(2025, 8, 31), date(2025, 8, 31)),
        (date(2025, 9, 1), date(2026, 8, 31)),
        (date(2025, 12, 31), date(2026, 8, 31)),
    ],
)
def test_fiche_sanitaire_valable_jusqu_au_31_aout_de_l_annee_scolaire(le, valable_jusqu_au):
    assert fin_annee_scolaire(le) == valable_jusqu_au
    enfant = nouvel_enfant()
    enfant.modifier_sante(SANTE, le)
    assert types(enfant) == [Enfant.SanteModifiee]
    assert enfant.sante == SANTE
    assert enfant.fiche_sanitaire_valable_jusqu_au == valable_jusqu_au


def test_fiche_sanitaire_inchangee_dans_la_meme_annee_n_enregistre_rien():
    enfant = nouvel_enfant()
    enfant.modifier_sante(SANTE, date(2024, 9, 10))
    enfant.collect_events()
    enfant.modifier_sante(SANTE, date(2025, 6, 1))
    assert types(enfant) == []
    assert enfant.fiche_sanitaire_valable_jusqu_au == date(2025, 8, 31)


def test_fiche_sanitaire_reconfirmee_l_annee_suivante_est_renouvelee():
    enfant = nouvel_enfant()
    enfant.modifier_sante(SANTE, date(2024, 9, 10))
    enfant.collect_events()
    enfant.modifier_sante(SANTE, date(2025, 9, 2))
    assert types(enfant) == [Enfant.SanteModifiee]
    assert enfant.fiche_sanitaire_valable_jusqu_au == date(2026, 8, 31)


def test_personnes_autorisees():
    enfant = nouvel_enfant()
    enfant.modifier_personnes_autorisees(())
    assert types(enfant) == []
    enfant.modifier_personnes_autorisees((MAMIE,))
    enfant.modifier_personnes_autorisees((MAMIE,))
    assert types(enfant) == [Enfant.PersonnesAutoriseesModifiees]
    assert enfant.personnes_autorisees == (MAMIE,)


def test_autorisations():
    enfant = nouvel_enfant()
    enfant.modifier_autorisations(Autorisations())
    assert types(enfant) == []
    autorisations = Autorisations(droit_image=True, sortie_seul=True)
    enfant.modifier_autorisations(autorisations)
    assert types(enfant) == [Enfant.AutorisationsModifiees]
    assert enfant.autorisations.droit_image and enfant.autorisations.sortie_seul
    assert not enfant.autorisations.transport


def test_effacer_retire_identite_sante_et_personnes():
    enfant = nouvel_enfant()
    enfant.modifier_sante(SANTE, date(2024, 9, 10))
    enfant.modifier_personnes_autorisees((MAMIE,))
    enfant.collect_events()
    enfant.effacer(date(2025, 6, 1))
    enfant.effacer(date(2025, 7, 1))
    assert types(enfant) == [Enfant.Efface]
    assert enfant.efface and enfant.efface_le == date(2025, 6, 1)
    assert enfant.identite is None
    assert enfant.sante is None
    assert enfant.personnes_autorisees is None
    assert enfant.famille_id == FAMILLE_ID


@pytest.mark.parametrize(
    "commande",
    [
        lambda e: e.modifier_identite(IDENTITE),
        lambda e: e.modifier_scolarite(Scolarite()),
        lambda e: e.modifier_sante(SANTE, date(2025, 9, 2)),
        lambda e: e.modifier_personnes_autorisees((MAMIE,)),
        lambda e: e.modifier_autorisations(Autorisations(droit_image=True)),
    ],
)
def test_enfant_efface_refuse_toute_modification(commande):
    enfant = nouvel_enfant()
    enfant.effacer(date(2025, 6, 1))
    enfant.collect_events()
    with pytest.raises(RegleMetier) as erreur:
        commande(enfant)
    assert erreur.value.detail == "Le dossier de cet enfant a été effacé."
    assert types(enfant) == []


def test_rejouer_les_evenements_redonne_le_meme_etat():
    enfant = Enfant(famille_id=FAMILLE_ID, identite=IDENTITE, scolarite=SCOLARITE)
    enfant.modifier_sante(SANTE, date(2024, 9, 10))
    enfant.modifier_personnes_autorisees((MAMIE,))
    enfant.modifier_autorisations(Autorisations(soins_urgence=True))
    enfant.modifier_scolarite(Scolarite("Collège", None, None))
    evenements = enfant.collect_events()
    copie = rejouer(evenements)
    assert isinstance(copie, Enfant)
    assert vars(copie) == vars(enfant)
    enfant.effacer(date(2025, 6, 1))
    copie_effacee = rejouer([*evenements, *enfant.collect_events()])
    assert vars(copie_effacee) == vars(enfant)
