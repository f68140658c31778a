"""The event loop's reads (`store.lecture.LecteurAsync`)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from portail.application.contexte import Contexte
from portail.bootstrap import Services
from portail.domain.enfant import Enfant
from portail.domain.personnes import IdentiteEnfant, Scolarite
from portail.store.database import BaseDeDonnees
from portail.store.lecture import LecteurAsync

CTX = Contexte.systeme("test")


def test_la_lecture_d_un_agregat_sur_la_boucle_garde_son_plan_d_un_appel_a_l_autre(
    services: Services, base: BaseDeDonnees
) -> None:
    """An aggregate's read takes its ids as an array: under PostgreSQL's default, its prepared
    statement would be planned again at each execution, for more than it takes to run."""
    portail = services.portail
    enfants = [
        Enfant(
            famille_id=uuid.uuid4(),
            identite=IdentiteEnfant("Martin", f"Enfant {n}", date(2018, 5, 4), "Nantes"),
            scolarite=Scolarite("École Jules Ferry", None, None),
        )
        for n in range(8)
    ]
    for enfant in enfants:
        portail.enregistrer(CTX, enfant)

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
