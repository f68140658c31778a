"""Billing periods: campaigns computed from the log up to a recorded position, issued with
gap-free numbers, replayed as of any position, corrected by differences only."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import StoredEvent

from portail.application.contexte import Contexte
from portail.application.familles import PARIS
from portail.application.portail import Portail
from portail.domain.campagne import (
    Campagne,
    EmissionsPeriode,
    Facture,
    FactureEmise,
    Numerotation,
    Report,
    Totaux,
)
from portail.domain.commune import DELAI_PRENOTIFICATION_JOURS, ID_PARAMETRES, Parametres
from portail.domain.encours import Encours, ModeReglement, Representation
from portail.domain.erreurs import ErreurValidation, Introuvable, RegleMetier
from portail.domain.facturation import (
    EMPREINTE_PAR_FAMILLE,
    Anomalie,
    Calcul,
    LigneFacture,
    Periode,
    empreinte_campagne,
    ordre_anomalie,
)
from portail.domain.facturation_famille import accueils_de, facturer_famille
from portail.domain.famille import Famille
from portail.domain.regles.target2 import prochain_jour_ouvre
from portail.domain.sepa import date_de_prelevement
from portail.domain.valeurs import texte
from portail.projections import brouillons
from portail.projections.executeur import BROUILLONS_A_REFAIRE
from portail.projections.executeur import NOM as NOM_PROJECTIONS
from portail.store import lecture
from portail.store.pliage import Pliage

ECHEANCE_JOURS = 30
"""Days from issue to the due date, which then moves to the next TARGET2 business day: a debit
collected on the due date can only settle on such a day."""


@dataclass(frozen=True)
class Rejeu:
    calcul: Calcul
    empreinte: str
    """The digest of the families' digests (a campaign's since billing became a projection)."""


class ServiceFacturation:
    def __init__(self, portail: Portail) -> None:
        self.portail = portail
        datastore = portail.factory.datastore  # type: ignore[attr-defined]
        self.schema: str = datastore.schema
        self.pliage = Pliage(datastore, portail.mapper, portail.recorder.events_table_name)  # type: ignore[attr-defined]
        self._index_complet = False
        self.attendre_vues: Callable[[int], bool] = lambda _position: False
        """Wait (bounded) until the drafts include a log position: set by the composition root."""

    # Positions

    def position(self, jusqu_a: int | datetime | None) -> int:
        """A log position given as itself, as a date-time (the last event recorded by then), or now."""
        fin = self._derniere_position()
        if jusqu_a is None:
            return fin
        if isinstance(jusqu_a, int):
            if not 0 <= jusqu_a <= fin:
                raise ErreurValidation.sur("jusqu_a", f"position entre 0 et {fin}")
            return jusqu_a
        instant = jusqu_a if jusqu_a.tzinfo else jusqu_a.replace(tzinfo=PARIS)
        # Positions follow commit order, so event times grow with them: a binary search for the
        # last event recorded at or before `instant` (ids may have gaps).
        bas, haut = 0, fin
        while bas < haut:
            milieu = (bas + haut + 1) // 2
            page = self.portail.recorder.select_notifications(start=milieu, limit=1)
            if page and page[0].id <= haut and self._horodatage(page[0]) <= instant:
                bas = page[0].id
            else:
                haut = milieu - 1
        return bas

    def _derniere_position(self) -> int:
        """The log's last position, in one prepared statement (no transaction around it)."""
        [(fin,)] = lecture.tuples(self.pliage.ds, f"SELECT max(notification_id) FROM {self.pliage.table}")
        return int(fin or 0)

    def _horodatage(self, notification: Any) -> datetime:
        """When the application recorded the event (its audit time, on the application clock)."""
        evenement = self.portail.mapper.to_domain_event(notification)
        audit = getattr(evenement, "audit", None)
        if isinstance(audit, dict) and audit.get("horodatage"):
            return datetime.fromisoformat(audit["horodatage"])
        horodatage: datetime = evenement.timestamp  # type: ignore[attr-defined]
        return horodatage

    # The oracle: facts folded from the log as of a position, a batch of families at a time

    def par_famille(
        self, periode: Periode, position: int, familles: Iterable[UUID] | None = None
    ) -> Iterator[tuple[UUID, Calcul]]:
        """Each family's lines and anomalies of `periode` as of `position`, folded from the log
        (nothing computed before is reused), in family id order; families with neither are left
        out."""
        if not self._index_complet:
            # The fold reads a family's events by the family column of the log: events written
            # before that column existed get it first (once; the runner does the same).
            self.portail.completer_index_journal()
            self._index_complet = True
        communs = self.pliage.communs(position)
        accueils = accueils_de(communs)
        ids = sorted(
            familles if familles is not None else self.pliage.familles_facturables(position), key=str
        )
        for famille_id, aggregats, conserves in self.pliage.familles(position, ids):
            calcul = facturer_famille(
                famille_id, aggregats, communs, periode.annee, periode.mois, position, conserves, accueils
            )
            if calcul.lignes or calcul.anomalies:
                yield famille_id, calcul

    def calculer(self, periode: Periode, position: int) -> Calcul:
        """The commune's lines of `periode` as of `position` (the replay)."""
        return self.rejouer(periode, position).calcul

    def rejouer(self, periode: Periode, position: int) -> Rejeu:
        """The replay with the digest a campaign prepared at `position` would carry."""
        lignes: list[LigneFacture] = []
        anomalies: list[Anomalie] = []
        empreintes: list[tuple[UUID, str]] = []
        for famille_id, calcul in self.par_famille(periode, position):
            lignes.extend(calcul.lignes)
            anomalies.extend(calcul.anomalies)
            empreintes.append((famille_id, calcul.empreinte))
        anomalies.sort(key=ordre_anomalie)
        return Rejeu(Calcul(tuple(lignes), tuple(anomalies)), empreinte_campagne(empreintes))

    # Campaigns

    def campagne(self, campagne_id: UUID) -> Campagne:
        try:
            return self.portail.charger(Campagne, campagne_id)
        except Introuvable:
            raise Introuvable("Campagne introuvable.") from None

    def preparer(
        self, contexte: Contexte, periode_texte: str, jusqu_a: int | datetime | None
    ) -> tuple[Campagne, Calcul]:
        """Record the campaign of a month: as of now, the sum of the drafts at the runner's
        position (waited for); as of an earlier position, or when the drafts cannot catch up,
        the replay folded from the log. Returns the campaign and its anomalies (no lines)."""
        periode = Periode.lire(periode_texte)
        if str(periode) in self._periodes_emises():
            raise RegleMetier(
                f"La période {periode} est déjà facturée ; une campagne corrective porte les changements."
            )
        campagne_id = uuid4()
        if jusqu_a is None:
            fin = self.position(None)
            if self.attendre_vues(fin):
                somme = self._somme_des_brouillons(campagne_id, periode)
                if somme is not None and somme[0] >= fin:
                    position, totaux, anomalies, empreinte = somme
                    campagne = Campagne(
                        id=campagne_id,
                        periode=str(periode),
                        position=position,
                        campagne_origine=None,
                        totaux=totaux,
                        anomalies=anomalies,
                        empreinte=empreinte,
                        version_empreinte=EMPREINTE_PAR_FAMILLE,
                    )
                    try:
                        self.portail.enregistrer(contexte, campagne)
                    except BaseException:
                        self._oublier_copie(campagne_id)
                        raise
                    copiees = self._anomalies_copiees(campagne_id) if anomalies else ()
                    return campagne, Calcul((), copiees)
                # Drafts not to be summed (a rebuild's, or some without a digest): what was
                # copied goes, and the campaign is folded.
                self._oublier_copie(campagne_id)
        position = self.position(jusqu_a)
        rejeu = self.rejouer(periode, position)
        calcul = rejeu.calcul
        campagne = Campagne(
            id=campagne_id,
            periode=str(periode),
            position=position,
            campagne_origine=None,
            totaux=Totaux(len(calcul.par_famille()), len(calcul.lignes), calcul.montant_cents),
            anomalies=len(calcul.anomalies),
            empreinte=rejeu.empreinte,
            version_empreinte=EMPREINTE_PAR_FAMILLE,
        )
        self.portail.enregistrer(contexte, campagne)
        return campagne, Calcul((), calcul.anomalies)

    def a_facturer(self, periode: Periode) -> bool:
        """Whether a campaign of `periode` prepared now would bill a line (the drafts once they
        include the log's last position, else the replay)."""
        fin = self.position(None)
        if self.attendre_vues(fin) and not lecture.tuples(
            self.pliage.ds,
            f"SELECT 1 FROM {self.schema}.proj_tracking WHERE nom = %s",
            (BROUILLONS_A_REFAIRE,),
        ):
            return bool(
                lecture.tuples(
                    self.pliage.ds,
                    f"SELECT 1 FROM {self.schema}.proj_brouillons WHERE mois = %s AND lignes > 0 LIMIT 1",
                    (str(periode),),
                )
            )
        return any(calcul.lignes for _, calcul in self.par_famille(periode, fin))

    def _somme_des_brouillons(
        self, campagne_id: UUID, periode: Periode
    ) -> tuple[int, Totaux, int, str] | None:
        """Copy the month's drafts for the campaign and sum them, in one statement (one snapshot:
        the runner's position and its drafts agree). None while a rebuild's drafts are still to
        be priced, or drafts written before they carried a digest are left."""
        s = self.schema
        requete = (
            f"WITH refaire AS (SELECT 1 FROM {s}.proj_tracking WHERE nom = %(refaire)s),"
            f" b AS (SELECT famille_id, lignes, montant_cents, anomalies, empreinte FROM {s}.proj_brouillons"
            " WHERE mois = %(mois)s AND empreinte IS NOT NULL AND NOT EXISTS (SELECT 1 FROM refaire)"
            " ORDER BY famille_id),"
            f" copie AS (INSERT INTO {s}.{brouillons.TABLE_COPIES} (campagne_id, famille_ids, empreintes, anomalies)"
            " SELECT %(id)s, array_agg(famille_id), array_agg(empreinte), array_agg(anomalies) FROM b"
            " HAVING count(*) > 0)"
            f" SELECT (SELECT position FROM {s}.proj_tracking WHERE nom = %(nom)s) AS position,"
            " EXISTS (SELECT 1 FROM refaire) OR EXISTS (SELECT 1 FROM"
            f" {s}.proj_brouillons WHERE mois = %(mois)s AND empreinte IS NULL) AS a_refaire,"
            " count(*) FILTER (WHERE lignes > 0) AS familles,"
            " coalesce(sum(lignes), 0) AS lignes, coalesce(sum(montant_cents), 0) AS montant,"
            " coalesce(sum(anomalies), 0) AS anomalies,"
            " encode(sha256(convert_to(coalesce(string_agg(famille_id::text || ':' || empreinte, E'\\n'"
            " ORDER BY famille_id), ''), 'UTF8')), 'hex') AS empreinte FROM b"
        )
        parametres = {
            "refaire": BROUILLONS_A_REFAIRE,
            "id": campagne_id,
            "mois": str(periode),
            "nom": NOM_PROJECTIONS,
        }
        with self.pliage.ds.transaction(commit=True) as curs:
            # The copy is derived from the drafts, and only the campaign's own event is the
            # record: its commit, which follows, flushes this transaction's WAL with it. Until
            # then a crash loses a copy that no campaign names. One disk flush per campaign.
            curs.execute("SET LOCAL synchronous_commit TO off")
            ligne = curs.execute(requete, parametres, prepare=True).fetchone()
        assert ligne is not None
        position, a_refaire, familles, lignes, montant, anomalies, empreinte = (
            ligne[c]
            for c in ("position", "a_refaire", "familles", "lignes", "montant", "anomalies", "empreinte")
        )
        if position is None or a_refaire:
            return None
        return int(position), Totaux(int(familles), int(lignes), int(montant)), int(anomalies), empreinte

    def _oublier_copie(self, campagne_id: UUID) -> None:
        with self.pliage.ds.transaction(commit=True) as curs:
            curs.execute(
                f"DELETE FROM {self.schema}.{brouillons.TABLE_COPIES} WHERE campagne_id = %s", (campagne_id,)
            )

    def _copie(self, campagne: Campagne) -> Calcul | None:
        """The campaign's lines from the drafts copied when it was prepared; None when the copy
        is gone (a rebuild) or does not sum to the campaign's digest."""
        s = self.schema
        lignes = lecture.tuples(
            self.pliage.ds,
            f"SELECT k.famille_id, k.empreinte, k.anomalies, c.lignes, c.anomalies"
            f" FROM {s}.{brouillons.TABLE_COPIES} x, unnest(x.famille_ids, x.empreintes, x.anomalies)"
            " WITH ORDINALITY AS k(famille_id, empreinte, anomalies, rang)"
            f" LEFT JOIN {s}.proj_lignes_facture c ON c.empreinte = k.empreinte"
            " WHERE x.campagne_id = %s ORDER BY k.rang",
            (campagne.id,),
        )
        if (
            not lignes
            or empreinte_campagne((r[0], r[1]) for r in lignes) != campagne.empreinte
            or any(r[3] is None for r in lignes)
        ):
            return None
        tout_lignes: list[LigneFacture] = []
        tout_anomalies: list[Anomalie] = []
        for r in lignes:
            calcul = brouillons.relire(bytes(r[3]), bytes(r[4]))
            tout_lignes.extend(calcul.lignes)
            tout_anomalies.extend(calcul.anomalies)
        tout_anomalies.sort(key=ordre_anomalie)
        return Calcul(tuple(tout_lignes), tuple(tout_anomalies))

    def _anomalies_copiees(self, campagne_id: UUID) -> tuple[Anomalie, ...]:
        s = self.schema
        anomalies: list[Anomalie] = []
        for (contenu,) in lecture.tuples(
            self.pliage.ds,
            f"SELECT c.anomalies FROM {s}.{brouillons.TABLE_COPIES} x,"
            " unnest(x.empreintes, x.anomalies) AS k(empreinte, anomalies)"
            f" JOIN {s}.proj_lignes_facture c ON c.empreinte = k.empreinte"
            " WHERE x.campagne_id = %s AND k.anomalies > 0",
            (campagne_id,),
        ):
            anomalies.extend(brouillons.relire(b"[]", bytes(contenu)).anomalies)
        anomalies.sort(key=ordre_anomalie)
        return tuple(anomalies)

    def lignes(self, campagne: Campagne) -> Calcul:
        """A campaign's lines (a corrective one: its differences): the drafts copied when it was
        prepared, else recomputed from its position. Lines that do not give the campaign's
        digest are refused, never served."""
        periode = Periode.lire(campagne.periode)
        if campagne.campagne_origine is not None:
            calcul = self._differences(campagne.campagne_origine, periode, campagne.position)
            empreinte = calcul.empreinte
        elif campagne.version_empreinte == EMPREINTE_PAR_FAMILLE:
            copie = self._copie(campagne)
            if copie is not None:
                return copie
            rejeu = self.rejouer(periode, campagne.position)
            calcul, empreinte = rejeu.calcul, rejeu.empreinte
        else:
            calcul = self.calculer(periode, campagne.position)
            empreinte = calcul.empreinte
        if empreinte != campagne.empreinte:
            raise RegleMetier("Les lignes recalculées ne correspondent plus à l'empreinte de la campagne.")
        return calcul

    def verifier(self, campagne: Campagne) -> tuple[Calcul, str]:
        """The replay of a campaign, folded from the log at its position (never from a copy),
        and the digest it gives, to compare with the recorded one."""
        periode = Periode.lire(campagne.periode)
        if campagne.campagne_origine is not None:
            calcul = self._differences(campagne.campagne_origine, periode, campagne.position)
            return calcul, calcul.empreinte
        if campagne.version_empreinte == EMPREINTE_PAR_FAMILLE:
            rejeu = self.rejouer(periode, campagne.position)
            return rejeu.calcul, rejeu.empreinte
        calcul = self.calculer(periode, campagne.position)
        return calcul, calcul.empreinte

    def corriger(
        self, contexte: Contexte, campagne_id: UUID, jusqu_a: int | datetime | None
    ) -> tuple[Campagne, Calcul]:
        origine = self.campagne(campagne_id)
        while origine.campagne_origine is not None:
            origine = self.campagne(origine.campagne_origine)
        if origine.emise_le is None:
            raise RegleMetier(
                "Seule une campagne émise se corrige ; ce brouillon peut simplement être refait."
            )
        periode = Periode.lire(origine.periode)
        position = self.position(jusqu_a)
        calcul = self._differences(origine.id, periode, position)
        totaux = Totaux(len(calcul.par_famille()), len(calcul.lignes), calcul.montant_cents)
        corrective = Campagne(
            id=uuid4(),
            periode=str(periode),
            position=position,
            campagne_origine=origine.id,
            totaux=totaux,
            anomalies=len(calcul.anomalies),
            empreinte=calcul.empreinte,
        )
        self.portail.enregistrer(contexte, corrective)
        return corrective, calcul

    def _factures_de_la_periode(
        self, periode: Periode, avant: int, famille_id: UUID | None = None
    ) -> list[Facture]:
        """Invoices issued before `avant` (a log position) that may bill days of `periode`: the
        period's own campaigns, and later ones that carried it (one family's only, if given)."""
        factures: list[Facture] = []
        for campagne in self.faits_campagnes().values():
            if campagne.emise_le is None or campagne.position >= avant or campagne.periode < str(periode):
                continue
            factures.extend(
                self.portail.charger(Facture, f.facture_id)
                for f in campagne.factures
                if famille_id is None or f.famille_id == famille_id
            )
        return factures

    def factures_corrigees(self, facture: Facture) -> list[Facture]:
        """For an invoice or credit note of a corrective campaign, the family's earlier invoices
        that billed one of its lines (the ones it cancels or replaces), oldest first; none for
        an invoice of an original campaign."""
        campagne = self.campagne(facture.campagne_id)
        if campagne.campagne_origine is None:
            return []
        cles = {ligne.cle for ligne in facture.lignes}
        anterieures = self._factures_de_la_periode(
            Periode.lire(campagne.periode), campagne.position, facture.famille_id
        )
        corrigees = [f for f in anterieures if any(ligne.cle in cles for ligne in f.lignes)]
        return sorted(corrigees, key=lambda f: (f.emise_le, f.numero))

    def _periodes_emises(self) -> set[str]:
        """The periods whose original campaign was issued, from the campaigns' small creation
        events and the mere presence of an issue event (an issue lists every invoice: not read)."""
        table = self.pliage.table
        periodes: set[str] = set()
        for originator_id, version, topic, state in lecture.tuples(
            self.pliage.ds,
            f"SELECT p.originator_id, p.originator_version, p.topic, p.state FROM {table} p"
            " WHERE p.topic = %(preparee)s"
            f" AND EXISTS (SELECT 1 FROM {table} e WHERE e.topic = %(emise)s AND e.originator_id = p.originator_id)",
            {"preparee": Campagne.Preparee.TOPIC, "emise": Campagne.Emise.TOPIC},
        ):
            preparee = self.portail.mapper.to_domain_event(
                StoredEvent(originator_id, version, topic, bytes(state))
            )
            if getattr(preparee, "campagne_origine", None) is None:
                periodes.add(str(getattr(preparee, "periode", "")))
        return periodes

    def faits_campagnes(self) -> dict[UUID, Campagne]:
        """Every campaign recorded, for reading only (an issued one holds a line per invoice:
        read as kept, never copied)."""
        return {i: self.portail.lire(Campagne, i) for i in self._auteurs(Campagne.Preparee.TOPIC)}

    def _auteurs(self, topic: str) -> list[UUID]:
        """The aggregates that recorded an event of `topic`, in the order of their first one."""
        fin = self.portail.recorder.max_notification_id() or 0
        auteurs: dict[UUID, None] = {}
        debut = 0
        while debut < fin:
            page = self.portail.recorder.select_notifications(
                start=debut, limit=1000, stop=fin, inclusive_of_start=False, topics=(topic,)
            )
            if not page:
                break
            auteurs.update((UUID(str(n.originator_id)), None) for n in page)
            debut = page[-1].id
        return list(auteurs)

    def _differences(self, origine_id: UUID, periode: Periode, position: int) -> Calcul:
        """Only what changed since issue: a line cancelling what was billed, then the new line."""
        facturees: dict[tuple[str, str, str, str, str], list[LigneFacture]] = {}
        for facture in self._factures_de_la_periode(periode, position):
            for ligne in facture.lignes:
                if (ligne.jour.year, ligne.jour.month) == (periode.annee, periode.mois):
                    facturees.setdefault(ligne.cle, []).append(ligne)
        # A month still waiting to be carried is billed, fresh, when it is: nothing to correct.
        en_report = {f for f, periodes in self._reports_ouverts().items() if str(periode) in periodes}
        # An erased family's facts can no longer be read in full (residence, birth order): what
        # was issued to it stands, and nothing is recomputed against it.
        en_report |= self._effacees(position)
        nouveau = self.calculer(periode, position)
        actuelles = {ligne.cle: ligne for ligne in nouveau.lignes if ligne.famille_id not in en_report}
        facturees = {k: v for k, v in facturees.items() if v[0].famille_id not in en_report}
        differences: list[LigneFacture] = []
        for cle in sorted(set(facturees) | set(actuelles)):
            lignes = facturees.get(cle, [])
            net_quantite = sum(ligne.quantite for ligne in lignes)
            net_montant = sum(ligne.montant_cents for ligne in lignes)
            actuelle = actuelles.get(cle)
            if actuelle is not None and (actuelle.quantite, actuelle.montant_cents) == (
                net_quantite,
                net_montant,
            ):
                continue
            if actuelle is None and net_montant == 0 and net_quantite == 0:
                continue
            if lignes and (net_quantite or net_montant):
                derniere = lignes[-1]
                differences.append(
                    LigneFacture(
                        famille_id=derniere.famille_id,
                        enfant_id=derniere.enfant_id,
                        accueil_id=derniere.accueil_id,
                        accueil=derniere.accueil,
                        jour=derniere.jour,
                        unite=derniere.unite,
                        nature=derniere.nature,
                        quantite=-net_quantite,
                        prix_unitaire_cents=derniere.prix_unitaire_cents,
                        montant_cents=-net_montant,
                        explication=f"annulation de la ligne facturée : {derniere.explication}",
                    )
                )
            if actuelle is not None:
                differences.append(actuelle)
        return Calcul(tuple(differences), nouveau.anomalies)

    def _effacees(self, position: int) -> set[UUID]:
        """The families erased at `position`."""
        lignes = lecture.tuples(
            self.pliage.ds,
            f"SELECT originator_id FROM {self.pliage.table} WHERE topic = %s AND notification_id <= %s",
            (Famille.Effacee.TOPIC, position),
        )
        return {r[0] for r in lignes}

    def emettre(self, contexte: Contexte, campagne_id: UUID, seuil_cents: int | None = None) -> Campagne:
        """Issue one invoice per family (a credit note when the difference is negative), numbered
        without gap in the same transaction; a family under the threshold is carried over."""
        campagne = self.campagne(campagne_id)
        if campagne.emise_le is not None:
            raise RegleMetier("Cette campagne a déjà été émise.")
        self._verifier_a_jour(campagne)
        # Issued from the replay folded at the campaign's position, never from a copy.
        calcul, empreinte = self.verifier(campagne)
        if empreinte != campagne.empreinte:
            raise RegleMetier("Les lignes recalculées ne correspondent plus à l'empreinte de la campagne.")
        parametres = self._parametres()
        seuil = (
            seuil_cents
            if seuil_cents is not None
            else (parametres.seuil_facturation_cents if parametres else 0)
        )
        prefixe = parametres.regie.prefixe_factures if parametres and parametres.regie else "F"

        def commande() -> Campagne:
            actuelle = self.campagne(campagne_id)
            if actuelle.emise_le is not None:
                raise RegleMetier("Cette campagne a déjà été émise.")
            # Checked again inside the retried command, after `emissions` is read: an issue of the
            # same period committed before that read is seen by the check, one committed after it
            # makes this save conflict on `emissions`, and the retry's check sees it.
            emissions = self._emissions(actuelle.periode)
            self._verifier_a_jour(actuelle)
            emissions.noter(actuelle.id)
            aujourd_hui = self.portail.horloge().astimezone(PARIS).date()
            numerotation = self._numerotation(prefixe, aujourd_hui.year)
            corrective = actuelle.campagne_origine is not None
            par_famille = calcul.par_famille()
            # Months left under the threshold come along on the family's next invoice, priced
            # on the facts known now.
            reports: dict[UUID, list[str]] = (
                {} if corrective else self._reports_ouverts(exclure=actuelle.periode)
            )
            for famille_id, periodes in reports.items():
                for periode in periodes:
                    for _, report in self.par_famille(Periode.lire(periode), actuelle.position, [famille_id]):
                        par_famille.setdefault(famille_id, []).extend(report.lignes)
            a_facturer: list[tuple[UUID, list[LigneFacture]]] = []
            reportees: list[UUID] = []
            reports_inclus: list[Report] = []
            for famille_id, lignes in sorted(par_famille.items(), key=lambda fl: str(fl[0])):
                total = sum(ligne.montant_cents for ligne in lignes)
                if (not corrective and total < seuil) or not any(ligne.montant_cents for ligne in lignes):
                    if any(ligne.jour.strftime("%Y-%m") == actuelle.periode for ligne in lignes):
                        reportees.append(famille_id)
                else:
                    a_facturer.append((famille_id, lignes))
                    reports_inclus.extend(Report(p, famille_id) for p in reports.get(famille_id, []))
            numeros = numerotation.attribuer(len(a_facturer))
            factures: list[Facture] = []
            emises: list[FactureEmise] = []
            for numero, (famille_id, lignes) in zip(numeros, a_facturer, strict=True):
                montant = sum(ligne.montant_cents for ligne in lignes)
                facture = Facture(
                    numero=numero,
                    famille_id=famille_id,
                    campagne_id=actuelle.id,
                    periode=actuelle.periode,
                    lignes=tuple(lignes),
                    montant_cents=montant,
                    emise_le=aujourd_hui,
                    echeance=prochain_jour_ouvre(aujourd_hui + timedelta(days=ECHEANCE_JOURS)),
                )
                factures.append(facture)
                emises.append(FactureEmise(famille_id, facture.id, numero, montant))
            actuelle.emettre(aujourd_hui, emises, reportees, reports_inclus)
            encours = [self._encours(f.famille_id) for f in factures]
            for facture, compte in zip(factures, encours, strict=True):
                compte.facture_emise(facture.id, facture.numero, facture.montant_cents, facture.echeance)
            # Invoices first: the read models see an invoice before what pays it.
            self.portail.enregistrer(contexte, actuelle, emissions, numerotation, *factures, *encours)
            return actuelle

        return self.portail.avec_reessais(commande)

    def _verifier_a_jour(self, campagne: Campagne) -> None:
        """A draft that would bill a period twice is refused: another campaign of the period was
        issued, or (for a correction) one was issued from facts this draft did not see."""
        for autre in self.faits_campagnes().values():
            if autre.id == campagne.id or autre.emise_le is None:
                continue
            if (
                campagne.campagne_origine is None
                and autre.periode == campagne.periode
                and autre.campagne_origine is None
            ):
                raise RegleMetier(f"La période {campagne.periode} est déjà facturée par une autre campagne.")
            if (
                campagne.campagne_origine is not None
                and autre.periode >= campagne.periode
                and autre.position >= campagne.position
            ):
                raise RegleMetier(
                    "Une facturation plus récente a été émise : préparez une nouvelle campagne corrective."
                )

    def _reports_ouverts(self, exclure: str | None = None) -> dict[UUID, list[str]]:
        """Families' months left uninvoiced under the threshold and not yet carried."""
        ouverts: set[tuple[str, UUID]] = set()
        inclus: set[tuple[str, UUID]] = set()
        for campagne in self.faits_campagnes().values():
            if campagne.emise_le is None or campagne.campagne_origine is not None:
                continue
            ouverts.update((campagne.periode, f) for f in campagne.reportees)
            inclus.update((r.periode, r.famille_id) for r in campagne.reports_inclus)
        resultat: dict[UUID, list[str]] = {}
        for periode, famille_id in sorted(ouverts - inclus, key=lambda pf: (pf[0], str(pf[1]))):
            if periode != exclure:
                resultat.setdefault(famille_id, []).append(periode)
        return resultat

    def _parametres(self) -> Parametres | None:
        try:
            parametres: Parametres = self.portail.repository.get(ID_PARAMETRES)
        except AggregateNotFoundError:
            return None
        return parametres

    def _emissions(self, periode: str) -> EmissionsPeriode:
        emissions_id = EmissionsPeriode.id_pour(periode)
        try:
            emissions: EmissionsPeriode = self.portail.repository.get(emissions_id)
        except AggregateNotFoundError:
            return EmissionsPeriode(id=emissions_id, periode=periode)
        return emissions

    def _numerotation(self, prefixe: str, annee: int) -> Numerotation:
        numerotation_id = Numerotation.id_pour(prefixe, annee)
        try:
            numerotation: Numerotation = self.portail.repository.get(numerotation_id)
        except AggregateNotFoundError:
            return Numerotation(id=numerotation_id, prefixe=prefixe, annee=annee)
        return numerotation

    def _encours(self, famille_id: UUID) -> Encours:
        encours_id = Encours.id_pour(famille_id)
        try:
            encours: Encours = self.portail.repository.get(encours_id)
        except AggregateNotFoundError:
            return Encours(id=encours_id, famille_id=famille_id)
        return encours

    def encours(self, famille_id: UUID) -> Encours:
        return self._encours(famille_id)

    def regler(
        self,
        contexte: Contexte,
        famille_id: UUID,
        montant_cents: int,
        mode: str,
        reference: str | None,
        reglement_id: UUID | None = None,
        rum: str | None = None,
    ) -> tuple[UUID, Encours]:
        """Record a payment; it pays the oldest open invoices first, the rest stays as credit.

        A direct debit is noted against the mandate it was collected under (`rum`, by default the
        family's latest mandate): that history makes the next debit FRST or RCUR."""
        try:
            mode_v = ModeReglement(mode)
        except ValueError:
            raise ErreurValidation.sur("mode", "carte, prelevement, cheque, especes ou cesu") from None
        # Checked as a refund's is: a NUL would stop the runner at this event (PostgreSQL text).
        reference = texte(reference, nom_champ="reference", longueur_max=100) if reference else None
        famille = self.portail.charger(Famille, famille_id)
        rums = [m.rum for m in famille.mandats]
        if mode_v is not ModeReglement.PRELEVEMENT:
            rum = None
        elif rum is None:
            rum = rums[-1] if rums else None
        elif rum not in rums:
            raise ErreurValidation.sur("rum", "aucun mandat de cette famille ne porte cette référence")
        identifiant = reglement_id or uuid4()

        def commande() -> Encours:
            encours = self._encours(famille_id)
            encours.recevoir(identifiant, montant_cents, mode_v, reference, self.aujourd_hui(), rum)
            self.portail.enregistrer(contexte, encours)
            return encours

        return identifiant, self.portail.avec_reessais(commande)

    def rejeter_prelevement(
        self, contexte: Contexte, famille_id: UUID, reglement_id: UUID, motif: str
    ) -> Encours:
        def commande() -> Encours:
            encours = self._encours(famille_id)
            encours.rejeter_prelevement(reglement_id, motif)
            self.portail.enregistrer(contexte, encours)
            return encours

        return self.portail.avec_reessais(commande)

    def aujourd_hui(self) -> date:
        return self.portail.horloge().astimezone(PARIS).date()

    def delai_prenotification_jours(self) -> int:
        parametres = self._parametres()
        regie = parametres.regie if parametres else None
        return regie.delai_prenotification_jours if regie else DELAI_PRENOTIFICATION_JOURS

    def representer(
        self, contexte: Contexte, famille_id: UUID, reglement_id: UUID, preleve_le: date | None
    ) -> tuple[Encours, Representation]:
        """Present a rejected direct debit again, once, on its own date: by default the first
        business day once the family has been told (the régie's pre-notification delay)."""
        famille = self.portail.charger(Famille, famille_id)
        if famille.effacee or famille.mandat is None:
            raise RegleMetier("Aucun mandat de prélèvement en vigueur pour cette famille.")
        aujourd_hui = self.aujourd_hui()
        prevue = aujourd_hui + timedelta(days=self.delai_prenotification_jours())
        le = date_de_prelevement(aujourd_hui, preleve_le, prevue)

        def commande() -> tuple[Encours, Representation]:
            encours = self._encours(famille_id)
            representation = encours.representer(reglement_id, le)
            self.portail.enregistrer(contexte, encours)
            return encours, representation

        return self.portail.avec_reessais(commande)

    def representations(self) -> list[tuple[UUID, Representation]]:
        """Every re-presented debit, with its family."""
        return [
            (encours.famille_id, representation)
            for encours in (
                self.portail.charger(Encours, i) for i in self._auteurs(Encours.PrelevementRepresente.TOPIC)
            )
            for representation in encours.representations.values()
        ]

    def facture(self, facture_id: UUID) -> Facture:
        try:
            return self.portail.charger(Facture, facture_id)
        except Introuvable:
            raise Introuvable("Facture introuvable.") from None
