"""Every event of a family's children carries the family column, which the family-by-family fold
and the auditors' filter read by."""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg import sql

from outils_services import inscrire_famille
from portail.application.contexte import Contexte
from portail.domain.enfant import Enfant
from portail.domain.personnes import IdentiteEnfant, Sante, Scolarite
from portail.store.pliage import FamillesPliees

CTX = Contexte.systeme("test")


def test_un_lien_enregistre_sans_famille_est_repare_au_demarrage(services, base) -> None:
    """A log written by the earlier save function: a child's link and its later events without the
    family column. The next start gives them back their family; the billing fold (which reads by
    that column) then sees the child's PAI, and the auditors' family filter lists the event."""
    famille_id = inscrire_famille(services, CTX)
    enfant = Enfant(
        famille_id=famille_id,
        identite=IdentiteEnfant("Martin", "Léa", date(2017, 3, 1)),
        scolarite=Scolarite(),
    )
    enfant.modifier_sante(Sante(pai=True), date(2025, 9, 1))
    services.portail.enregistrer(CTX, enfant)
    position = services.portail.recorder.max_notification_id()

    evenements = sql.Identifier(base.schema, "portail_events")
    with psycopg.connect(base.url) as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET famille_id = NULL WHERE agregat_id = %s").format(
                sql.Identifier(base.schema, "portail_sujets")
            ),
            (enfant.id,),
        )
        conn.execute(
            sql.SQL("UPDATE {} SET famille_id = NULL WHERE originator_id = %s AND topic = %s").format(
                evenements
            ),
            (enfant.id, Enfant.SanteModifiee.TOPIC),
        )

    services.portail.recorder.create_table()

    with psycopg.connect(base.url) as conn:
        familles = conn.execute(
            sql.SQL("SELECT DISTINCT famille_id FROM {} WHERE originator_id = %s").format(evenements),
            (enfant.id,),
        ).fetchall()
        lien = conn.execute(
            sql.SQL("SELECT famille_id FROM {} WHERE agregat_id = %s").format(
                sql.Identifier(base.schema, "portail_sujets")
            ),
            (enfant.id,),
        ).fetchone()
    assert familles == [(famille_id,)]
    assert lien == (famille_id,)
    [(lue, aggregats, _)] = list(services.facturation.pliage.familles(position, [famille_id]))
    assert lue == famille_id
    pli = aggregats[enfant.id]
    assert isinstance(pli, Enfant)
    assert pli.sante is not None and pli.sante.pai


def test_les_evenements_des_enfants_enregistres_ensemble_portent_leur_famille(services, base) -> None:
    """A save holding several children's registration and health record at once (a family's file
    entered in one go): every event carries the family, which the auditors filter by and the
    billing fold reads by."""
    famille_id = inscrire_famille(services, CTX)
    enfants = []
    for rang in range(24):
        enfant = Enfant(
            famille_id=famille_id,
            identite=IdentiteEnfant("Martin", f"Enfant {rang}", date(2017, 3, 1)),
            scolarite=Scolarite(),
        )
        enfant.modifier_sante(Sante(pai=rang % 2 == 0), date(2025, 9, 1))
        enfants.append(enfant)
    services.portail.enregistrer(CTX, *enfants)

    with psycopg.connect(base.url) as conn:
        sans_famille = conn.execute(
            sql.SQL(
                "SELECT count(*) FROM {} WHERE originator_id = ANY(%s) AND famille_id IS DISTINCT FROM %s"
            ).format(sql.Identifier(base.schema, "portail_events")),
            ([e.id for e in enfants], famille_id),
        ).fetchone()
    assert sans_famille == (0,)


def test_un_lot_melant_une_famille_gardee_et_une_nouvelle_plie_chacune_comme_depuis_le_debut(
    services,
) -> None:
    """The runner's batch of families: one kept folded since an earlier position (read from there
    on), another never folded (read from the start). Each comes out as a fold of the whole log
    would give it: the kept one with its later change, the new one with all its events."""
    pliage = services.facturation.pliage
    gardee = inscrire_famille(services, CTX)
    lea = Enfant(
        famille_id=gardee, identite=IdentiteEnfant("Martin", "Léa", date(2017, 3, 1)), scolarite=Scolarite()
    )
    services.portail.enregistrer(CTX, lea)
    plis = FamillesPliees()
    avant = services.portail.recorder.max_notification_id()
    list(pliage.familles(avant, [gardee], plis=plis))
    assert plis.contient(gardee)

    lea = services.portail.lire(Enfant, lea.id)
    lea.modifier_sante(Sante(pai=True), date(2025, 9, 1))
    services.portail.enregistrer(CTX, lea)
    nouvelle = inscrire_famille(services, CTX)
    tom = Enfant(
        famille_id=nouvelle, identite=IdentiteEnfant("Durand", "Tom", date(2016, 5, 2)), scolarite=Scolarite()
    )
    tom.modifier_sante(Sante(allergies=("arachide",)), date(2025, 9, 1))
    services.portail.enregistrer(CTX, tom)
    position = services.portail.recorder.max_notification_id()

    plies = {f: etat for f, etat, _ in pliage.familles(position, [gardee, nouvelle], plis=plis)}
    depuis_le_debut = {f: etat for f, etat, _ in pliage.familles(position, [gardee, nouvelle])}

    for famille_id in (gardee, nouvelle):
        assert {i: a.version for i, a in plies[famille_id].items()} == {
            i: a.version for i, a in depuis_le_debut[famille_id].items()
        }
    assert plies[gardee][lea.id].sante.pai
    assert plies[nouvelle][tom.id].sante.allergies == ("arachide",)
    assert plies[nouvelle][nouvelle].version == depuis_le_debut[nouvelle][nouvelle].version
