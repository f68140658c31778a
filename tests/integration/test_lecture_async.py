"""The event loop's reads (`store.lecture.LecteurAsync`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date
from typing import Any

from portail.application.contexte import Contexte
from portail.application.portail import LECTURES_EN_VOL
from portail.bootstrap import Services
from portail.domain.enfant import Enfant
from portail.domain.erreurs import Introuvable
from portail.domain.personnes import IdentiteEnfant, Scolarite
from portail.store.database import BaseDeDonnees
from portail.store.lecture import LecteurAsync

CTX = Contexte.systeme("test")


def _enfants_enregistres(services: Services, nombre: int) -> list[Enfant]:
    enfants = [
        Enfant(
            famille_id=uuid.uuid4(),
            identite=IdentiteEnfant("Martin", f"Enfant {n}", date(2018, 5, 4), "Nantes"),
            scolarite=Scolarite("École Jules Ferry", None, None),
        )
        for n in range(nombre)
    ]
    for enfant in enfants:
        services.portail.enregistrer(CTX, enfant)
    return enfants


def test_la_lecture_d_un_agregat_sur_la_boucle_garde_son_plan_d_un_appel_a_l_autre(
    services: Services, base: BaseDeDonnees
) -> None:
    """An aggregate's read takes its ids as an array: under PostgreSQL's default, its prepared
    statement would be planned again at each execution, for more than it takes to run."""
    portail = services.portail
    enfants = _enfants_enregistres(services, 8)

    async def lire() -> tuple[list[list[uuid.UUID]], list[dict[str, object]]]:
        # One connection: the prepared statements looked at are those the reads used.
        lecteur = LecteurAsync(base.url, 1)
        await lecteur.ouvrir()
        try:
            lus = []
            for enfant in enfants:
                instruction = portail.repository.instruction_lignes([enfant.id])  # type: ignore[attr-defined]
                assert instruction is not None
                _, requete, parametres = instruction
                rangees = await lecteur.tuples(requete, parametres, binaire=True)
                lus.append([r[1] for r in rangees if r[0] == 1])
            plans = await lecteur.lignes(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
                ("%originator_version > coalesce%",),
            )
            return lus, [dict(p) for p in plans]
        finally:
            await lecteur.fermer()

    lus, plans = asyncio.run(lire())
    assert lus == [[e.id] for e in enfants]
    assert len(plans) == 1
    assert plans[0]["custom_plans"] == 0
    assert plans[0]["generic_plans"] == len(enfants)


def test_la_lecture_d_un_agregat_hors_de_la_boucle_garde_aussi_son_plan(services: Services) -> None:
    """The same read from a thread (a command's first read of a child, `RepositoryCache`), on a
    connection of the library's pool."""
    portail = services.portail
    enfants = _enfants_enregistres(services, 8)
    datastore: Any = portail.factory.datastore
    with datastore.get_connection() as conn:
        lus = []
        for enfant in enfants:
            instruction = portail.repository.instruction_lignes([enfant.id])  # type: ignore[attr-defined]
            assert instruction is not None
            _, requete, parametres = instruction
            with conn.cursor(binary=True) as curs:
                rangees = curs.execute(requete, parametres, prepare=True).fetchall()
            lus.append([r["originator_id"] for r in rangees if r["n"] == 1])
        plans = conn.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ("%originator_version > coalesce%",),
        ).fetchall()
    assert lus == [[e.id] for e in enfants]
    assert len(plans) == 1
    assert plans[0]["custom_plans"] == 0
    assert plans[0]["generic_plans"] == len(enfants)


class _LecteurCompte(LecteurAsync):
    """Counts the statements of aggregate reads, and the ids each asked for."""

    def __init__(self, url: str, taille: int) -> None:
        super().__init__(url, taille)
        self.lectures: list[list[uuid.UUID]] = []

    async def tuples(
        self, requete: str, parametres: Any = (), *, binaire: bool = False
    ) -> list[tuple[Any, ...]]:
        if isinstance(parametres, dict) and "ids" in parametres:
            self.lectures.append(list(parametres["ids"]))
        return await super().tuples(requete, parametres, binaire=binaire)


def test_les_lectures_simultanees_de_la_boucle_partent_ensemble(
    services: Services, base: BaseDeDonnees
) -> None:
    """Nine requests reading a child the process does not keep, at once (a registration
    morning): the first `LECTURES_EN_VOL` are read each by its statement, the others, asked for
    while those were on their way, in one statement; each gets its own child, and a child that
    does not exist is not found."""
    portail = services.portail
    enfants = _enfants_enregistres(services, 8)
    portail.ecouter_journal()
    fin = time.monotonic() + 15
    while not (portail.cache.fiable and portail.trousseau.cache_fiable()) and time.monotonic() < fin:
        time.sleep(0.02)
    portail.cache.retirer([e.id for e in enfants])
    inconnu = uuid.uuid4()

    async def lire() -> tuple[list[Any], list[list[uuid.UUID]]]:
        lecteur = _LecteurCompte(base.url, 4)
        await lecteur.ouvrir()
        try:
            lus = await asyncio.gather(
                *(portail.lire_async(Enfant, e.id, lecteur) for e in enfants),
                portail.lire_async(Enfant, inconnu, lecteur),
                return_exceptions=True,
            )
            return lus, lecteur.lectures
        finally:
            await lecteur.fermer()

    lus, lectures = asyncio.run(lire())
    assert [e.identite.prenom for e in lus[:8]] == [f"Enfant {n}" for n in range(8)]
    assert isinstance(lus[8], Introuvable)
    assert len(enfants) > LECTURES_EN_VOL
    assert lectures == [
        *([e.id] for e in enfants[:LECTURES_EN_VOL]),
        [*(e.id for e in enfants[LECTURES_EN_VOL:]), inconnu],
    ]
