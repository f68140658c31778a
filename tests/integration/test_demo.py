"""`portail demo` (what `make run` fills): the régie every invoice field needs, and last month
billed to the Peje family, whose invoice downloads complete."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, timedelta

import pypdf
import pytest

from portail.application.contexte import horloge_systeme
from portail.application.familles import PARIS
from portail.application.impression import facture_imprimee
from portail.application.pdf import facture_pdf
from portail.bootstrap import construire_services
from portail.demo import JOUR_ETE, PARENT, VOISINS, mois_facture, remplir


def test_le_mois_facture_est_le_mois_dernier_de_l_annee_de_la_demo() -> None:
    assert mois_facture(date(2026, 12, 2)) == date(2026, 11, 1)
    assert mois_facture(date(2027, 1, 31)) == date(2026, 12, 1)
    assert mois_facture(date(2027, 8, 1)) == date(2027, 7, 1)
    assert mois_facture(date(2026, 9, 15)) is None
    assert mois_facture(date(2027, 8, 2)) == date(2027, 7, 1)
    assert mois_facture(date(2027, 9, 1)) is None


@pytest.mark.postgres
def test_la_demo_emet_la_facture_du_mois_dernier(url_postgres, base, settings) -> None:
    reglages = dataclasses.replace(settings, database_url=url_postgres, database_schema=base.schema)
    sortie = list(remplir(reglages))
    assert any(ligne.startswith("famille Peje") for ligne in sortie)
    assert list(remplir(reglages))[-1].startswith("famille de démonstration déjà présente")
    services = construire_services(reglages, base, horloge_systeme)
    try:
        # The summer centre's waiting list: the place a neighbour freed is offered to the Peje
        # family (while 7 July 2027 is still ahead).
        assert services.comptes.compte_par_email(VOISINS[0]) is not None
        if horloge_systeme().astimezone(PARIS).date() < JOUR_ETE - timedelta(days=1):
            assert services.projecteur is not None
            services.projecteur.rattraper()
            peje = services.comptes.compte_par_email(PARENT[0])
            assert peje is not None and peje.famille_id is not None
            offres = services.lectures.offres_ouvertes(peje.famille_id, horloge_systeme())
            assert [(o["jour"], o["unite"]) for o in offres] == [(JOUR_ETE, "JOURNEE")]
        parametres = services.catalogue.parametres()
        assert parametres is not None and parametres.regie is not None
        assert parametres.regie.siret == "21440109300015"
        assert parametres.regie.payfip_client == "012345"
        mois = mois_facture(horloge_systeme().astimezone(PARIS).date())
        campagnes = list(services.facturation.faits_campagnes().values())
        if mois is None:
            assert campagnes == []
            return
        assert [(c.periode, c.statut, len(c.factures)) for c in campagnes] == [(f"{mois:%Y-%m}", "emise", 1)]
        emise = campagnes[0].factures[0]
        pdf = facture_pdf(facture_imprimee(services.facturation, emise.facture_id, emise.montant_cents))
        texte = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert "Enfant 1" in texte and "Enfant 2" in texte
        assert "SIRET 214 401 093 00015" in texte
        assert "Référence unique du mandat (RUM) : PF-" in texte
        assert "Voies et délais de recours" in texte
    finally:
        services.portail.close()
