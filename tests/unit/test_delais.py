"""Booking and cancellation deadlines of real communes, computed in Paris wall-clock time.

Each test pins the exact deadline of a documented rule (peers-and-rules §b.6, domain-rules §2)
and checks a request one second before (on time) and one second after (late).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from portail.domain.erreurs import ErreurValidation
from portail.domain.regles.calendrier import PARIS, Calendrier
from portail.domain.regles.delais import Ancrage, Decision, RegleDelai, Retard, a_paris, evaluer

SANS_FERIES = Calendrier()
FERIES_2026 = frozenset(
    {
        date(2026, 1, 1),
        date(2026, 4, 6),  # lundi de Pâques
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),  # Ascension
        date(2026, 5, 25),  # lundi de Pentecôte
        date(2026, 7, 14),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 25),
    }
)
CALENDRIER_2026 = Calendrier(jours_feries=FERIES_2026)
SECONDE = timedelta(seconds=1)


def paris(annee: int, mois: int, jour: int, heure: int = 0, minute: int = 0) -> datetime:
    return datetime(annee, mois, jour, heure, minute, tzinfo=PARIS)


def utc(annee: int, mois: int, jour: int, heure: int = 0, minute: int = 0, seconde: int = 0) -> datetime:
    return datetime(annee, mois, jour, heure, minute, seconde, tzinfo=UTC)


def assert_limite(
    regle: RegleDelai, jour: date, attendue: datetime, calendrier: Calendrier = SANS_FERIES
) -> None:
    """The deadline is exactly `attendue` (same instant, same wall-clock in Paris) and the request
    is on time at the deadline, one second before it, and late one second after it."""
    limite = regle.limite(jour, calendrier)
    assert limite == attendue
    assert limite.astimezone(PARIS).replace(tzinfo=None) == attendue.astimezone(PARIS).replace(tzinfo=None)
    debut = time(23, 59, 59)  # a unit starting late in the day: irrelevant without retard
    en_utc = attendue.astimezone(UTC)
    assert evaluer(regle, jour, debut, en_utc - SECONDE, calendrier).a_temps
    assert evaluer(regle, jour, debut, en_utc, calendrier).a_temps
    apres = evaluer(regle, jour, debut, en_utc + SECONDE, calendrier)
    assert not apres.a_temps
    if regle.retard is None:
        assert apres.refusee


# Veyras (Numerian CIVIL)


def test_veyras_cantine_mardi_23h59_de_la_semaine_precedente():
    regle = RegleDelai.creer("semaine_precedente", time(23, 59), jours_semaine=(2,))
    # Every day of the week of Monday 12 January 2026 closes on Tuesday 6 January at 23:59.
    for jour in (date(2026, 1, 12), date(2026, 1, 13), date(2026, 1, 15), date(2026, 1, 16)):
        assert_limite(regle, jour, paris(2026, 1, 6, 23, 59))
    # Nothing is possible after the deadline: no retard.
    decision = evaluer(regle, date(2026, 1, 15), time(11, 45), paris(2026, 1, 7, 8), SANS_FERIES)
    assert decision == Decision(False, paris(2026, 1, 6, 23, 59))
    assert decision.refusee


def test_veyras_garderie_la_veille_18h():
    regle = RegleDelai.creer("jour", time(18, 0), decalage_jours=1)
    assert_limite(regle, date(2026, 1, 14), paris(2026, 1, 13, 18))
    # Calendar days: a Monday closes on the Sunday before.
    assert_limite(regle, date(2026, 1, 12), paris(2026, 1, 11, 18))


# Cruas (CIVIL)


def test_cruas_alsh_du_mercredi_jeudi_12h_de_la_semaine_precedente():
    regle = RegleDelai.creer("semaine_precedente", time(12, 0), jours_semaine=(4,))
    assert_limite(regle, date(2026, 1, 14), paris(2026, 1, 8, 12))


def test_cruas_garderie_j_moins_2_hors_week_end_a_12h():
    regle = RegleDelai.creer("jour", time(12, 0), decalage_jours=2, jours_ouvres=True)
    # Monday → Friday, Thursday: the previous Thursday at 12:00.
    assert_limite(regle, date(2026, 1, 12), paris(2026, 1, 8, 12))
    # Tuesday → Monday, Friday.
    assert_limite(regle, date(2026, 1, 13), paris(2026, 1, 9, 12))
    # Thursday → Wednesday, Tuesday (no weekend in between).
    assert_limite(regle, date(2026, 1, 15), paris(2026, 1, 13, 12))


def test_cruas_garderie_saute_les_jours_feries():
    regle = RegleDelai.creer("jour", time(12, 0), decalage_jours=2, jours_ouvres=True)
    # Wednesday 8 April 2026: Tuesday 7, Easter Monday 6 skipped, then Friday 3.
    assert_limite(regle, date(2026, 4, 8), paris(2026, 4, 3, 12), CALENDRIER_2026)
    # Without the public holiday the Monday counts.
    assert regle.limite(date(2026, 4, 8), SANS_FERIES) == paris(2026, 4, 6, 12)
    # Monday 18 May 2026: Friday 15, Ascension Thursday 14 skipped, then Wednesday 13.
    assert_limite(regle, date(2026, 5, 18), paris(2026, 5, 13, 12), CALENDRIER_2026)


def test_jours_exclus_sont_sautes_comme_les_week_ends():
    # Wednesday is not a working day of the garderie (no school): J-2 of Thursday is Monday.
    regle = RegleDelai.creer("jour", time(12, 0), decalage_jours=2, jours_ouvres=True, jours_exclus=(3,))
    assert_limite(regle, date(2026, 1, 15), paris(2026, 1, 12, 12))


# Vailhauques


def test_vailhauques_vendredi_9h_pour_lundi_mardi_et_mardi_9h_pour_jeudi_vendredi():
    regle = RegleDelai.creer(
        "jour_semaine_precedent", time(9, 0), jours_semaine=(2, 5), retard=Retard(majoration_pourcent=50)
    )
    assert regle.ancrage is Ancrage.JOUR_SEMAINE_PRECEDENT
    assert_limite(regle, date(2026, 1, 12), paris(2026, 1, 9, 9))  # lundi → vendredi
    assert_limite(regle, date(2026, 1, 13), paris(2026, 1, 9, 9))  # mardi → vendredi
    assert_limite(regle, date(2026, 1, 15), paris(2026, 1, 13, 9))  # jeudi → mardi
    assert_limite(regle, date(2026, 1, 16), paris(2026, 1, 13, 9))  # vendredi → mardi


def test_vailhauques_reservation_tardive_majoree_de_50_pourcent_jusqu_au_debut_du_repas():
    regle = RegleDelai.creer(
        "jour_semaine_precedent", time(9, 0), jours_semaine=(2, 5), retard=Retard(majoration_pourcent=50)
    )
    jour = date(2026, 1, 15)  # jeudi
    repas = time(11, 45)
    limite = paris(2026, 1, 13, 9)

    a_temps = evaluer(regle, jour, repas, limite.astimezone(UTC), SANS_FERIES)
    assert a_temps == Decision(True, limite)
    assert not a_temps.refusee

    # Late: accepted with +50 % from one second after the deadline...
    for maintenant in (limite + SECONDE, paris(2026, 1, 14, 20), paris(2026, 1, 15, 11, 44)):
        tardive = evaluer(regle, jour, repas, maintenant.astimezone(UTC), SANS_FERIES)
        assert tardive == Decision(False, limite, Retard(majoration_pourcent=50))
        assert not tardive.refusee
    tardive = evaluer(regle, jour, repas, (paris(2026, 1, 15, 11, 45) - SECONDE).astimezone(UTC), SANS_FERIES)
    assert tardive.majoration == Retard(majoration_pourcent=50)

    # ...until the meal starts: at its start and after, refused.
    for maintenant in (
        paris(2026, 1, 15, 11, 45),
        paris(2026, 1, 15, 11, 45) + SECONDE,
        paris(2026, 1, 16, 8),
    ):
        refusee = evaluer(regle, jour, repas, maintenant.astimezone(UTC), SANS_FERIES)
        assert refusee == Decision(False, limite)
        assert refusee.refusee


def test_majoration_en_centimes():
    regle = RegleDelai.creer("jour", time(18), decalage_jours=1, retard=Retard(majoration_cents=200))
    decision = evaluer(regle, date(2026, 1, 14), time(7, 30), utc(2026, 1, 13, 20), SANS_FERIES)
    assert decision == Decision(False, paris(2026, 1, 13, 18), Retard(majoration_cents=200))


# Andancette (CIVIL)


def test_andancette_reservation_vendredi_12h_pour_la_semaine_suivante():
    reservation = RegleDelai.creer("semaine_precedente", time(12, 0), jours_semaine=(5,))
    for jour in (date(2026, 1, 12), date(2026, 1, 14), date(2026, 1, 16)):
        assert_limite(reservation, jour, paris(2026, 1, 9, 12))
    # A Sunday belongs to the ISO week that started on the Monday before.
    assert_limite(reservation, date(2026, 1, 18), paris(2026, 1, 9, 12))


def test_andancette_annulation_la_veille_12h():
    annulation = RegleDelai.creer("jour", time(12, 0), decalage_jours=1)
    assert_limite(annulation, date(2026, 1, 14), paris(2026, 1, 13, 12))
    assert_limite(annulation, date(2026, 1, 12), paris(2026, 1, 11, 12))


def test_andancette_reservation_et_annulation_sont_deux_regles_distinctes():
    reservation = RegleDelai.creer("semaine_precedente", time(12, 0), jours_semaine=(5,))
    annulation = RegleDelai.creer("jour", time(12, 0), decalage_jours=1)
    jour = date(2026, 1, 14)
    maintenant = utc(2026, 1, 12, 9)  # Monday 12 January, 10:00 in Paris
    assert evaluer(reservation, jour, time(8), maintenant, SANS_FERIES).refusee
    assert evaluer(annulation, jour, time(8), maintenant, SANS_FERIES).a_temps


# Illkirch


def test_illkirch_annulation_16_jours_ouvres_et_inscription_15_jours_ouvres():
    annulation = RegleDelai.creer("jour", time(23, 59), decalage_jours=16, jours_ouvres=True)
    inscription = RegleDelai.creer("jour", time(23, 59), decalage_jours=15, jours_ouvres=True)
    jour = date(2026, 5, 20)  # a Wednesday after 1 May, 8 May and Ascension
    assert_limite(annulation, jour, paris(2026, 4, 23, 23, 59), CALENDRIER_2026)
    assert_limite(inscription, jour, paris(2026, 4, 24, 23, 59), CALENDRIER_2026)
    # Without the three public holidays it would be three working days later.
    assert annulation.limite(jour, SANS_FERIES) == paris(2026, 4, 28, 23, 59)
    assert inscription.limite(jour, SANS_FERIES) == paris(2026, 4, 29, 23, 59)


def test_illkirch_sans_ferie_trois_semaines_calendaires():
    annulation = RegleDelai.creer("jour", time(23, 59), decalage_jours=16, jours_ouvres=True)
    # Wednesday 18 February 2026 minus 16 working days: Tuesday 27 January.
    assert_limite(annulation, date(2026, 2, 18), paris(2026, 1, 27, 23, 59), CALENDRIER_2026)


# ParentPay


def test_parentpay_pas_de_changement_dans_les_4_jours_de_la_semaine():
    # "Until Thursday midnight for all of next week": Friday of the week before at 00:00.
    regle = RegleDelai.creer("semaine_precedente", time(0, 0), jours_semaine=(5,))
    for jour in (date(2026, 1, 12), date(2026, 1, 14), date(2026, 1, 16)):
        assert_limite(regle, jour, paris(2026, 1, 9, 0, 0))
    # Thursday 23:59:59 is on time, Friday 00:00:01 is late.
    assert evaluer(regle, date(2026, 1, 12), time(8), utc(2026, 1, 8, 22, 59, 59), SANS_FERIES).a_temps
    assert evaluer(regle, date(2026, 1, 12), time(8), utc(2026, 1, 8, 23, 0, 1), SANS_FERIES).refusee


# Noethys


def test_noethys_3000_plus_d_jour_de_la_semaine_s_moins_2():
    regle = RegleDelai.creer("semaine_s2", time(12, 0), jours_semaine=(3,))
    # Week of Monday 19 January 2026 → two weeks before: Wednesday 7 January.
    for jour in (date(2026, 1, 19), date(2026, 1, 21), date(2026, 1, 25)):
        assert_limite(regle, jour, paris(2026, 1, 7, 12))
    # Across a year boundary: week of Monday 5 January 2026 → Wednesday 24 December 2025.
    assert_limite(regle, date(2026, 1, 7), paris(2025, 12, 24, 12))


def test_noethys_2000_plus_d_avec_decalage():
    # The offset is subtracted from the anchor day: Tuesday of the week before, minus one day.
    regle = RegleDelai.creer("semaine_precedente", time(12, 0), decalage_jours=1, jours_semaine=(2,))
    assert_limite(regle, date(2026, 1, 14), paris(2026, 1, 5, 12))


def test_noethys_4000_plus_n_jour_du_mois_precedent():
    regle = RegleDelai.creer("mois_precedent", time(12, 0), jour_mois=15)
    assert_limite(regle, date(2026, 3, 10), paris(2026, 2, 15, 12))
    assert_limite(regle, date(2026, 3, 31), paris(2026, 2, 15, 12))
    assert_limite(regle, date(2026, 1, 2), paris(2025, 12, 15, 12))


@pytest.mark.parametrize(
    ("jour", "attendu"),
    [
        (date(2026, 3, 10), date(2026, 2, 28)),  # février de 28 jours
        (date(2028, 3, 10), date(2028, 2, 29)),  # février bissextile
        (date(2026, 5, 4), date(2026, 4, 30)),  # avril de 30 jours
        (date(2026, 10, 1), date(2026, 9, 30)),  # septembre de 30 jours
        (date(2026, 8, 31), date(2026, 7, 31)),  # juillet de 31 jours : pas de limitation
        (date(2027, 1, 15), date(2026, 12, 31)),  # changement d'année
    ],
)
def test_noethys_4000_plus_31_limite_a_la_longueur_du_mois(jour, attendu):
    regle = RegleDelai.creer("mois_precedent", time(18, 0), jour_mois=31)
    assert_limite(regle, jour, datetime.combine(attendu, time(18, 0), tzinfo=PARIS))


# Daylight saving time (Europe/Paris: 29 March 2026 and 25 October 2026)


def test_heure_d_ete_midi_le_lendemain_du_changement_est_10h_utc():
    regle = RegleDelai.creer("jour", time(12, 0), decalage_jours=1)
    jour = date(2026, 3, 31)
    limite = regle.limite(jour, SANS_FERIES)
    assert limite == utc(2026, 3, 30, 10)
    assert limite.utcoffset() == timedelta(hours=2)
    assert evaluer(regle, jour, time(8), utc(2026, 3, 30, 9, 59, 59), SANS_FERIES).a_temps
    assert evaluer(regle, jour, time(8), utc(2026, 3, 30, 10), SANS_FERIES).a_temps
    assert evaluer(regle, jour, time(8), utc(2026, 3, 30, 10, 0, 1), SANS_FERIES).refusee


def test_heure_d_ete_le_jour_du_changement_lui_meme():
    regle = RegleDelai.creer("jour", time(12, 0), decalage_jours=1)
    # Monday 30 March → Sunday 29 March (the change, at 02:00) at 12:00 CEST.
    assert regle.limite(date(2026, 3, 30), SANS_FERIES) == utc(2026, 3, 29, 10)


def test_heure_d_hiver_midi_le_lendemain_du_changement_est_11h_utc():
    regle = RegleDelai.creer("jour", time(12, 0), decalage_jours=1)
    jour = date(2026, 10, 27)
    limite = regle.limite(jour, SANS_FERIES)
    assert limite == utc(2026, 10, 26, 11)
    assert limite.utcoffset() == timedelta(hours=1)
    assert evaluer(regle, jour, time(8), utc(2026, 10, 26, 10, 59, 59), SANS_FERIES).a_temps
    assert evaluer(regle, jour, time(8), utc(2026, 10, 26, 11), SANS_FERIES).a_temps
    assert evaluer(regle, jour, time(8), utc(2026, 10, 26, 11, 0, 1), SANS_FERIES).refusee
    # The summer instant (10:00 UTC) would be an hour early: still on time then.
    assert evaluer(regle, jour, time(8), utc(2026, 10, 26, 10, 30), SANS_FERIES).a_temps


def test_heure_d_hiver_le_jour_du_changement_lui_meme():
    regle = RegleDelai.creer("jour", time(12, 0), decalage_jours=1)
    # Monday 26 October → Sunday 25 October (the change, at 03:00) at 12:00 CET.
    assert regle.limite(date(2026, 10, 26), SANS_FERIES) == utc(2026, 10, 25, 11)


def test_limite_en_hiver_pour_une_presence_en_ete_reste_a_l_heure_murale():
    # Presence Tuesday 31 March (CEST), deadline Thursday 26 March 12:00 (CET): 11:00 UTC,
    # not "the presence at 12:00 minus 5 × 24 h" (which would be 10:00 UTC).
    regle = RegleDelai.creer("semaine_precedente", time(12, 0), jours_semaine=(4,))
    jour = date(2026, 3, 31)
    limite = regle.limite(jour, SANS_FERIES)
    assert limite == utc(2026, 3, 26, 11)
    assert limite != a_paris(jour, time(12)).astimezone(UTC) - timedelta(days=5)
    assert evaluer(regle, jour, time(8), utc(2026, 3, 26, 10, 59, 59), SANS_FERIES).a_temps
    assert evaluer(regle, jour, time(8), utc(2026, 3, 26, 11, 0, 1), SANS_FERIES).refusee


def test_limite_en_ete_pour_une_presence_en_hiver_reste_a_l_heure_murale():
    # Presence Tuesday 27 October (CET), deadline Thursday 22 October 12:00 (CEST): 10:00 UTC.
    regle = RegleDelai.creer("semaine_precedente", time(12, 0), jours_semaine=(4,))
    jour = date(2026, 10, 27)
    limite = regle.limite(jour, SANS_FERIES)
    assert limite == utc(2026, 10, 22, 10)
    assert evaluer(regle, jour, time(8), utc(2026, 10, 22, 9, 59, 59), SANS_FERIES).a_temps
    assert evaluer(regle, jour, time(8), utc(2026, 10, 22, 10, 0, 1), SANS_FERIES).refusee


def test_retard_jusqu_au_debut_de_l_unite_le_lendemain_du_changement_d_heure():
    regle = RegleDelai.creer("jour", time(18, 0), decalage_jours=1, retard=Retard(majoration_pourcent=50))
    jour = date(2026, 3, 30)  # the unit starts at 07:30 CEST = 05:30 UTC
    assert evaluer(regle, jour, time(7, 30), utc(2026, 3, 30, 5, 29, 59), SANS_FERIES).majoration is not None
    assert evaluer(regle, jour, time(7, 30), utc(2026, 3, 30, 5, 30, 1), SANS_FERIES).refusee


def test_heure_inexistante_au_printemps_decalee_d_une_heure():
    # Documented behaviour of a_paris: 02:30 does not exist on 29 March 2026; it means 03:30 CEST.
    # (An instant in the gap never compares equal across zones (PEP 495): convert first.)
    assert a_paris(date(2026, 3, 29), time(2, 30)).astimezone(UTC) == utc(2026, 3, 29, 1, 30)


# Validation


def champs(erreur: pytest.ExceptionInfo[ErreurValidation]) -> list[str]:
    return [e.champ for e in erreur.value.erreurs]


def test_ancrage_inconnu():
    with pytest.raises(ErreurValidation) as erreur:
        RegleDelai.creer("semaine_suivante", time(12))
    assert champs(erreur) == ["ancrage"]


@pytest.mark.parametrize("ancrage", ["jour_semaine_precedent", "semaine_precedente", "semaine_s2"])
def test_jour_semaine_obligatoire_pour_les_ancrages_de_semaine(ancrage):
    with pytest.raises(ErreurValidation) as erreur:
        RegleDelai.creer(ancrage, time(12))
    assert champs(erreur) == ["jour_semaine"]


@pytest.mark.parametrize("jours", [(0,), (8,), (2, 9)])
def test_jour_semaine_entre_1_et_7(jours):
    with pytest.raises(ErreurValidation) as erreur:
        RegleDelai.creer("jour_semaine_precedent", time(12), jours_semaine=jours)
    assert "jour_semaine" in champs(erreur)


def test_un_seul_jour_pour_semaine_precedente():
    with pytest.raises(ErreurValidation) as erreur:
        RegleDelai.creer("semaine_precedente", time(12), jours_semaine=(2, 5))
    assert champs(erreur) == ["jour_semaine"]


@pytest.mark.parametrize("jour_mois", [None, 0, 32, -1])
def test_jour_mois_obligatoire_et_entre_1_et_31(jour_mois):
    with pytest.raises(ErreurValidation) as erreur:
        RegleDelai.creer("mois_precedent", time(12), jour_mois=jour_mois)
    assert champs(erreur) == ["jour_mois"]


@pytest.mark.parametrize(
    "retard",
    [Retard(), Retard(majoration_cents=100, majoration_pourcent=50), Retard(majoration_cents=-1)],
)
def test_retard_exactement_une_majoration_positive(retard):
    with pytest.raises(ErreurValidation) as erreur:
        RegleDelai.creer("jour", time(12), decalage_jours=1, retard=retard)
    assert champs(erreur) == ["retard"]


@pytest.mark.parametrize("decalage", [-1, 367])
def test_decalage_entre_0_et_366(decalage):
    with pytest.raises(ErreurValidation) as erreur:
        RegleDelai.creer("jour", time(12), decalage_jours=decalage)
    assert champs(erreur) == ["decalage_jours"]


def test_toutes_les_erreurs_sont_rapportees_ensemble():
    with pytest.raises(ErreurValidation) as erreur:
        RegleDelai.creer("semaine_s2", time(12), decalage_jours=-3, retard=Retard())
    assert sorted(champs(erreur)) == ["decalage_jours", "jour_semaine", "retard"]


def test_creer_normalise_les_jours():
    regle = RegleDelai.creer("jour_semaine_precedent", time(9), jours_semaine=(5, 2, 5), jours_exclus=(3, 3))
    assert regle.jours_semaine == (2, 5)
    assert regle.jours_exclus == (3,)


def test_regle_excluant_tous_les_jours_ouvres_refusee():
    with pytest.raises(ErreurValidation) as erreur:
        RegleDelai.creer("jour", time(12), decalage_jours=1, jours_ouvres=True, jours_exclus=(1, 2, 3, 4, 5))
    assert [e.champ for e in erreur.value.erreurs] == ["jours_exclus"]


def test_evaluer_compare_des_instants_meme_a_l_heure_d_hiver():
    # 2026-10-25 02:30 summer time is 00:30 UTC; 02:15 after the change (fold=1) is 01:15 UTC: late.
    regle = RegleDelai.creer("jour", time(2, 30))
    maintenant = datetime(2026, 10, 25, 2, 15, fold=1, tzinfo=PARIS)
    assert not evaluer(regle, date(2026, 10, 25), time(8, 0), maintenant, Calendrier()).a_temps
