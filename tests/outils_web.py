"""Helpers for the browser tests: the served portal, families written through the services,
logging in through the page, and the checks every page must pass (axe-core, 360 px, keyboard)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from uuid import UUID

from portail.application.catalogue import SaisieUnite
from portail.application.contexte import Contexte
from portail.application.saisies import SaisieAdresse, SaisieResponsable
from portail.bootstrap import Services
from portail.settings import Settings

AXE = Path(__file__).parent / "web" / "axe-4.14.1.min.js"
"""axe-core 4.14.1 from the npm registry package `axe-core` (MPL-2.0), loaded by the tests only."""

MOT_DE_PASSE = "Motdepasse-2026"


@dataclass
class Famille:
    email: str
    compte_id: UUID
    famille_id: UUID
    enfants: list[UUID]


@dataclass
class PortailWeb:
    url: str
    services: Services
    settings: Settings
    horloge: Any

    def famille(
        self, email: str, nom: str = "Martin", prenom: str = "Claire", enfants: tuple[str, ...] = ("Léa",)
    ) -> Famille:
        ctx = Contexte.systeme("test")
        compte_id, famille_id = self.services.comptes.inscrire(
            ctx,
            email,
            MOT_DE_PASSE,
            SaisieResponsable(civilite="Mme", nom=nom, prenom=prenom, telephone="06 12 34 56 78"),
            SaisieAdresse("3 place de la Mairie", "44000", "Nantes"),
        )
        ids = [
            self.services.familles.ajouter_enfant(
                ctx, famille_id, nom, p, date(2017, 3, 4), "Nantes", "École Jules Ferry", None, "CE2"
            )
            for p in enfants
        ]
        self.services.apres_ecriture()
        return Famille(email, compte_id, famille_id, ids)

    def courriels(self) -> list[EmailMessage]:
        dossier = self.settings.dossier_courriels
        if not dossier.exists():
            return []
        return [
            BytesParser(policy=policy.default).parsebytes(f.read_bytes())  # type: ignore[misc]
            for f in sorted(dossier.glob("*.eml"), key=lambda f: f.stat().st_mtime)
        ]


def connecter(page: Any, email: str, mot_de_passe: str = MOT_DE_PASSE) -> None:
    page.goto("/connexion")
    page.get_by_label(re.compile("^Adresse e-mail")).fill(email)
    page.get_by_label(re.compile("^Mot de passe")).fill(mot_de_passe)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/")


AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', '));
}"""

FOCUSABLES = """() => {
  const visibles = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]
    .filter(e => e.type !== 'hidden' && !e.disabled && e.tabIndex >= 0
                 && e.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true}));
  const vus = new Set();
  const liste = [];
  visibles.forEach((e, i) => {
    // One stop per radio group.
    const cle = e.type === 'radio' ? 'radio:' + e.name : 'k' + i;
    e.dataset.k = cle;
    if (!vus.has(cle)) { vus.add(cle); liste.push(cle); }
  });
  return liste;
}"""


def verifier_page(page: Any) -> None:
    """The checks of every page: no serious or critical axe violation (desktop and 360 px), no
    horizontal scroll at 360 px, every control reached with the Tab key."""
    assert page.evaluate(AXE_RUN) == [], page.url
    taille = page.viewport_size
    page.set_viewport_size({"width": 360, "height": 740})
    try:
        assert page.evaluate(AXE_RUN) == [], page.url
        largeurs = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
        assert largeurs[0] <= largeurs[1], f"défilement horizontal à 360 px sur {page.url} : {largeurs}"
        attendus = page.evaluate(FOCUSABLES)
        page.evaluate(
            "() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }"
        )
        atteints: set[str] = set()
        # A date field takes three stops (day, month, year).
        for _ in range(3 * len(attendus) + 5):
            page.keyboard.press("Tab")
            cle = page.evaluate("() => document.activeElement && document.activeElement.dataset.k")
            if cle:
                atteints.add(cle)
            if atteints >= set(attendus):
                break
        manquants = [k for k in attendus if k not in atteints]
        assert not manquants, f"contrôles non atteints au clavier sur {page.url} : {manquants}"
    finally:
        page.set_viewport_size(taille)


@dataclass(frozen=True)
class AttenteDeClaire:
    """Claire's Léa on the waiting list for the one SOIR place of 5 October 2021, held by Zoé."""

    premiere: Famille
    claire: Famille
    accueil: UUID
    jour: date


def attente_de_claire(portail: PortailWeb) -> AttenteDeClaire:
    """An accueil that offers a freed place for 24 hours; cancelling Zoé's place offers it to Léa."""
    from outils_planning import creer_accueil, reserver

    sv = portail.services
    accueil = creer_accueil(
        sv,
        liste_attente="offre",
        duree_offre_heures=24,
        unites=(SaisieUnite("SOIR", "Accueil du soir", capacite=1),),
    )
    premiere = portail.famille("premiere@example.fr", nom="Durand", enfants=("Zoé",))
    claire = portail.famille("claire@example.fr")
    jour = date(2021, 10, 5)
    reserver(sv, premiere.famille_id, premiere.enfants[0], accueil, (jour, "SOIR"))
    assert reserver(sv, claire.famille_id, claire.enfants[0], accueil, (jour, "SOIR"))[0].motif
    return AttenteDeClaire(premiere, claire, accueil, jour)
