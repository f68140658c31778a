"""The family-by-family fold finds every event of a family's children, also those the log does
not mark with the family."""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg import sql

from outils_services import inscrire_famille
from portail.application.contexte import Contexte
from portail.domain.enfant import Enfant
from portail.domain.personnes import IdentiteEnfant, Sante, Scolarite

CTX = Contexte.systeme("test")


def test_un_evenement_d_enfant_sans_la_colonne_famille_est_dans_le_pli_de_sa_famille(services, base) -> None:
    famille_id = inscrire_famille(services, CTX)
    enfant = Enfant(
        famille_id=famille_id,
        identite=IdentiteEnfant("Martin", "Léa", date(2017, 3, 1)),
        scolarite=Scolarite(),
    )
    enfant.modifier_sante(Sante(pai=True), date(2025, 9, 1))
    services.portail.enregistrer(CTX, enfant)
    position = services.portail.recorder.max_notification_id()

    # As generated communes hold them: some of a child's later events without the family column
    # (their link was recorded without the family; how is not established).
    with psycopg.connect(base.url) as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET famille_id = NULL WHERE originator_id = %s AND topic = %s").format(
                sql.Identifier(base.schema, "portail_events")
            ),
            (enfant.id, Enfant.SanteModifiee.TOPIC),
        )

    [(lue, aggregats, _)] = list(services.facturation.pliage.familles(position, [famille_id]))
    assert lue == famille_id
    pli = aggregats[enfant.id]
    assert isinstance(pli, Enfant)
    assert pli.sante is not None and pli.sante.pai
