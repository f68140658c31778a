"""Properties of the deadline rules: bounded by the unit start, monotone, working days really
working, and `evaluer` agreeing with `limite`.

Instants are compared in UTC: two datetimes sharing the Europe/Paris tzinfo compare by wall-clock
time in Python, which is not the order of the instants around a DST change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from portail.domain.regles.calendrier import PARIS, Calendrier, lundi
from portail.domain.regles.delais import Ancrage, RegleDelai, Retard, a_paris, evaluer

JOURS = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
HEURES = st.times()
# Without the hour skipped in spring (02:00-03:00 on the last Sunday of March), the wall-clock
# order of two times of a day is the order of the instants.
HEURES_EXISTANTES = st.times().filter(lambda h: h.hour != 2)
RETARDS = st.one_of(
    st.none(),
    st.integers(0, 100).map(lambda p: Retard(majoration_pourcent=p)),
    st.integers(0, 10_000).map(lambda c: Retard(majoration_cents=c)),
)
# At most four excluded weekdays among Monday-Friday, so that a working day always exists.
JOURS_EXCLUS = st.sets(st.integers(1, 7), max_size=6).filter(lambda s: len(s & {1, 2, 3, 4, 5}) <= 4)


def en_utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


@st.composite
def regles(
    draw: st.DrawFn, ancrage: Ancrage | None = None, heures: st.SearchStrategy[time] = HEURES
) -> RegleDelai:
    a = ancrage or draw(st.sampled_from(list(Ancrage)))
    if a is Ancrage.JOUR_SEMAINE_PRECEDENT:
        jours_semaine = tuple(draw(st.sets(st.integers(1, 7), min_size=1)))
    elif a in (Ancrage.SEMAINE_PRECEDENTE, Ancrage.SEMAINE_S2):
        jours_semaine = (draw(st.integers(1, 7)),)
    else:
        jours_semaine = ()
    return RegleDelai.creer(
        a.value,
        draw(heures),
        decalage_jours=draw(st.integers(0, 40)),
        jours_ouvres=draw(st.booleans()),
        jours_semaine=jours_semaine,
        jour_mois=draw(st.integers(1, 31)) if a is Ancrage.MOIS_PRECEDENT else None,
        jours_exclus=tuple(draw(JOURS_EXCLUS)),
        retard=draw(RETARDS),
    )


@st.composite
def calendriers(draw: st.DrawFn, autour: date) -> Calendrier:
    """Public holidays in the ninety days before `autour` (where the deadlines fall)."""
    decalages = draw(st.sets(st.integers(0, 90), max_size=20))
    return Calendrier(jours_feries=frozenset(autour - timedelta(days=k) for k in decalages))


def jours_ouvres_entre(debut: date, fin: date, calendrier: Calendrier, exclus: frozenset[int]) -> int:
    """Working days in [debut, fin), counted independently of the code under test."""
    n = 0
    jour = debut
    while jour < fin:
        if jour.weekday() < 5 and jour not in calendrier.jours_feries and jour.isoweekday() not in exclus:
            n += 1
        jour += timedelta(days=1)
    return n


# Bounded by the presence


@given(
    data=st.data(),
    regle=regles(Ancrage.JOUR, heures=HEURES_EXISTANTES),
    jour=JOURS,
    debut=HEURES_EXISTANTES,
)
def test_ancrage_jour_jamais_apres_le_debut_de_l_unite(data, regle, jour, debut):
    calendrier = data.draw(calendriers(jour))
    limite = regle.limite(jour, calendrier)
    if regle.heure_limite <= debut:
        assert en_utc(limite) <= en_utc(a_paris(jour, debut))
    if regle.decalage_jours >= 1:
        # A whole day before: whatever the hours, before any unit of the day starts.
        assert en_utc(limite) < en_utc(a_paris(jour, time(0, 0)))


@given(data=st.data(), regle=regles(), jour=JOURS)
def test_jour_limite_jamais_apres_la_presence(data, regle, jour):
    calendrier = data.draw(calendriers(jour))
    jour_limite = regle.jour_limite(jour, calendrier)
    if regle.ancrage is Ancrage.JOUR:
        assert jour_limite <= jour
        if regle.decalage_jours >= 1:
            assert jour_limite < jour
    else:
        # Week and month anchors always close on an earlier day.
        assert jour_limite < jour


# Monotone


@given(data=st.data(), ancrage=st.sampled_from(list(Ancrage)), jour=JOURS, ecart=st.integers(0, 400))
def test_une_presence_plus_tardive_n_a_jamais_une_limite_plus_tot(data, ancrage, jour, ecart):
    regle = data.draw(regles(ancrage))
    plus_tard = jour + timedelta(days=ecart)
    calendrier = data.draw(calendriers(plus_tard))
    assert regle.jour_limite(jour, calendrier) <= regle.jour_limite(plus_tard, calendrier)
    assert en_utc(regle.limite(jour, calendrier)) <= en_utc(regle.limite(plus_tard, calendrier))


@given(
    data=st.data(),
    ancrage=st.sampled_from([Ancrage.SEMAINE_PRECEDENTE, Ancrage.SEMAINE_S2]),
    jour=JOURS,
    autre=st.integers(0, 6),
)
def test_tous_les_jours_d_une_semaine_ont_la_meme_limite(data, ancrage, jour, autre):
    regle = data.draw(regles(ancrage))
    calendrier = data.draw(calendriers(jour))
    meme_semaine = lundi(jour) + timedelta(days=autre)
    assert regle.limite(jour, calendrier) == regle.limite(meme_semaine, calendrier)
    semaines = 1 if ancrage is Ancrage.SEMAINE_PRECEDENTE else 2
    attendu = lundi(jour) - timedelta(
        weeks=semaines, days=regle.decalage_jours - (regle.jours_semaine[0] - 1)
    )
    assert regle.jour_limite(jour, calendrier) == attendu


@given(regle=regles(Ancrage.MOIS_PRECEDENT), jour=JOURS)
def test_mois_precedent_tombe_dans_le_mois_precedent(regle, jour):
    jour_limite = regle.jour_limite(jour, Calendrier()) + timedelta(days=regle.decalage_jours)
    mois_precedent = jour.replace(day=1) - timedelta(days=1)
    assert (jour_limite.year, jour_limite.month) == (mois_precedent.year, mois_precedent.month)
    assert regle.jour_mois is not None
    assert jour_limite.day == min(regle.jour_mois, mois_precedent.day)


@given(regle=regles(Ancrage.JOUR_SEMAINE_PRECEDENT), jour=JOURS)
def test_jour_semaine_precedent_est_le_dernier_jour_choisi_avant_la_presence(regle, jour):
    ancre = regle.jour_limite(jour, Calendrier()) + timedelta(days=regle.decalage_jours)
    assert ancre.isoweekday() in regle.jours_semaine
    assert jour - timedelta(days=7) <= ancre < jour
    entre = [ancre + timedelta(days=k) for k in range(1, (jour - ancre).days)]
    assert all(j.isoweekday() not in regle.jours_semaine for j in entre)


# Working days


@given(
    data=st.data(),
    jour=JOURS,
    decalage=st.integers(1, 40),
    exclus=JOURS_EXCLUS,
    heure=HEURES,
)
def test_decalage_en_jours_ouvres_ne_tombe_jamais_un_week_end_ni_un_jour_ferie(
    data, jour, decalage, exclus, heure
):
    calendrier = data.draw(calendriers(jour))
    regle = RegleDelai.creer(
        "jour", heure, decalage_jours=decalage, jours_ouvres=True, jours_exclus=tuple(exclus)
    )
    jour_limite = regle.jour_limite(jour, calendrier)
    assert jour_limite.isoweekday() <= 5
    assert jour_limite not in calendrier.jours_feries
    assert jour_limite.isoweekday() not in exclus
    # Exactly `decalage` working days from the deadline day (included) to the presence (excluded).
    assert jours_ouvres_entre(jour_limite, jour, calendrier, frozenset(exclus)) == decalage


@given(jour=JOURS, decalage=st.integers(0, 366), heure=HEURES)
def test_decalage_calendaire_soustrait_des_jours(jour, decalage, heure):
    regle = RegleDelai.creer("jour", heure, decalage_jours=decalage)
    assert regle.jour_limite(jour, Calendrier()) == jour - timedelta(days=decalage)


# evaluer agrees with limite


@given(
    data=st.data(),
    regle=regles(),
    jour=JOURS,
    debut=HEURES,
    ecart=st.integers(-3 * 86_400, 3 * 86_400),
)
def test_evaluer_a_temps_si_et_seulement_si_avant_la_limite(data, regle, jour, debut, ecart):
    calendrier = data.draw(calendriers(jour))
    limite = regle.limite(jour, calendrier)
    maintenant = en_utc(limite) + timedelta(seconds=ecart)
    decision = evaluer(regle, jour, debut, maintenant, calendrier)
    assert decision.limite == limite
    assert decision.a_temps == (ecart <= 0)
    tardive_acceptee = (
        not decision.a_temps and regle.retard is not None and maintenant < en_utc(a_paris(jour, debut))
    )
    assert decision.majoration == (regle.retard if tardive_acceptee else None)
    assert decision.refusee == (not decision.a_temps and not tardive_acceptee)


@given(
    data=st.data(),
    regle=regles(),
    jour=JOURS,
    debut=HEURES,
    maintenant=st.datetimes(
        min_value=datetime(1999, 1, 1), max_value=datetime(2041, 12, 31), timezones=st.just(UTC)
    ),
)
def test_evaluer_pour_un_instant_quelconque(data, regle, jour, debut, maintenant):
    calendrier = data.draw(calendriers(jour))
    decision = evaluer(regle, jour, debut, maintenant, calendrier)
    assert decision.a_temps == (maintenant <= en_utc(regle.limite(jour, calendrier)))
    if decision.a_temps:
        assert decision.majoration is None
        assert not decision.refusee


@given(
    jour=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)).filter(
        lambda d: d.month in (3, 4, 10, 11)
    ),
    heure=st.times().map(lambda t: t.replace(second=0, microsecond=0)).filter(lambda t: not 2 <= t.hour < 3),
    ancrage=st.sampled_from(["jour", "semaine_precedente", "jour_semaine_precedent", "mois_precedent"]),
    decalage=st.integers(min_value=0, max_value=10),
)
def test_limite_a_l_heure_murale_de_paris_des_deux_cotes_des_changements_d_heure(
    jour, heure, ancrage, decalage
):
    regle = RegleDelai.creer(
        ancrage,
        heure,
        decalage_jours=decalage if ancrage == "jour" else 0,
        jours_semaine=(4,) if ancrage in ("semaine_precedente", "jour_semaine_precedent") else (),
        jour_mois=15 if ancrage == "mois_precedent" else None,
    )
    limite = regle.limite(jour, Calendrier())
    locale = limite.astimezone(PARIS)
    # Whatever side of a change the deadline and the presence fall on, the deadline is the
    # announced wall-clock time in Paris, with that day's offset (+1 h in winter, +2 h in summer).
    assert (locale.hour, locale.minute) == (heure.hour, heure.minute)
    ete = datetime(locale.year, 3, 31, tzinfo=UTC) - timedelta(
        days=(datetime(locale.year, 3, 31).weekday() + 1) % 7
    )
    hiver = datetime(locale.year, 10, 31, tzinfo=UTC) - timedelta(
        days=(datetime(locale.year, 10, 31).weekday() + 1) % 7
    )
    attendu = 2 if ete.date() < locale.date() < hiver.date() else 1
    if locale.date() not in (ete.date(), hiver.date()):
        assert locale.utcoffset() == timedelta(hours=attendu)
    instant = limite.astimezone(UTC)
    assert evaluer(regle, jour, time(23, 59), instant, Calendrier()).a_temps
    assert not evaluer(regle, jour, time(0, 0), instant + timedelta(seconds=1), Calendrier()).a_temps
