"""Mon profil, Mon foyer, Mes enfants: each shown with its forms, each form posted on its own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from portail.api.etat import adresse_ip, contexte, services
from portail.application.saisies import (
    SaisieAdresse,
    SaisieMedecin,
    SaisiePersonne,
    SaisieResponsable,
    SaisieSante,
)
from portail.domain.enfant import Enfant
from portail.domain.personnes import Autorisations, RegimeAlimentaire, Responsable
from portail.domain.valeurs import Adresse, Classe, SituationFamiliale, age_libelle
from portail.web.pages import (
    Erreurs,
    Formulaire,
    FormulairePoste,
    essayer,
    exige_parent,
    famille_de_la_page,
    rediriger,
    rendu,
    utilisateur_de,
)

SITUATIONS = (
    ("non_renseigne", "Non renseignée"),
    ("celibataire", "Célibataire"),
    ("marie", "Marié(e)"),
    ("pacse", "Pacsé(e)"),
    ("concubinage", "En concubinage"),
    ("separe", "Séparé(e)"),
    ("divorce", "Divorcé(e)"),
    ("veuf", "Veuf ou veuve"),
)
REGIMES = (
    (RegimeAlimentaire.STANDARD.value, "Standard"),
    (RegimeAlimentaire.SANS_PORC.value, "Sans porc"),
    (RegimeAlimentaire.SANS_VIANDE.value, "Sans viande"),
    (RegimeAlimentaire.VEGETARIEN.value, "Végétarien"),
    (RegimeAlimentaire.PANIER_REPAS.value, "Panier-repas (PAI)"),
)
CLASSES = (("", "Non renseignée"), *((c.value, c.value) for c in Classe))
CIVILITES = (("Mme", "Madame"), ("M", "Monsieur"))
LIGNES_PERSONNES_VIDES = 2
"""Blank rows offered after the authorised persons already named (a form without JavaScript)."""


def _texte(valeur: Any) -> str:
    return "" if valeur is None else str(valeur)


def _adresse(prefixe: str, adresse: Adresse | None) -> dict[str, str]:
    if adresse is None:
        return {}
    return {
        f"{prefixe}ligne1": adresse.ligne1,
        f"{prefixe}ligne2": _texte(adresse.ligne2),
        f"{prefixe}code_postal": adresse.code_postal,
        f"{prefixe}commune": adresse.commune,
    }


def _saisie_adresse(f: Formulaire, prefixe: str) -> SaisieAdresse:
    return SaisieAdresse(
        f.texte(prefixe + "ligne1"),
        f.texte(prefixe + "code_postal"),
        f.texte(prefixe + "commune"),
        f.optionnel(prefixe + "ligne2"),
    )


def _responsable(prefixe: str, r: Responsable | None) -> dict[str, str]:
    if r is None:
        return {}
    return {
        f"{prefixe}civilite": r.civilite.value,
        f"{prefixe}nom": r.nom,
        f"{prefixe}prenom": r.prenom,
        f"{prefixe}telephone": _texte(r.telephone),
        f"{prefixe}email": _texte(r.email),
        f"{prefixe}date_naissance": _texte(r.date_naissance),
        f"{prefixe}profession": _texte(r.profession),
        f"{prefixe}employeur": _texte(r.employeur),
        f"{prefixe}telephone_professionnel": _texte(r.telephone_professionnel),
        f"{prefixe}lien": _texte(r.lien),
    }


# Mon profil


def _page_profil(
    request: Request[Any, Any, Any],
    *,
    statut: int = 200,
    erreurs: Erreurs | None = None,
    saisie: Any = None,
    ouvert: str = "",
) -> Response[Any]:
    sv = services(request)
    famille = sv.familles.famille(famille_de_la_page(request))
    utilisateur = utilisateur_de(request)
    valeurs = {**_responsable("", famille.responsable), **(saisie or {})}
    return rendu(
        request,
        "famille/profil.html",
        statut=statut,
        erreurs=erreurs or Erreurs(),
        saisie=valeurs,
        famille=famille,
        email=utilisateur.email if utilisateur else "",
        ouvert=ouvert,
    )


class ProfilPages(Controller):
    path = "/profil"
    include_in_schema = False
    guards = [exige_parent]  # noqa: RUF012

    @get("/", sync_to_thread=True)
    def voir(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return _page_profil(request)

    @post("/", sync_to_thread=True)
    def modifier(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        f = Formulaire(data)
        champs: dict[str, Any] = {
            "telephone": f.texte("telephone"),
            "date_naissance": f.date("date_naissance"),
            "profession": f.optionnel("profession"),
            "employeur": f.optionnel("employeur"),
            "telephone_professionnel": f.optionnel("telephone_professionnel"),
        }
        _, erreurs = essayer(
            lambda: services(request).familles.modifier_profil(
                contexte(request), famille_de_la_page(request), champs
            ),
            f,
        )
        if erreurs:
            return _page_profil(request, statut=422, erreurs=erreurs, saisie=f.saisie())
        return rediriger("/profil", "enregistre")

    @post("/email", sync_to_thread=True)
    def changer_email(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        f = Formulaire(data)
        utilisateur = utilisateur_de(request)
        assert utilisateur is not None
        _, erreurs = essayer(
            lambda: services(request).comptes.changer_email(
                contexte(request),
                utilisateur.compte_id,
                f.texte("email"),
                f.brut("mot_de_passe"),
                adresse_ip(request),
            ),
            f,
        )
        if erreurs:
            return _page_profil(
                request, statut=422, erreurs=erreurs, saisie={"email": f.texte("email")}, ouvert="email"
            )
        return rediriger("/profil", "email-demande")

    @post("/mot-de-passe", sync_to_thread=True)
    def changer_mot_de_passe(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        f = Formulaire(data)
        utilisateur = utilisateur_de(request)
        assert utilisateur is not None
        if f.brut("nouveau") != f.brut("confirmation"):
            f.erreurs.ajouter("confirmation", "les deux mots de passe ne sont pas identiques")
        _, erreurs = essayer(
            lambda: services(request).comptes.changer_mot_de_passe(
                contexte(request),
                utilisateur.compte_id,
                f.brut("ancien"),
                f.brut("nouveau"),
                adresse_ip(request),
            ),
            f,
        )
        if erreurs:
            return _page_profil(request, statut=422, erreurs=erreurs, ouvert="mot-de-passe")
        # Every session ended with the change, this one included.
        return rediriger("/connexion", "mot-de-passe-change")


# Mon foyer


def _page_foyer(
    request: Request[Any, Any, Any], *, statut: int = 200, erreurs: Erreurs | None = None, saisie: Any = None
) -> Response[Any]:
    famille = services(request).familles.famille(famille_de_la_page(request))
    situation = famille.situation_familiale or SituationFamiliale.NON_RENSEIGNE
    valeurs = {
        "situation_familiale": situation.value,
        **_adresse("adresse.", famille.adresse),
        **_responsable("autre_responsable.", famille.autre_responsable),
        **(saisie or {}),
    }
    utilisateur = utilisateur_de(request)
    return rendu(
        request,
        "famille/foyer.html",
        statut=statut,
        erreurs=erreurs or Erreurs(),
        saisie=valeurs,
        famille=famille,
        situations=SITUATIONS,
        civilites=CIVILITES,
        libelle_situation=dict(SITUATIONS)[situation.value],
        email=utilisateur.email if utilisateur else "",
    )


class FoyerPages(Controller):
    path = "/foyer"
    include_in_schema = False
    guards = [exige_parent]  # noqa: RUF012

    @get("/", sync_to_thread=True)
    def voir(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return _page_foyer(request)

    @post("/", sync_to_thread=True)
    def modifier(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        f = Formulaire(data)
        champs = {
            "situation_familiale": f.texte("situation_familiale"),
            "adresse": _saisie_adresse(f, "adresse."),
        }
        _, erreurs = essayer(
            lambda: services(request).familles.modifier_foyer(
                contexte(request), famille_de_la_page(request), champs
            ),
            f,
        )
        if erreurs:
            return _page_foyer(request, statut=422, erreurs=erreurs, saisie=f.saisie())
        return rediriger("/foyer", "enregistre")

    @post("/autre-responsable", sync_to_thread=True)
    def autre_responsable(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        f = Formulaire(data)
        p = "autre_responsable."
        saisie = SaisieResponsable(
            civilite=f.texte(p + "civilite"),
            nom=f.texte(p + "nom"),
            prenom=f.texte(p + "prenom"),
            telephone=f.optionnel(p + "telephone"),
            email=f.optionnel(p + "email"),
            date_naissance=f.date(p + "date_naissance"),
            profession=f.optionnel(p + "profession"),
            employeur=f.optionnel(p + "employeur"),
            telephone_professionnel=f.optionnel(p + "telephone_professionnel"),
            lien=f.optionnel(p + "lien"),
        )
        _, erreurs = essayer(
            lambda: services(request).familles.definir_autre_responsable(
                contexte(request), famille_de_la_page(request), saisie
            ),
            f,
        )
        if erreurs:
            return _page_foyer(request, statut=422, erreurs=erreurs, saisie=f.saisie())
        return rediriger("/foyer", "enregistre")

    @post("/autre-responsable/retrait", sync_to_thread=True)
    def retirer_autre_responsable(self, request: Request[Any, Any, Any]) -> Response[Any]:
        _, erreurs = essayer(
            lambda: services(request).familles.retirer_autre_responsable(
                contexte(request), famille_de_la_page(request)
            )
        )
        if erreurs:
            return _page_foyer(request, statut=422, erreurs=erreurs)
        return rediriger("/foyer", "enregistre")


# Mes enfants


def _identite(enfant: Enfant) -> dict[str, str]:
    ident = enfant.identite
    valeurs = {
        "ecole": _texte(enfant.scolarite.ecole),
        "classe": _texte(enfant.scolarite.classe and enfant.scolarite.classe.value),
    }
    if ident is not None:
        valeurs |= {
            "nom": ident.nom,
            "prenom": ident.prenom,
            "date_naissance": ident.date_naissance.isoformat(),
            "lieu_naissance": _texte(ident.lieu_naissance),
        }
    return valeurs


def _sante(enfant: Enfant) -> dict[str, str]:
    s = enfant.sante
    if s is None:
        return {"regime_alimentaire": RegimeAlimentaire.STANDARD.value}
    return {
        "allergies": "\n".join(s.allergies),
        "regime_alimentaire": s.regime_alimentaire.value,
        "pai": "oui" if s.pai else "",
        "pai_detail": _texte(s.pai_detail),
        "medecin.nom": s.medecin.nom if s.medecin else "",
        "medecin.telephone": _texte(s.medecin.telephone) if s.medecin else "",
        "vaccinations_a_jour": "oui" if s.vaccinations_a_jour else "",
        "remarques": _texte(s.remarques),
    }


def _personnes(enfant: Enfant) -> tuple[dict[str, str], int]:
    valeurs: dict[str, str] = {}
    personnes = enfant.personnes_autorisees or ()
    for i, p in enumerate(personnes):
        valeurs |= {
            f"personnes[{i}].nom": p.nom,
            f"personnes[{i}].prenom": p.prenom,
            f"personnes[{i}].telephone": p.telephone,
            f"personnes[{i}].lien": _texte(p.lien),
        }
    return valeurs, len(personnes) + LIGNES_PERSONNES_VIDES


def _autorisations(enfant: Enfant) -> dict[str, str]:
    a = enfant.autorisations
    return {
        nom: "oui" if getattr(a, nom) else ""
        for nom in ("droit_image", "sortie_seul", "transport", "soins_urgence")
    }


def _page_enfant(
    request: Request[Any, Any, Any],
    enfant_id: UUID,
    *,
    statut: int = 200,
    erreurs: Erreurs | None = None,
    saisie: Any = None,
) -> Response[Any]:
    sv = services(request)
    enfant = sv.familles.enfant(famille_de_la_page(request), enfant_id)
    personnes, lignes = _personnes(enfant)
    valeurs = {**_identite(enfant), **_sante(enfant), **personnes, **_autorisations(enfant), **(saisie or {})}
    lignes = max(
        lignes,
        1 + max((int(k[10:].split("]")[0]) for k in valeurs if k.startswith("personnes[")), default=-1),
    )
    ident = enfant.identite
    return rendu(
        request,
        "famille/enfant.html",
        statut=statut,
        erreurs=erreurs or Erreurs(),
        saisie=valeurs,
        enfant=enfant,
        age=age_libelle(ident.date_naissance, sv.familles.aujourd_hui()) if ident else "",
        classes=CLASSES,
        regimes=REGIMES,
        lignes_personnes=range(lignes),
    )


def _page_enfants(
    request: Request[Any, Any, Any], *, statut: int = 200, erreurs: Erreurs | None = None, saisie: Any = None
) -> Response[Any]:
    sv = services(request)
    foyer = sv.familles.foyer(famille_de_la_page(request))
    jour = sv.familles.aujourd_hui()
    enfants = [(e, age_libelle(e.identite.date_naissance, jour) if e.identite else "") for e in foyer.enfants]
    return rendu(
        request,
        "famille/enfants.html",
        statut=statut,
        erreurs=erreurs or Erreurs(),
        saisie=saisie or {},
        enfants=enfants,
        classes=CLASSES,
    )


def _en_liste(erreurs: Erreurs, champ: str) -> Erreurs:
    """`allergies[2]` is a line of the field `allergies`: its error goes beside that field."""
    for e in list(erreurs.liste):
        if e.champ.startswith(champ + "["):
            erreurs.liste[erreurs.liste.index(e)] = type(e)(champ, e.message)
    return erreurs


class EnfantsPages(Controller):
    path = "/enfants"
    include_in_schema = False
    guards = [exige_parent]  # noqa: RUF012

    @get("/", sync_to_thread=True)
    def lister(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return _page_enfants(request)

    @post("/", sync_to_thread=True)
    def ajouter(self, request: Request[Any, Any, Any], data: FormulairePoste) -> Response[Any]:
        f = Formulaire(data)
        naissance = f.date("date_naissance", obligatoire=True)
        enfant_id, erreurs = essayer(
            lambda: services(request).familles.ajouter_enfant(
                contexte(request),
                famille_de_la_page(request),
                f.texte("nom"),
                f.texte("prenom"),
                naissance,  # type: ignore[arg-type]  # read, else an error of the form
                f.optionnel("lieu_naissance"),
                f.optionnel("ecole"),
                None,
                f.optionnel("classe"),
            ),
            f,
        )
        if enfant_id is None:
            return _page_enfants(request, statut=422, erreurs=erreurs, saisie=f.saisie())
        services(request).apres_ecriture()
        return rediriger(f"/enfants/{enfant_id}", "enfant-ajoute")

    @get("/{enfant_id:uuid}", sync_to_thread=True)
    def voir(self, request: Request[Any, Any, Any], enfant_id: FromPath[UUID]) -> Response[Any]:
        return _page_enfant(request, enfant_id)

    def _apres(
        self, request: Request[Any, Any, Any], enfant_id: UUID, f: Formulaire, erreurs: Erreurs
    ) -> Response[Any]:
        if erreurs:
            return _page_enfant(request, enfant_id, statut=422, erreurs=erreurs, saisie=f.saisie())
        services(request).apres_ecriture()
        return rediriger(f"/enfants/{enfant_id}", "enregistre")

    @post("/{enfant_id:uuid}/identite", sync_to_thread=True)
    def identite(
        self, request: Request[Any, Any, Any], enfant_id: FromPath[UUID], data: FormulairePoste
    ) -> Response[Any]:
        f = Formulaire(data)
        champs: dict[str, Any] = {
            "nom": f.texte("nom"),
            "prenom": f.texte("prenom"),
            "date_naissance": f.date("date_naissance", obligatoire=True),
            "lieu_naissance": f.optionnel("lieu_naissance"),
            "ecole": f.optionnel("ecole"),
            "classe": f.optionnel("classe"),
        }
        if champs["classe"] is None:
            champs["niveau"] = None
        _, erreurs = essayer(
            lambda: services(request).familles.modifier_enfant(
                contexte(request), famille_de_la_page(request), enfant_id, champs
            ),
            f,
        )
        return self._apres(request, enfant_id, f, erreurs)

    @post("/{enfant_id:uuid}/sante", sync_to_thread=True)
    def sante(
        self, request: Request[Any, Any, Any], enfant_id: FromPath[UUID], data: FormulairePoste
    ) -> Response[Any]:
        f = Formulaire(data)
        medecin = f.texte("medecin.nom")
        saisie = SaisieSante(
            allergies=[ligne.strip() for ligne in f.brut("allergies").splitlines() if ligne.strip()],
            regime_alimentaire=f.texte("regime_alimentaire") or RegimeAlimentaire.STANDARD.value,
            pai=f.case("pai"),
            pai_detail=f.optionnel("pai_detail"),
            medecin=SaisieMedecin(medecin, f.optionnel("medecin.telephone"))
            if medecin or f.texte("medecin.telephone")
            else None,
            vaccinations_a_jour=f.case("vaccinations_a_jour"),
            remarques=f.optionnel("remarques"),
        )
        _, erreurs = essayer(
            lambda: services(request).familles.modifier_sante(
                contexte(request), famille_de_la_page(request), enfant_id, saisie
            ),
            f,
        )
        return self._apres(request, enfant_id, f, _en_liste(erreurs, "allergies"))

    @post("/{enfant_id:uuid}/personnes-autorisees", sync_to_thread=True)
    def personnes_autorisees(
        self, request: Request[Any, Any, Any], enfant_id: FromPath[UUID], data: FormulairePoste
    ) -> Response[Any]:
        f = Formulaire(data)
        rangs = sorted(
            {int(cle[10:].split("]")[0]) for cle in data if cle.startswith("personnes[") and "]" in cle}
        )
        saisies: list[SaisiePersonne] = []
        # A row left blank is no one (that is how a person is removed); the rows keep their rank so
        # that an error lands beside its row.
        lignes = [
            r
            for r in rangs
            if any(f.texte(f"personnes[{r}].{c}") for c in ("nom", "prenom", "telephone", "lien"))
        ]
        for rang in lignes:
            p = f"personnes[{rang}]."
            saisies.append(
                SaisiePersonne(
                    f.texte(p + "nom"),
                    f.texte(p + "prenom"),
                    f.texte(p + "telephone"),
                    f.optionnel(p + "lien"),
                )
            )
        _, erreurs = essayer(
            lambda: services(request).familles.modifier_personnes_autorisees(
                contexte(request), famille_de_la_page(request), enfant_id, saisies
            ),
            f,
        )
        for e in erreurs.liste:
            # The service numbers the persons it was given; the page, its rows.
            if e.champ.startswith("personnes["):
                i = int(e.champ[10:].split("]")[0])
                erreurs.liste[erreurs.liste.index(e)] = type(e)(
                    f"personnes[{lignes[i]}]" + e.champ.split("]", 1)[1], e.message
                )
        return self._apres(request, enfant_id, f, erreurs)

    @post("/{enfant_id:uuid}/autorisations", sync_to_thread=True)
    def autorisations(
        self, request: Request[Any, Any, Any], enfant_id: FromPath[UUID], data: FormulairePoste
    ) -> Response[Any]:
        f = Formulaire(data)
        autorisations = Autorisations(
            f.case("droit_image"), f.case("sortie_seul"), f.case("transport"), f.case("soins_urgence")
        )
        _, erreurs = essayer(
            lambda: services(request).familles.modifier_autorisations(
                contexte(request), famille_de_la_page(request), enfant_id, autorisations
            ),
            f,
        )
        return self._apres(request, enfant_id, f, erreurs)
