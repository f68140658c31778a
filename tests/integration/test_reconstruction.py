"""A rebuild folds the whole log in memory and writes each read model once, by COPY; a runner
applying one event per page folds nothing across events. Both must leave every read model exactly
as the other does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql

from portail.bootstrap import construire_services
from portail.generation import ANNEE, HorlogeSimulee, generer
from portail.projections import brouillons, executeur, vues
from portail.projections.executeur import Projecteur

TABLES = (*vues.TABLES, "proj_brouillons", "proj_lignes_facture")


def _contenu(base) -> dict[str, list[str]]:
    with psycopg.connect(base.url) as conn:
        return {
            table: sorted(
                repr(ligne)
                for ligne in conn.execute(
                    sql.SQL("SELECT * FROM {}").format(sql.Identifier(base.schema, table))
                )
            )
            for table in TABLES
        }


@pytest.mark.postgres
def test_la_reconstruction_d_une_commune_generee_egale_le_suivi_incremental(
    settings, base, monkeypatch
) -> None:
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    services = construire_services(settings, base, horloge)
    try:
        # One event per page, caught up after every family and every month of the generated year.
        suiveur = Projecteur(services.portail, taille_page=1)
        generer(services, horloge, 12, 5, lambda _etape, _fait, _total: suiveur.rattraper())
        suiveur.rattraper()
        incremental = _contenu(base)
        assert all(
            incremental[t] for t in ("proj_calendrier", "proj_factures", "proj_brouillons", "proj_enfants")
        )

        # The replay folds the drafts' facts only; they are priced by the next catch-up.
        reconstructeur = Projecteur(services.portail)
        relus = reconstructeur.reconstruire(brouillons=False)
        assert relus == services.portail.recorder.max_notification_id()
        assert _contenu(base)["proj_brouillons"] == []
        # Priced and written a few family-months at a time (the whole commune's lines are never
        # held at once): the same rows as the page-by-page runner's.
        monkeypatch.setattr(executeur, "BROUILLONS_PAR_TRANSACTION", 3)
        ecrire = brouillons.Brouillons.ecrire_colonnes
        lots: list[int] = []

        def compter(self, curs, touches, effaces, colonnes):  # type: ignore[no-untyped-def]
            lots.append(len(touches))
            ecrire(self, curs, touches, effaces, colonnes)

        monkeypatch.setattr(brouillons.Brouillons, "ecrire_colonnes", compter)
        assert reconstructeur.rattraper() == 0
        assert len(lots) > 2 and max(lots) < 3 + 12

        reconstruit = _contenu(base)
        assert {t: len(reconstruit[t]) for t in TABLES} == {t: len(incremental[t]) for t in TABLES}
        for table in TABLES:
            assert reconstruit[table] == incremental[table], table
    finally:
        services.portail.close()


def test_les_tables_comparees_sont_toutes_les_vues() -> None:
    ddl = " ".join([*vues.ddl("s"), *brouillons.ddl("s")])
    creees = {
        mot.split("(")[0].removeprefix("s.").rstrip(";")
        for mot in ddl.split()
        if mot.startswith("s.proj_") and not mot.startswith("s.proj_campagne_familles")
    }
    # A campaign's copy of the drafts is what they were at its position: a rebuild keeps it (the
    # earlier version's copies are carried into it once, their table dropped).
    assert creees - {"proj_tracking", "proj_campagne_copies"} == set(TABLES)


@pytest.mark.postgres
def test_des_brouillons_longs_a_calculer_ne_laissent_pas_de_transaction_inactive(
    settings, base, monkeypatch
) -> None:
    """Pricing a large commune's drafts takes longer than PostgreSQL lets a transaction stay idle
    (the library sets 5 s): it is done before the transaction that writes them."""
    monkeypatch.setenv("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "1")
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    services = construire_services(settings, base, horloge)
    try:
        generer(services, horloge, 3, 2, lambda _etape, _fait, _total: None)
        projecteur = Projecteur(services.portail)
        projecteur.reconstruire(brouillons=False)
        facturer = brouillons.facturer_famille

        def lent(*args, **kwargs):  # type: ignore[no-untyped-def]
            if not getattr(lent, "fait", False):
                lent.fait = True  # type: ignore[attr-defined]
                import time

                time.sleep(1.5)
            return facturer(*args, **kwargs)

        monkeypatch.setattr(brouillons, "facturer_famille", lent)
        projecteur.rattraper()
        assert _contenu(base)["proj_brouillons"]
    finally:
        services.portail.close()


@pytest.mark.postgres
def test_un_second_runner_distance_relit_depuis_la_position_et_n_applique_rien_deux_fois(
    settings, base
) -> None:
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    services = construire_services(settings, base, horloge)
    try:
        generer(services, horloge, 3, 2, lambda _etape, _fait, _total: None)
        tete = services.portail.recorder.max_notification_id()
        # Both start from an empty read model; the second reads its pages ahead, three events each.
        premier = Projecteur(services.portail, taille_page=1000)
        second = Projecteur(services.portail, taille_page=3)
        assert premier.rattraper() == tete
        apres_premier = _contenu(base)

        # The second's first page finds the position moved: the page it read ahead is dropped and it
        # rereads from where the first left the log, which is its end.
        assert second.rattraper() == 0
        assert second.position == tete
        assert _contenu(base) == apres_premier
        with psycopg.connect(base.url) as conn:
            (position,) = conn.execute(
                sql.SQL("SELECT position FROM {} WHERE nom = 'principal'").format(
                    sql.Identifier(base.schema, "proj_tracking")
                )
            ).fetchone()
        assert position == tete
    finally:
        services.portail.close()


@contextmanager
def _commune_suivie(settings, base) -> Iterator[tuple[Any, dict[str, list[str]]]]:
    """A small generated commune whose views the runner has caught up, and those views."""
    horloge = HorlogeSimulee(datetime(ANNEE, 6, 1, 8, tzinfo=UTC))
    services = construire_services(settings, base, horloge)
    try:
        generer(services, horloge, 3, 2, lambda _etape, _fait, _total: None)
        Projecteur(services.portail).rattraper()
        yield services, _contenu(base)
    finally:
        services.portail.close()


@pytest.mark.postgres
def test_une_reconstruction_devancee_par_un_autre_runner_laisse_ses_lignes(settings, base) -> None:
    """The replay folds the whole log before writing anything: a runner that catches up page by
    page meanwhile moves the position first, and the replay then writes nothing (its COPY would
    find the rows there) and goes on from that position."""
    with _commune_suivie(settings, base) as (services, attendu):
        tete = services.portail.recorder.max_notification_id()

        reconstructeur = Projecteur(services.portail, taille_page=50)
        pages = []

        def apres_une_page(n: int) -> None:
            pages.append(n)
            if len(pages) == 1:
                # The views were emptied and the position set to 0: a runner that starts now
                # replays them page by page before the rebuild is done.
                assert Projecteur(services.portail, taille_page=7).rattraper() == tete

        reconstructeur.reconstruire(apres_une_page)
        assert len(pages) > 1
        assert reconstructeur.position == tete
        assert _contenu(base) == attendu


@pytest.mark.postgres
def test_une_reconstruction_interrompue_n_ecrit_rien_et_la_suivante_repart_de_zero(settings, base) -> None:
    with _commune_suivie(settings, base) as (services, attendu):
        reconstructeur = Projecteur(services.portail, taille_page=50)
        # Stopped after its first page (the process is asked to stop): the fold is dropped.
        assert reconstructeur.reconstruire(lambda _n: reconstructeur._arret.set()) == 0
        vide = _contenu(base)
        assert vide["proj_calendrier"] == [] and vide["proj_factures"] == []
        assert not reconstructeur.pret()

        suivant = Projecteur(services.portail)
        suivant.rattraper()
        assert suivant.pret()
        assert _contenu(base) == attendu


@pytest.mark.postgres
def test_une_ecriture_de_reconstruction_qui_echoue_ne_laisse_rien_et_le_runner_repart(
    settings, base, monkeypatch
) -> None:
    with _commune_suivie(settings, base) as (services, attendu):
        from portail.projections import lot as module_lot

        copier = module_lot.Lot.copier

        def echoue(self, curs):  # type: ignore[no-untyped-def]
            copier(self, curs)
            raise RuntimeError("connexion perdue pendant la copie")

        monkeypatch.setattr(module_lot.Lot, "copier", echoue)
        reconstructeur = Projecteur(services.portail)
        with pytest.raises(RuntimeError, match="pendant la copie"):
            reconstructeur.reconstruire()
        # Rolled back whole: the views empty at position 0, not ready.
        assert _contenu(base)["proj_calendrier"] == []
        assert not reconstructeur.pret()

        monkeypatch.setattr(module_lot.Lot, "copier", copier)
        reconstructeur.rattraper()
        assert reconstructeur.pret()
        assert _contenu(base) == attendu
