"""Domain state turned into response bodies; erased personal fields read as null."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from portail.api import schemas as s
from portail.domain.compte import Compte
from portail.domain.enfant import Enfant
from portail.domain.famille import Famille
from portail.domain.personnes import Responsable
from portail.domain.quotient import QuotientFamilial
from portail.domain.sepa import MandatSepa
from portail.domain.valeurs import Adresse, age_libelle


def compte(c: Compte) -> s.CompteOut:
    return s.CompteOut(id=c.id, email=c.email, roles=[r.value for r in c.roles], famille_id=c.famille_id)


def adresse(a: Adresse | None) -> s.AdresseOut | None:
    if a is None:
        return None
    return s.AdresseOut(ligne1=a.ligne1, ligne2=a.ligne2, code_postal=a.code_postal, commune=a.commune)


def responsable(r: Responsable | None, email: str | None = None) -> s.ResponsableOut | None:
    if r is None:
        return None
    return s.ResponsableOut(
        civilite=r.civilite.value,
        nom=r.nom,
        prenom=r.prenom,
        telephone=r.telephone,
        email=r.email or email,
        adresse=adresse(r.adresse),
        date_naissance=r.date_naissance,
        profession=r.profession,
        employeur=r.employeur,
        telephone_professionnel=r.telephone_professionnel,
        lien=r.lien,
    )


def quotient(q: QuotientFamilial | None) -> s.QuotientOut | None:
    if q is None:
        return None
    return s.QuotientOut(valeur=q.valeur, valable_du=q.valable_du, source=q.source.value)


def mandat(m: MandatSepa | None) -> s.MandatOut | None:
    if m is None:
        return None
    return s.MandatOut(
        rum=m.rum,
        iban_masque=m.iban.masque if m.iban else "",
        bic=m.bic,
        titulaire=m.titulaire,
        signe_le=m.signe_le,
        actif=m.actif,
    )


def resume_enfant(e: Enfant, jour: date) -> s.EnfantResume:
    ident = e.identite
    return s.EnfantResume(
        id=e.id,
        nom=ident.nom if ident else None,
        prenom=ident.prenom if ident else None,
        date_naissance=ident.date_naissance if ident else None,
        age=age_libelle(ident.date_naissance, jour) if ident else None,
    )


def foyer(f: Famille, enfants: list[Enfant], jour: date, email: str | None) -> s.FoyerOut:
    responsables = [r for r in (responsable(f.responsable, email), responsable(f.autre_responsable)) if r]
    return s.FoyerOut(
        id=f.id,
        responsables=responsables,
        adresse=adresse(f.adresse),
        situation_familiale=cast(Any, f.situation_familiale.value) if f.situation_familiale else None,
        enfants=[resume_enfant(e, jour) for e in enfants],
        quotient_familial=quotient(f.quotient_au(jour)),
        mandat_sepa=mandat(f.mandat),
    )


def enfant(e: Enfant, jour: date) -> s.EnfantOut:
    ident = e.identite
    sante = e.sante
    auto = e.autorisations
    return s.EnfantOut(
        id=e.id,
        famille_id=e.famille_id,
        nom=ident.nom if ident else None,
        prenom=ident.prenom if ident else None,
        date_naissance=ident.date_naissance if ident else None,
        lieu_naissance=ident.lieu_naissance if ident else None,
        age=age_libelle(ident.date_naissance, jour) if ident else None,
        ecole=e.scolarite.ecole,
        niveau=cast(Any, e.scolarite.niveau.value) if e.scolarite.niveau else None,
        classe=cast(Any, e.scolarite.classe.value) if e.scolarite.classe else None,
        sante=s.SanteOut(
            allergies=list(sante.allergies),
            regime_alimentaire=sante.regime_alimentaire.value,
            pai=sante.pai,
            pai_detail=sante.pai_detail,
            medecin=s.MedecinOut(sante.medecin.nom, sante.medecin.telephone) if sante.medecin else None,
            vaccinations_a_jour=sante.vaccinations_a_jour,
            remarques=sante.remarques,
        )
        if sante
        else None,
        fiche_sanitaire_valable_jusqu_au=e.fiche_sanitaire_valable_jusqu_au,
        personnes_autorisees=[
            s.PersonneOut(p.nom, p.prenom, p.telephone, p.lien) for p in e.personnes_autorisees or ()
        ],
        autorisations=s.AutorisationsOut(
            auto.droit_image, auto.sortie_seul, auto.transport, auto.soins_urgence
        ),
    )
