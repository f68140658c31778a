"""Billing as a pure function: the month's presences, tariffs and quotients in, explained invoice
lines out. Same facts, same lines, byte for byte."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from uuid import UUID

import msgspec

from portail.domain.accueil import Accueil, ModeFacturation
from portail.domain.erreurs import ErreurValidation
from portail.domain.planning import Etat, Presence
from portail.domain.quotient import QuotientFamilial, quotient_au
from portail.domain.tarifs import (
    Grille,
    ModeTarif,
    Prix,
    demi_heures_entamees,
    euros,
    pourcentage,
    prix_unitaire,
)

PRESTATION = "prestation"
MAJORATION = "majoration"
SANS_RESERVATION = "sans_reservation"
RETARD = "retard"


@dataclass(frozen=True)
class Periode:
    """A billed month, written AAAA-MM."""

    annee: int
    mois: int

    @classmethod
    def lire(cls, texte: str) -> Periode:
        try:
            annee, mois = (int(x) for x in texte.split("-"))
            if not (2000 <= annee <= 2100 and 1 <= mois <= 12) or len(texte) != 7:
                raise ValueError
        except ValueError:
            raise ErreurValidation.sur("periode", "période attendue au format AAAA-MM") from None
        return cls(annee, mois)

    def __str__(self) -> str:
        return f"{self.annee:04d}-{self.mois:02d}"


@dataclass(frozen=True)
class FamilleFacturee:
    famille_id: UUID
    resident: bool
    quotients: tuple[QuotientFamilial, ...]


@dataclass(frozen=True)
class EnfantFacture:
    enfant_id: UUID
    famille_id: UUID
    naissance: date | None
    pai: bool
    ordre: int | None = None
    """Its order among its siblings when its birth date can no longer be read (`faits_comptables`)."""


@dataclass(frozen=True)
class PresencesDuMois:
    enfant_id: UUID
    accueil_id: UUID
    presences: tuple[tuple[date, str, Presence], ...]


class LigneFacture(msgspec.Struct, frozen=True):
    """An invoice line and its explanation (a Struct: an issued invoice's event holds dozens of
    them, decoded by every reading of the log in about two thirds of a frozen dataclass's time)."""

    famille_id: UUID
    enfant_id: UUID
    accueil_id: UUID
    accueil: str
    jour: date
    unite: str
    nature: str
    quantite: int
    prix_unitaire_cents: int
    montant_cents: int
    explication: str

    @property
    def cle(self) -> tuple[str, str, str, str, str]:
        return (str(self.enfant_id), str(self.accueil_id), self.jour.isoformat(), self.unite, self.nature)


@dataclass(frozen=True)
class Anomalie:
    enfant_id: UUID
    accueil_id: UUID
    jour: date
    unite: str
    motif: str


@dataclass(frozen=True)
class Calcul:
    lignes: tuple[LigneFacture, ...]
    anomalies: tuple[Anomalie, ...]

    @property
    def montant_cents(self) -> int:
        return sum(ligne.montant_cents for ligne in self.lignes)

    def par_famille(self) -> dict[UUID, list[LigneFacture]]:
        familles: dict[UUID, list[LigneFacture]] = {}
        for ligne in self.lignes:
            familles.setdefault(ligne.famille_id, []).append(ligne)
        return familles

    @property
    def empreinte(self) -> str:
        """A digest of the lines and anomalies: identical inputs always give the same one.

        The SHA-256 of `{"anomalies": [...], "lignes": [...]}` in canonical JSON: each line and
        anomaly an object of its fields, keys sorted, no spaces, UTF-8 unescaped, UUIDs and dates
        as text (`json_canonique` spells out that definition; msgspec writes the same bytes,
        tested, dozens of times faster: the replay and the drafts digest every family-month)."""
        return hashlib.sha256(
            _ENCODEUR_CANONIQUE.encode({"anomalies": self.anomalies, "lignes": self.lignes})
        ).hexdigest()


_ENCODEUR_CANONIQUE = msgspec.json.Encoder(order="sorted")


def json_canonique(calcul: Calcul) -> bytes:
    """The bytes `Calcul.empreinte` digests, by the definition: `json.dumps` of the fields."""

    def canonique(objet: LigneFacture | Anomalie) -> dict[str, object]:
        return {
            k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, UUID) else v)
            for k, v in (
                msgspec.structs.asdict(objet) if isinstance(objet, LigneFacture) else asdict(objet)
            ).items()
        }

    contenu = {
        "lignes": [canonique(x) for x in calcul.lignes],
        "anomalies": [canonique(a) for a in calcul.anomalies],
    }
    return json.dumps(contenu, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@lru_cache(maxsize=4_096)
def _date(jour: date) -> str:
    # Every line's explanation names its day, and the drafts price a commune's year of lines again
    # and again: `strftime` alone was a fifth of the pricing's processor. The same text as
    # `strftime("%d/%m/%Y")`, each day formatted once.
    return f"{jour.day:02d}/{jour.month:02d}/{jour.year}"


def _minutes(debut: time | None, fin: time | None) -> int:
    if debut is None or fin is None:
        return 0
    return max(0, (datetime.combine(date.min, fin) - datetime.combine(date.min, debut)).seconds // 60)


def _facturable(etat: Etat, presence: Presence, mode: ModeFacturation) -> tuple[bool, str | None]:
    """Whether a day-unit is billed, and the anomaly when it cannot be decided."""
    if etat in (Etat.PRESENT, Etat.PRESENT_NON_RESERVE, Etat.ABSENT_JUSTIFIE, Etat.ABSENT_NON_JUSTIFIE):
        return True, None
    if etat is Etat.ANNULE:
        return presence.facturable, None
    if etat is Etat.RESERVE:
        if mode is ModeFacturation.PRESENCES:
            return False, "réservé mais non pointé"
        return True, None
    return False, None


def calculer(
    annee: int,
    mois: int,
    familles: dict[UUID, FamilleFacturee],
    enfants: dict[UUID, EnfantFacture],
    accueils: dict[UUID, Accueil],
    plannings: list[PresencesDuMois],
) -> Calcul:
    """Every billable day-unit of the month, priced by the grid and the QF in force that day."""
    retenus: list[tuple[PresencesDuMois, date, str, Presence]] = []
    anomalies: list[Anomalie] = []
    for planning in plannings:
        accueil = accueils.get(planning.accueil_id)
        if accueil is None or planning.enfant_id not in enfants:
            continue
        for jour, unite, presence in planning.presences:
            if (jour.year, jour.month) != (annee, mois):
                continue
            if jour in accueil.fermetures and presence.etat is not Etat.PRESENT_NON_RESERVE:
                # The commune closed (strike, outing…): a booked day it did not provide is not billed.
                anomalies.append(
                    Anomalie(
                        planning.enfant_id,
                        planning.accueil_id,
                        jour,
                        unite,
                        f"fermé ({accueil.fermetures[jour]}) : non facturé",
                    )
                )
                continue
            facture, anomalie = _facturable(presence.etat, presence, accueil.config.facturation)
            if anomalie:
                anomalies.append(Anomalie(planning.enfant_id, planning.accueil_id, jour, unite, anomalie))
            if facture:
                retenus.append((planning, jour, unite, presence))
    rangs = _rangs({p.enfant_id for p, *_ in retenus}, enfants)
    lignes: list[LigneFacture] = []
    for planning, jour, code, presence in retenus:
        enfant = enfants[planning.enfant_id]
        famille = familles.get(enfant.famille_id)
        accueil = accueils[planning.accueil_id]
        lignes_jour, anomalie = _lignes(
            accueil, enfant, famille, rangs[enfant.enfant_id], jour, code, presence
        )
        lignes.extend(lignes_jour)
        if anomalie:
            anomalies.append(Anomalie(enfant.enfant_id, accueil.id, jour, code, anomalie))
    lignes.sort(
        key=lambda ligne: (
            str(ligne.famille_id),
            str(ligne.enfant_id),
            ligne.jour,
            ligne.accueil,
            ligne.unite,
            ligne.nature,
        )
    )
    anomalies.sort(key=ordre_anomalie)
    return Calcul(tuple(lignes), tuple(anomalies))


def ordre_anomalie(a: Anomalie) -> tuple[str, date, str, str]:
    """The order of a computation's anomalies: by child, day, accueil, unit."""
    return (str(a.enfant_id), a.jour, str(a.accueil_id), a.unite)


def _rangs(enfant_ids: set[UUID], enfants: dict[UUID, EnfantFacture]) -> dict[UUID, int]:
    """Rank among the family's children billed this month, eldest first."""
    par_famille: dict[UUID, list[EnfantFacture]] = {}
    for enfant_id in enfant_ids:
        par_famille.setdefault(enfants[enfant_id].famille_id, []).append(enfants[enfant_id])
    rangs: dict[UUID, int] = {}
    for fratrie in par_famille.values():
        if all(e.ordre is not None for e in fratrie):
            fratrie.sort(key=lambda e: (e.ordre or 0, str(e.enfant_id)))
        else:
            fratrie.sort(key=lambda e: aine_d_abord(e.naissance, e.enfant_id))
        for rang, enfant in enumerate(fratrie, start=1):
            rangs[enfant.enfant_id] = rang
    return rangs


def aine_d_abord(naissance: date | None, enfant_id: UUID) -> tuple[date, str]:
    """Siblings' order: eldest first, an unknown birth date last, ties by id."""
    return (naissance or date.max, str(enfant_id))


def _lignes(
    accueil: Accueil,
    enfant: EnfantFacture,
    famille: FamilleFacturee | None,
    rang: int,
    jour: date,
    code: str,
    presence: Presence,
) -> tuple[list[LigneFacture], str | None]:
    tarification = accueil.tarification_au(jour)
    resident = famille.resident if famille else False
    grille = tarification.grille(code, resident) if tarification else None
    if tarification is None or grille is None:
        return [], f"aucun tarif pour {code} le {_date(jour)}"
    unite = accueil.unite(code)
    qf = quotient_au(list(famille.quotients), jour) if famille else None
    prix = prix_unitaire(grille, qf.valeur if qf else None, rang, enfant.pai)
    contexte = [
        f"grille du {_date(tarification.valable_du)}",
        "résident" if resident else "extérieur",
        f"QF {qf.valeur} € ({qf.source.value}, depuis le {_date(qf.valable_du)})" if qf else "QF non fourni",
    ]
    quantite = 1
    if grille.mode is ModeTarif.DEMI_HEURE and unite is not None:
        if presence.arrivee and presence.depart:
            minutes = _minutes(presence.arrivee, presence.depart)
            duree = f"{presence.arrivee:%H:%M}–{presence.depart:%H:%M}, toute demi-heure entamée est due"
        else:
            minutes = _minutes(unite.debut, unite.fin)
            duree = "durée de l'unité"
        quantite = demi_heures_entamees(minutes)
        contexte.append(f"{quantite} demi-heure(s) ({duree})")
    regle, prix_applique = _regle(presence, grille, prix)
    nature_libelle = "; ".join([regle, prix.explication, *contexte])
    jour_unite = f"{_date(jour)} {unite.libelle if unite else code}"
    base = LigneFacture(
        famille_id=enfant.famille_id,
        enfant_id=enfant.enfant_id,
        accueil_id=accueil.id,
        accueil=f"{accueil.config.etablissement} – {accueil.config.mode_accueil}",
        jour=jour,
        unite=code,
        nature=PRESTATION,
        quantite=quantite,
        prix_unitaire_cents=prix_applique,
        montant_cents=quantite * prix_applique,
        explication=f"{jour_unite} : {nature_libelle}",
    )
    lignes = [base]
    for nature, montant, texte in _supplements(
        presence, grille, prix_applique, f"{_date(jour)} {code}", jour_unite
    ):
        lignes.append(
            msgspec.structs.replace(
                base,
                nature=nature,
                quantite=1,
                prix_unitaire_cents=montant,
                montant_cents=montant,
                explication=texte,
            )
        )
    return lignes, None


def _regle(presence: Presence, grille: Grille, prix: Prix) -> tuple[str, int]:
    etat = presence.etat
    if etat is Etat.ABSENT_JUSTIFIE:
        return "absence justifiée, non facturée", 0
    if etat is Etat.ABSENT_NON_JUSTIFIE:
        if grille.absence_non_justifiee_cents is not None:
            return (
                f"absence non justifiée : {euros(grille.absence_non_justifiee_cents)}",
                grille.absence_non_justifiee_cents,
            )
        if grille.absence_non_justifiee_pourcent is not None:
            montant = pourcentage(prix.cents, grille.absence_non_justifiee_pourcent)
            return f"absence non justifiée : {grille.absence_non_justifiee_pourcent} % du tarif", montant
        return "absence non justifiée, facturée", prix.cents
    if etat is Etat.PRESENT_NON_RESERVE:
        if grille.non_reserve_cents is not None:
            return f"présence non réservée : {euros(grille.non_reserve_cents)}", grille.non_reserve_cents
        return "présence non réservée", prix.cents
    if etat is Etat.ANNULE:
        return "annulation hors délai, facturée", prix.cents
    if etat is Etat.PRESENT:
        return "présent", prix.cents
    return "réservé", prix.cents


def _majoration(presence: Presence, prix_cents: int) -> tuple[int, str] | None:
    if presence.etat in (Etat.ABSENT_JUSTIFIE, Etat.ANNULE):
        return None
    if presence.majoration_cents:
        return presence.majoration_cents, euros(presence.majoration_cents)
    if presence.majoration_pourcent:
        montant = pourcentage(prix_cents, Decimal(presence.majoration_pourcent))
        return montant, f"{presence.majoration_pourcent} % de {euros(prix_cents)}"
    return None


def _supplements(
    presence: Presence, grille: Grille, prix_cents: int, jour_code: str, jour_unite: str
) -> list[tuple[str, int, str]]:
    """The lines added to a day-unit's own (nature, amount, explanation): each surcharge or fee on a
    line of its own, so that a parent reads what it is for."""
    supplements: list[tuple[str, int, str]] = []
    majoration = _majoration(presence, prix_cents)
    if majoration:
        montant, texte = majoration
        supplements.append(
            (MAJORATION, montant, f"{jour_code} : majoration pour réservation hors délai ({texte})")
        )
    if presence.etat is Etat.PRESENT_NON_RESERVE and grille.non_reserve_majoration_cents:
        montant = grille.non_reserve_majoration_cents
        supplements.append(
            (
                SANS_RESERVATION,
                montant,
                f"{jour_unite} : majoration pour présence sans réservation ({euros(montant)})",
            )
        )
    if presence.etat in (Etat.PRESENT, Etat.PRESENT_NON_RESERVE) and presence.depart is not None:
        seuil = grille.retard(presence.depart)
        if seuil is not None and seuil.montant_cents:
            supplements.append(
                (
                    RETARD,
                    seuil.montant_cents,
                    f"{jour_unite} : retard, départ à {presence.depart:%H:%M} après {seuil.apres:%H:%M} : "
                    f"{euros(seuil.montant_cents)}",
                )
            )
    return supplements


EMPREINTE_PAR_FAMILLE = 2
"""The campaign digest's definition since billing became a projection: a digest of the families'
digests (version 1, a digest of all the lines at once, stays for the campaigns that carry it)."""


def empreinte_campagne(empreintes: Iterable[tuple[UUID, str]]) -> str:
    """The digest of a campaign's family digests, in family id order: `sha256` of the lines
    `<famille_id>:<digest>` joined by a line feed (what PostgreSQL computes from the drafts)."""
    brut = "\n".join(f"{f}:{e}" for f, e in sorted(empreintes, key=lambda fe: str(fe[0])))
    return hashlib.sha256(brut.encode()).hexdigest()
