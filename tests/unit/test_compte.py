"""Compte aggregate: e-mail, roles, password change, single-use expiring reset tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from portail.domain.compte import Compte, JetonInvalide
from portail.domain.erreurs import RegleMetier
from portail.domain.valeurs import Role

MIDI = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
FAMILLE_ID = uuid4()


def nouveau_compte(roles: tuple[Role, ...] = (Role.PARENT,)) -> Compte:
    compte = Compte(
        email="claire@example.fr",
        mot_de_passe_hash="$argon2id$ancien",
        roles=roles,
        famille_id=FAMILLE_ID,
    )
    compte.collect_events()
    return compte


def types(compte: Compte) -> list[type]:
    return [type(e) for e in compte.collect_events()]


def rejouer(evenements):
    copie = None
    for evenement in evenements:
        copie = evenement.mutate(copie)
    return copie


def test_creation():
    compte = Compte(
        email="claire@example.fr",
        mot_de_passe_hash="$argon2id$h",
        roles=[Role.PARENT],
        famille_id=FAMILLE_ID,
    )
    assert types(compte) == [Compte.Cree]
    assert compte.email == "claire@example.fr"
    assert compte.roles == (Role.PARENT,)
    assert compte.famille_id == FAMILLE_ID
    assert compte.actif
    assert compte.sessions_valides_apres is None


def test_roles():
    compte = nouveau_compte((Role.AGENT, Role.REGISSEUR))
    assert compte.a_role(Role.AGENT)
    assert compte.a_role(Role.ADMIN, Role.REGISSEUR)
    assert not compte.a_role(Role.PARENT)
    assert not compte.a_role(Role.ADMIN, Role.AUDITEUR)


def test_modifier_roles():
    compte = nouveau_compte((Role.AGENT, Role.REGISSEUR))
    compte.modifier_roles((Role.REGISSEUR, Role.AGENT))
    assert types(compte) == []
    compte.modifier_roles((Role.AGENT, Role.ADMIN))
    assert types(compte) == [Compte.RolesModifies]
    assert compte.a_role(Role.ADMIN)
    assert not compte.a_role(Role.REGISSEUR)


def test_un_compte_sans_role_est_refuse():
    compte = nouveau_compte()
    with pytest.raises(RegleMetier, match="au moins un rôle"):
        compte.modifier_roles(())
    assert types(compte) == []
    assert compte.roles == (Role.PARENT,)


def test_modifier_email():
    compte = nouveau_compte()
    compte.modifier_email("claire@example.fr")
    assert types(compte) == []
    compte.modifier_email("claire.martin@example.fr")
    assert types(compte) == [Compte.EmailModifie]
    assert compte.email == "claire.martin@example.fr"


def test_changer_mot_de_passe_ferme_les_sessions_anterieures():
    compte = nouveau_compte()
    compte.changer_mot_de_passe("$argon2id$nouveau", MIDI)
    assert types(compte) == [Compte.MotDePasseModifie]
    assert compte.mot_de_passe_hash == "$argon2id$nouveau"
    assert compte.sessions_valides_apres == MIDI


def test_jeton_valide_reinitialise_le_mot_de_passe_une_seule_fois():
    compte = nouveau_compte()
    compte.demander_reinitialisation("empreinte-1", MIDI + timedelta(hours=1))
    assert types(compte) == [Compte.ReinitialisationDemandee]
    compte.reinitialiser("empreinte-1", "$argon2id$nouveau", MIDI + timedelta(minutes=30))
    assert types(compte) == [Compte.MotDePasseReinitialise]
    assert compte.mot_de_passe_hash == "$argon2id$nouveau"
    assert compte.sessions_valides_apres == MIDI + timedelta(minutes=30)
    with pytest.raises(JetonInvalide):
        compte.reinitialiser("empreinte-1", "$argon2id$encore", MIDI + timedelta(minutes=31))
    assert types(compte) == []
    assert compte.mot_de_passe_hash == "$argon2id$nouveau"


@pytest.mark.parametrize("delai", [timedelta(0), timedelta(seconds=1), timedelta(days=2)])
def test_jeton_expire_est_refuse(delai):
    compte = nouveau_compte()
    compte.demander_reinitialisation("empreinte-1", MIDI)
    compte.collect_events()
    with pytest.raises(JetonInvalide) as erreur:
        compte.reinitialiser("empreinte-1", "$argon2id$nouveau", MIDI + delai)
    assert erreur.value.detail == "Ce lien de réinitialisation est invalide ou a expiré."
    assert isinstance(erreur.value, RegleMetier)
    assert types(compte) == []
    assert compte.mot_de_passe_hash == "$argon2id$ancien"


def test_jeton_inconnu_est_refuse():
    compte = nouveau_compte()
    compte.demander_reinitialisation("empreinte-1", MIDI + timedelta(hours=1))
    with pytest.raises(JetonInvalide):
        compte.reinitialiser("empreinte-2", "$argon2id$nouveau", MIDI)
    assert compte.mot_de_passe_hash == "$argon2id$ancien"


def test_utiliser_un_jeton_invalide_les_autres_liens_en_cours():
    compte = nouveau_compte()
    compte.demander_reinitialisation("empreinte-1", MIDI + timedelta(hours=1))
    compte.demander_reinitialisation("empreinte-2", MIDI + timedelta(hours=1))
    compte.reinitialiser("empreinte-2", "$argon2id$nouveau", MIDI)
    with pytest.raises(JetonInvalide):
        compte.reinitialiser("empreinte-1", "$argon2id$autre", MIDI)
    assert compte.mot_de_passe_hash == "$argon2id$nouveau"


def test_compte_desactive():
    compte = nouveau_compte()
    compte.demander_reinitialisation("empreinte-1", MIDI + timedelta(hours=1))
    compte.collect_events()
    compte.desactiver(MIDI)
    compte.desactiver(MIDI + timedelta(days=1))
    assert types(compte) == [Compte.Desactive]
    assert not compte.actif
    assert compte.desactive_le == MIDI
    with pytest.raises(JetonInvalide):
        compte.reinitialiser("empreinte-1", "$argon2id$nouveau", MIDI)
    for commande in (
        lambda: compte.modifier_email("autre@example.fr"),
        lambda: compte.changer_mot_de_passe("$argon2id$x", MIDI),
        lambda: compte.demander_reinitialisation("empreinte-3", MIDI + timedelta(hours=1)),
        lambda: compte.modifier_roles((Role.ADMIN,)),
    ):
        with pytest.raises(RegleMetier, match="désactivé"):
            commande()
    assert types(compte) == []
    assert compte.mot_de_passe_hash == "$argon2id$ancien"
    assert compte.roles == (Role.PARENT,)


def test_rejouer_les_evenements_redonne_le_meme_etat():
    compte = Compte(
        email="claire@example.fr",
        mot_de_passe_hash="$argon2id$h",
        roles=(Role.PARENT,),
        famille_id=None,
    )
    compte.modifier_email("claire.martin@example.fr")
    compte.changer_mot_de_passe("$argon2id$h2", MIDI)
    compte.demander_reinitialisation("empreinte-1", MIDI + timedelta(hours=1))
    compte.demander_reinitialisation("empreinte-2", MIDI + timedelta(hours=2))
    evenements = compte.collect_events()
    copie = rejouer(evenements)
    assert isinstance(copie, Compte)
    assert vars(copie) == vars(compte)
    compte.reinitialiser("empreinte-2", "$argon2id$h3", MIDI + timedelta(minutes=5))
    compte.modifier_roles((Role.PARENT, Role.AGENT))
    compte.desactiver(MIDI + timedelta(days=1))
    copie = rejouer([*evenements, *compte.collect_events()])
    assert vars(copie) == vars(compte)


def test_changement_d_email_en_attente_jusqu_au_lien():
    compte = nouveau_compte()
    compte.demander_changement_email("apres@example.fr", "empreinte-1", MIDI + timedelta(hours=24))
    assert compte.email == "claire@example.fr"
    with pytest.raises(JetonInvalide):
        compte.confirmer_email("autre", MIDI)
    assert compte.confirmer_email("empreinte-1", MIDI) == "apres@example.fr"
    assert compte.email == "apres@example.fr"
    assert compte.sessions_valides_apres == MIDI
    assert types(compte) == [Compte.ChangementEmailDemande, Compte.EmailConfirme]
    with pytest.raises(JetonInvalide):
        compte.confirmer_email("empreinte-1", MIDI)


def test_lien_d_email_expire_remplace_ou_annule_par_un_nouveau_mot_de_passe():
    compte = nouveau_compte()
    compte.demander_changement_email("apres@example.fr", "empreinte-1", MIDI)
    with pytest.raises(JetonInvalide):
        compte.confirmer_email("empreinte-1", MIDI)
    compte.demander_changement_email("apres@example.fr", "empreinte-1", MIDI + timedelta(hours=1))
    compte.demander_changement_email("autre@example.fr", "empreinte-2", MIDI + timedelta(hours=1))
    with pytest.raises(JetonInvalide):
        compte.confirmer_email("empreinte-1", MIDI)
    compte.changer_mot_de_passe("$argon2id$nouveau", MIDI)
    with pytest.raises(JetonInvalide):
        compte.confirmer_email("empreinte-2", MIDI)
    assert compte.changement_email is None
