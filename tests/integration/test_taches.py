"""Scheduled jobs, run as the scheduler runs them (and twice, and late): what families receive,
what the régie finds on disk, who is erased. The clock is the test's."""

from __future__ import annotations

import email
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from structlog.testing import capture_logs

from portail.bootstrap import outils_des_taches
from portail.domain.capacite import Capacite
from portail.domain.famille import Famille
from portail.jobs import campagnes, conservation, offres, prelevements, rappels
from portail.jobs.outils import Outils

from outils_http import MOT_DE_PASSE, compte_personnel, connecter, nouvelle_famille
from outils_reservation import ajouter_enfant, creer_accueil, etat, place_offerte, reserver

pytestmark = pytest.mark.postgres

MIDI_305 = {
    "valable_du": "2021-09-01",
    "grilles": [{"unite": "MIDI", "residence": "tous", "mode": "forfait", "prix_cents": 305}],
}
REGIE = {
    "nom": "Régie périscolaire",
    "prefixe_factures": "PERI",
    "ics": "FR72ZZZ123456",
    "iban": "FR1420041010050500013M02606",
}


def _courriels(dossier: Path) -> list[tuple[str, str, str]]:
    """(recipient, subject, body) of every mail written to the mail folder."""
    if not dossier.exists():
        return []
    messages = []
    for chemin in sorted(dossier.glob("*.eml")):
        message = email.message_from_bytes(chemin.read_bytes(), policy=email.policy.default)
        corps = message.get_body()
        assert corps is not None
        messages.append((str(message["To"]), str(message["Subject"]), corps.get_content()))
    return messages


def _outils(client) -> Outils:
    return outils_des_taches(client.app.state.services)


def _commune_facturee(client, regie: dict | None = None) -> str:
    """Commune settings (no billing threshold), one périscolaire accueil with MIDI at 3,05 €."""
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    parametres = {"commune": {"nom": "Nantes", "code_postal": "44000"}, "seuil_facturation_cents": 0}
    assert admin.put("/api/admin/parametres", json={**parametres, "regie": regie}).status_code == 200
    accueil = creer_accueil(admin)
    regisseur = compte_personnel(client, "regie@mairie.fr", "regisseur")
    assert regisseur.put(f"/api/admin/accueils/{accueil}/tarifs", json=MIDI_305).status_code == 200
    return accueil


def _acteur(services, agregat_id) -> str:
    return list(services.portail.events.get(agregat_id))[-1].audit["acteur"]["nom"]


def test_offre_echue_passee_a_l_enfant_suivant_par_la_tache(client, horloge) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    accueil, familles, enfants = place_offerte(client, admin)
    assert [o["enfant_id"] for o in familles[1].get("/api/offres").json()] == [enfants[1]]
    outils = _outils(client)
    # Before its expiry the job leaves the offer alone.
    assert offres.expirer_offres(outils) == 0
    horloge.maintenant = datetime(2021, 9, 21, 9, 0, tzinfo=UTC)
    # Nobody touches that day: the job alone passes the place on.
    assert offres.expirer_offres(outils) == 1
    services = client.app.state.services
    services.apres_ecriture()
    familles = [connecter(client, f"o{i}@example.fr") for i in range(3)]
    assert familles[1].get("/api/offres").json() == []
    assert etat(familles[1], enfants[1], "2021-10", "2021-10-05", "SOIR") == "annule"
    suivante = familles[2].get("/api/offres").json()
    assert [(o["enfant_id"], o["date"]) for o in suivante] == [(enfants[2], "2021-10-05")]
    # Run again (or by a second scheduler): nothing more expires, the new offer stands.
    assert offres.expirer_offres(outils) == 0
    assert [o["id"] for o in familles[2].get("/api/offres").json()] == [suivante[0]["id"]]
    # The audit names the job as the actor.
    from uuid import UUID

    assert _acteur(services, Capacite.id_pour(UUID(accueil), datetime(2021, 10, 5).date())) == offres.NOM


def test_campagne_prelevements_et_relances_une_seule_fois(client, horloge, settings) -> None:
    horloge.maintenant = datetime(2021, 10, 20, 8, 0, tzinfo=UTC)
    accueil = _commune_facturee(client, REGIE)
    avec_mandat = nouvelle_famille(client, "sepa@example.fr", nom="Lefèvre")
    avec_mandat.put(
        "/api/prelevement", json={"titulaire": "Élise Lefèvre", "iban": "FR7630006000011234567890189"}
    )
    sans_mandat = nouvelle_famille(client, "cheque@example.fr")
    for parent in (avec_mandat, sans_mandat):
        reserver(parent, ajouter_enfant(parent), accueil, ("2021-11-15", "MIDI"), ("2021-11-16", "MIDI"))
    outils = _outils(client)
    services = client.app.state.services

    # December 2: the November draft is prepared once, by the job, as of now.
    horloge.maintenant = datetime(2021, 12, 2, 5, 0, tzinfo=UTC)
    campagne_id = campagnes.preparer_campagne(outils)
    assert campagne_id is not None
    assert campagnes.preparer_campagne(outils) is None
    toutes = services.facturation.faits_campagnes().values()
    assert [(c.periode, c.totaux.montant_cents) for c in toutes] == [("2021-11", 4 * 305)]
    assert _acteur(services, campagne_id) == campagnes.NOM
    regie = connecter(client, "regie@mairie.fr", MOT_DE_PASSE)
    emission = regie.post(f"/api/regie/campagnes/{campagne_id}/emission")
    assert emission.status_code == 200, emission.text
    assert campagnes.preparer_campagne(outils) is None

    # Due on Monday 3 January (1 January 2022 is a Saturday): too early for the SEPA file, and
    # nothing is unpaid yet.
    assert prelevements.ecrire_prelevements(outils) == []
    assert rappels.relancer_impayes(outils) == 0
    fichier = settings.data_dir / "sepa" / f"{campagne_id}.xml"
    # The file is written the régie's pre-notification delay (14 days) before the debit.
    horloge.maintenant = datetime(2021, 12, 19, 12, 0, tzinfo=UTC)
    assert prelevements.ecrire_prelevements(outils) == []
    horloge.maintenant = datetime(2021, 12, 20, 6, 0, tzinfo=UTC)
    assert prelevements.ecrire_prelevements(outils) == [campagne_id]
    contenu = fichier.read_bytes()
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
    racine = ET.fromstring(contenu)
    assert racine.find(".//p:GrpHdr/p:NbOfTxs", ns).text == "1"
    assert racine.find(".//p:GrpHdr/p:CtrlSum", ns).text == "6.10"
    assert racine.find(".//p:ReqdColltnDt", ns).text == "2022-01-03"
    assert racine.find(".//p:SeqTp", ns).text == "FRST"
    # The family pays by cheque meanwhile; a second run must not write another file.
    regie = connecter(client, "regie@mairie.fr", MOT_DE_PASSE)
    paye = regie.post(
        "/api/regie/reglements",
        json={"famille_id": sans_mandat.famille_id, "montant_cents": 610, "mode": "cheque"},
    )
    assert paye.status_code == 201, paye.text
    assert prelevements.ecrire_prelevements(outils) == []
    assert fichier.read_bytes() == contenu
    assert sorted(p.name for p in fichier.parent.iterdir()) == [fichier.name]

    # After the due date, the family whose debit is not recorded yet is reminded, once.
    horloge.maintenant = datetime(2022, 1, 4, 8, 0, tzinfo=UTC)
    assert rappels.relancer_impayes(outils) == 1
    assert rappels.relancer_impayes(outils) == 0
    relances = [m for m in _courriels(settings.dossier_courriels) if "à régler" in m[1]]
    assert [m[0] for m in relances] == ["sepa@example.fr"]
    assert relances[0][1].startswith("Facture PERI2021-00000")
    assert "reste à régler : 6,10" in relances[0][2]

    # The debit is recorded, then rejected; re-presented for Monday 31 January, its own file is
    # written 14 days before, once.
    regie = connecter(client, "regie@mairie.fr", MOT_DE_PASSE)
    famille_id = avec_mandat.famille_id
    debit = regie.post(
        "/api/regie/reglements", json={"famille_id": famille_id, "montant_cents": 610, "mode": "prelevement"}
    ).json()
    regie.post(f"/api/regie/reglements/{debit['id']}/rejet", json={"famille_id": famille_id, "motif": "AM04"})
    representation = regie.post(
        f"/api/regie/reglements/{debit['id']}/representation",
        json={"famille_id": famille_id, "date": "2022-01-31"},
    )
    assert representation.status_code == 201, representation.text
    horloge.maintenant = datetime(2022, 1, 16, 12, 0, tzinfo=UTC)
    assert prelevements.ecrire_prelevements(outils) == []
    horloge.maintenant = datetime(2022, 1, 17, 6, 0, tzinfo=UTC)
    assert prelevements.ecrire_prelevements(outils) == [UUID(debit["id"])]
    assert prelevements.ecrire_prelevements(outils) == []
    racine = ET.fromstring((settings.data_dir / "sepa" / f"representation-{debit['id']}.xml").read_bytes())
    assert racine.find(".//p:ReqdColltnDt", ns).text == "2022-01-31"
    # The only debit under this mandate was rejected: still a first one.
    assert racine.find(".//p:SeqTp", ns).text == "FRST"
    assert racine.find(".//p:GrpHdr/p:CtrlSum", ns).text == "6.10"


def test_rappel_avant_la_date_limite_hebdomadaire_une_fois(client, horloge, settings) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    admin = compte_personnel(client, "admin@mairie.fr", "admin")
    hebdomadaire = {"ancrage": "semaine_precedente", "jour_semaine": 3, "heure_limite": "12:00"}
    accueil = creer_accueil(admin, regle_reservation=hebdomadaire, regle_annulation=hebdomadaire)
    inscrite = nouvelle_famille(client, "inscrite@example.fr")
    reserver(inscrite, ajouter_enfant(inscrite), accueil, ("2021-10-04", "MIDI"))
    ailleurs = nouvelle_famille(client, "ailleurs@example.fr")
    quotidien = creer_accueil(admin, mode_accueil="Restauration seule")
    reserver(ailleurs, ajouter_enfant(ailleurs, prenom="Autre"), quotidien, ("2021-10-04", "MIDI"))
    outils = _outils(client)
    # Monday 10:00 in Paris: Wednesday noon, the deadline for the week of October 4, is 50 h away.
    horloge.maintenant = datetime(2021, 9, 27, 8, 0, tzinfo=UTC)
    assert rappels.rappeler_delais(outils) == 0
    # Monday 14:00: 46 hours to go. The daily deadline of the other accueil is never reminded.
    horloge.maintenant = datetime(2021, 9, 27, 12, 0, tzinfo=UTC)
    assert rappels.rappeler_delais(outils) == 1
    horloge.avancer(hours=1)
    assert rappels.rappeler_delais(outils) == 0
    courriels = _courriels(settings.dossier_courriels)
    assert [m[0] for m in courriels] == ["inscrite@example.fr"]
    assert "du 04/10/2021 au 08/10/2021" in courriels[0][2]
    assert "29/09/2021 à 12:00" in courriels[0][2]


def test_rappels_de_fiche_sanitaire_et_de_document_une_fois(client, horloge, settings) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    parent = nouvelle_famille(client, "fiche@example.fr")
    enfant = ajouter_enfant(parent, prenom="Léa")
    assert parent.put(f"/api/enfants/{enfant}/sante", json={"allergies": []}).status_code == 200
    depot = parent.post(
        "/api/documents",
        files={"fichier": ("certificat.pdf", b"%PDF-1.7 certificat", "application/pdf")},
        data={"type": "certificat_medical", "enfant_id": enfant},
    )
    assert depot.status_code == 201, depot.text
    outils = _outils(client)
    assert rappels.rappeler_documents(outils) == 0
    # August 25: the fiche ends with the school year (August 31), the certificate on September 20.
    horloge.maintenant = datetime(2022, 8, 25, 7, 0, tzinfo=UTC)
    assert rappels.rappeler_documents(outils) == 2
    assert rappels.rappeler_documents(outils) == 0
    sujets = sorted(m[1] for m in _courriels(settings.dossier_courriels))
    assert sujets == ["Document à renouveler : certificat médical", "Fiche sanitaire à mettre à jour"]
    fiche = next(m for m in _courriels(settings.dossier_courriels) if m[1].startswith("Fiche"))
    assert "Léa" in fiche[2]
    assert "31/08/2022" in fiche[2]


def test_conservation_efface_la_famille_partie_et_garde_les_autres(client, horloge, settings) -> None:
    horloge.maintenant = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
    accueil = _commune_facturee(client)
    partie = nouvelle_famille(client, "partie@example.fr")
    reserver(partie, ajouter_enfant(partie), accueil, ("2021-10-05", "MIDI"))
    restee = nouvelle_famille(client, "restee@example.fr")
    reserver(restee, ajouter_enfant(restee), accueil, ("2022-06-30", "MIDI"))
    endettee = nouvelle_famille(client, "endettee@example.fr")
    reserver(endettee, ajouter_enfant(endettee), accueil, ("2021-10-05", "MIDI"))
    horloge.maintenant = datetime(2021, 11, 2, 9, 0, tzinfo=UTC)
    regie = connecter(client, "regie@mairie.fr", MOT_DE_PASSE)
    campagne = regie.post("/api/regie/campagnes", json={"periode": "2021-10"}).json()
    assert regie.post(f"/api/regie/campagnes/{campagne['id']}/emission").status_code == 200
    reglement = regie.post(
        "/api/regie/reglements",
        json={"famille_id": partie.famille_id, "montant_cents": 305, "mode": "cheque"},
    )
    assert reglement.status_code == 201, reglement.text
    facture = connecter(client, "partie@example.fr").get("/api/factures").json()[0]
    outils = _outils(client)
    services = client.app.state.services

    # Two years on, nobody has left for three years.
    horloge.maintenant = datetime(2023, 11, 3, 9, 0, tzinfo=UTC)
    assert conservation.effacer_familles_parties(outils) == []
    # Three years after the last invoice and payment: the family that left is erased, once.
    horloge.maintenant = datetime(2024, 11, 3, 9, 0, tzinfo=UTC)
    from uuid import UUID

    assert conservation.effacer_familles_parties(outils) == [UUID(partie.famille_id)]
    assert conservation.effacer_familles_parties(outils) == []
    assert services.portail.charger(Famille, UUID(partie.famille_id)).effacee
    # Still booked in June 2022, or still owing its October invoice: kept.
    for gardee, adresse in ((restee, "restee@example.fr"), (endettee, "endettee@example.fr")):
        assert not services.portail.charger(Famille, UUID(gardee.famille_id)).effacee
        assert connecter(client, adresse).get("/api/foyer").status_code == 200
    erreur = client.post(
        "/api/auth/connexion", json={"email": "partie@example.fr", "mot_de_passe": MOT_DE_PASSE}
    )
    assert erreur.status_code == 401
    # The accounting record stays readable: number, amount, paid.
    lue = services.facturation.facture(UUID(facture["id"]))
    assert (lue.numero, lue.montant_cents) == (facture["numero"], 305)
    services.apres_ecriture()
    resume = services.lectures.facture_resume(UUID(facture["id"]))
    assert (resume["montant_cents"], resume["reste_a_payer_cents"], resume["statut"]) == (305, 0, "payee")
    assert _acteur(services, UUID(partie.famille_id)) == conservation.NOM

    # Selected all the same (the read models may be behind the ledger), a family that owes money
    # is kept by the erasure itself: the run goes on, logs why, and says so in its result.
    endettee_id = UUID(endettee.famille_id)
    en_retard = replace(outils, echeances=_SelectionEnRetard(outils.echeances, endettee_id))
    with capture_logs() as journal:
        resultat = conservation.effacer_familles_parties(en_retard)
    motif = (
        "Cette famille doit encore 3,05 € (1 facture à régler) : elle ne peut être effacée"
        " qu'une fois son solde réglé."
    )
    assert resultat == []
    assert resultat.gardees == {endettee_id: motif}
    gardees = [(e["famille_id"], e["motif"]) for e in journal if e["event"] == "famille_gardee"]
    assert gardees == [(str(endettee_id), motif)]
    assert not services.portail.charger(Famille, endettee_id).effacee
    assert connecter(client, "endettee@example.fr").get("/api/foyer").status_code == 200


class _SelectionEnRetard:
    """The retention selection as read models behind the ledger would give it: these families
    as well, whatever they owe."""

    def __init__(self, echeances, *en_plus) -> None:
        self.echeances = echeances
        self.en_plus = en_plus

    def familles_parties(self, limite, limite_instant):
        return [*self.echeances.familles_parties(limite, limite_instant), *self.en_plus]
