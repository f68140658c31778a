"""A small demo commune, written through the application: the family of the seed screens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from portail.api.app import construire_services
from portail.application.contexte import Contexte, horloge_systeme
from portail.application.saisies import SaisieAdresse, SaisieResponsable, SaisieSante
from portail.domain.index_email import EmailDejaUtilise
from portail.settings import Settings
from portail.store.database import BaseDeDonnees

ADMIN = ("admin@portail-familles.local", "Admin-Portail-2026")
REGIE = ("regie@portail-familles.local", "Regie-Portail-2026")
PARENT = ("parent@portail-familles.local", "Parent-Portail-2026")


def remplir(settings: Settings) -> Iterator[str]:
    base = BaseDeDonnees.ouvrir(settings)
    services = construire_services(settings, base, horloge_systeme)
    try:
        ctx = Contexte.systeme("demo")
        comptes = services.comptes
        for (email, mdp), roles in ((ADMIN, ["admin"]), (REGIE, ["regisseur"])):
            try:
                comptes.creer_compte_personnel(ctx, email, mdp, roles)
                yield f"compte {roles[0]} : {email} / {mdp}"
            except EmailDejaUtilise:
                yield f"compte {roles[0]} déjà présent : {email}"
        if comptes.compte_par_email(PARENT[0]) is not None:
            yield f"famille de démonstration déjà présente : {PARENT[0]}"
            return
        _, famille_id = comptes.inscrire(
            ctx,
            PARENT[0],
            PARENT[1],
            SaisieResponsable(civilite="Mme", nom="Peje", prenom="Camille", telephone="06 12 34 56 78"),
            SaisieAdresse("12 rue de la Mairie", "44000", "Nantes"),
        )
        familles = services.familles
        familles.enregistrer_quotient(ctx, famille_id, 742, date(2021, 9, 1), "caf")
        enfant1 = familles.ajouter_enfant(
            ctx, famille_id, "Peje", "Enfant 1", date(2012, 1, 15), "Nantes", "École Jules Ferry", None, "CM1"
        )
        familles.ajouter_enfant(
            ctx, famille_id, "Peje", "Enfant 2", date(2017, 6, 3), "Nantes", "École Jules Ferry", None, "GS"
        )
        familles.modifier_sante(
            ctx,
            famille_id,
            enfant1,
            SaisieSante(allergies=["arachide"], pai=True, pai_detail="Trousse d'urgence"),
        )
        familles.signer_mandat(ctx, famille_id, "Camille Peje", "FR7630006000011234567890189", None)
        yield f"famille Peje (2 enfants) : {PARENT[0]} / {PARENT[1]}"
    finally:
        services.portail.close()
        base.fermer()
