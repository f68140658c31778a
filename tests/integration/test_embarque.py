"""The embedded PostgreSQL of `portail serve`: starts in a data folder, keeps data across restarts."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from portail.application.contexte import Contexte
from portail.application.familles import ServiceFamilles
from portail.application.portail import Portail
from portail.domain.famille import Famille
from portail.domain.personnes import Responsable
from portail.domain.valeurs import Adresse, Civilite
from portail.settings import Settings
from portail.store.database import BaseDeDonnees


def test_les_donnees_survivent_a_un_redemarrage(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    cle = os.urandom(32)
    base = BaseDeDonnees.ouvrir(settings)
    assert (tmp_path / "var" / "pgdata" / "PG_VERSION").exists()
    portail = Portail(env=base.env_eventsourcing(2, 2), cle_maitre=cle)
    famille = Famille(
        responsable=Responsable(Civilite.MME, "Durand", "Alice", "0612345678"),
        adresse=Adresse.creer("1 rue A", "44000", "Nantes"),
    )
    portail.enregistrer(Contexte.systeme("test"), famille)
    ServiceFamilles(portail).enregistrer_quotient(
        Contexte.systeme("test"), famille.id, 512, date(2026, 1, 1), "caf"
    )
    portail.close()
    base.fermer()

    base = BaseDeDonnees.ouvrir(settings)
    portail = Portail(env=base.env_eventsourcing(2, 2), cle_maitre=cle)
    try:
        relue = portail.charger(Famille, famille.id)
        assert relue.responsable is not None
        assert relue.responsable.nom == "Durand"
        assert relue.quotients[0].valeur == 512
    finally:
        portail.close()
        base.fermer()
