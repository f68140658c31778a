"""An accueil like the seed's PERISCOLAIRE / Garderie et Restauration, and helpers to book."""

from __future__ import annotations

from typing import Any

from outils_http import Session, nouvelle_famille

REGLE_VEILLE_18H = {"ancrage": "jour", "decalage_jours": 1, "jours_ouvres": False, "heure_limite": "18:00"}


def accueil_periscolaire(**modifs: Any) -> dict[str, Any]:
    corps: dict[str, Any] = {
        "etablissement": "PERISCOLAIRE",
        "mode_accueil": "Garderie et Restauration",
        "periode": {"libelle": "Année scolaire 2021-2022", "debut": "2021-09-02", "fin": "2022-07-06"},
        "jours": [1, 2, 4, 5],
        "zone_scolaire": "A",
        "hors_vacances_scolaires": True,
        "unites": [
            {
                "code": "MATIN",
                "libelle": "Accueil du matin",
                "debut": "07:15",
                "fin": "08:20",
                "capacite": 30,
            },
            {"code": "MIDI", "libelle": "Restauration", "debut": "11:30", "fin": "13:30", "capacite": 120},
            {"code": "SOIR", "libelle": "Accueil du soir", "debut": "16:30", "fin": "18:30", "capacite": 30},
        ],
        "regle_reservation": REGLE_VEILLE_18H,
        "regle_annulation": REGLE_VEILLE_18H,
    }
    corps.update(modifs)
    return corps


def creer_accueil(admin: Session, **modifs: Any) -> str:
    reponse = admin.post("/api/admin/accueils", json=accueil_periscolaire(**modifs))
    assert reponse.status_code == 201, reponse.text
    return str(reponse.json()["id"])


def ajouter_enfant(
    parent: Session, prenom: str = "Enfant 1", naissance: str = "2012-01-15", classe: str = "CM1"
) -> str:
    reponse = parent.post(
        "/api/enfants", json={"nom": "Peje", "prenom": prenom, "date_naissance": naissance, "classe": classe}
    )
    assert reponse.status_code == 201, reponse.text
    return str(reponse.json()["id"])


def reserver(parent: Session, enfant_id: str, accueil_id: str, *presences: tuple[str, str], **kw: Any) -> Any:
    return parent.post(
        f"/api/enfants/{enfant_id}/reservations",
        json={"accueil_id": accueil_id, "presences": [{"date": d, "unite": u} for d, u in presences]},
        **kw,
    )


def statuts(reponse: Any) -> list[tuple[str, str, str]]:
    assert reponse.status_code == 200, reponse.text
    return [(r["date"], r["unite"], r["statut"]) for r in reponse.json()["resultats"]]


def etat(parent: Session, enfant_id: str, mois: str, jour: str, unite: str) -> str:
    planning = parent.get(f"/api/enfants/{enfant_id}/planning", params={"mois": mois})
    assert planning.status_code == 200, planning.text
    for j in planning.json()["jours"]:
        if j["date"] == jour:
            for u in j["unites"]:
                if u["code"] == unite:
                    return str(u["etat"])
    raise AssertionError(f"{jour} {unite} absent du planning")


def place_offerte(client: Any, admin: Session) -> tuple[str, list[Session], list[str]]:
    """One SOIR place, offered for 24 hours when freed: three families book 2021-10-05, the first
    cancels, so the place is offered to the second child; the third waits."""
    accueil = creer_accueil(
        admin,
        liste_attente="offre",
        duree_offre_heures=24,
        unites=[{"code": "SOIR", "libelle": "Soir", "debut": "16:30", "capacite": 1}],
    )
    familles = [nouvelle_famille(client, f"o{i}@example.fr") for i in range(3)]
    enfants = [ajouter_enfant(f, prenom=f"Enfant {i}") for i, f in enumerate(familles)]
    for f, e in zip(familles, enfants, strict=True):
        reserver(f, e, accueil, ("2021-10-05", "SOIR"))
    familles[0].post(
        f"/api/enfants/{enfants[0]}/annulations",
        json={"accueil_id": accueil, "presences": [{"date": "2021-10-05", "unite": "SOIR"}]},
    )
    return accueil, familles, enfants
