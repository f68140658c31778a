"""Every setting of the service, read from `PORTAIL_*` environment variables in one place."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


def _bool(valeur: str | None, defaut: bool) -> bool:
    if valeur is None or valeur == "":
        return defaut
    return valeur.strip().lower() in {"1", "true", "yes", "oui", "y", "on"}


def _bool_ou_rien(valeur: str | None) -> bool | None:
    return None if valeur is None or valeur == "" else _bool(valeur, False)


def en_clair_sur_la_boucle_locale(url: str) -> bool:
    """True for a plain-http URL on this machine (`make run`, tests): the one case where the portal
    may be reached without TLS."""
    morceaux = urlsplit(url)
    if morceaux.scheme != "http":
        return False
    hote = (morceaux.hostname or "").rstrip(".")
    if hote == "localhost" or hote.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hote).is_loopback
    except ValueError:
        return False


def _int(valeur: str | None, defaut: int) -> int:
    return int(valeur) if valeur not in (None, "") else defaut


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str | None = None
    """With no URL, an embedded PostgreSQL runs in `<data_dir>/pgdata`."""
    database_schema: str | None = None
    secret_key: str | None = None
    """Signs session tokens; generated once into the data folder when not given."""
    master_key: str | None = None
    """Base64 of 32 bytes wrapping the per-family keys; generated into the data folder when not given."""
    admin_email: str | None = None
    admin_password: str | None = None
    mail_dir: Path | None = None
    smtp_url: str | None = None
    mail_from: str = "Portail Familles <ne-pas-repondre@portail-familles.local>"
    url_publique: str = "http://127.0.0.1:8000"
    log_format: str = "console"
    """`json` (one JSON object per line, for production) or `console` (readable in a terminal)."""
    log_level: str = "INFO"
    cookie_secure: bool | None = None
    """`Secure` cookies; unset (None): on, unless `url_publique` is plain http on loopback."""
    session_minutes: int = 120
    se_souvenir_jours: int = 30
    argon2_memoire_kib: int = 19_456
    argon2_iterations: int = 2
    limite_echecs_compte: int = 5
    limite_echecs_ip: int = 50
    fenetre_echecs_minutes: int = 15
    requetes_par_minute_ip: int = 6_000
    pool_size: int = 10
    pool_max_overflow: int = 20
    ecritures_simultanees: int = 0
    """Commands of one process that load, decide and save at the same time (0: no limit)."""
    familles_pliees: int = 6_000
    """Families the projections' runner keeps folded to price their drafts (about 21 KiB each at
    10,000 children): at least the commune's families, or bookings fold their family's history
    again (`store.pliage.FamillesPliees`)."""
    cors_origines: tuple[str, ...] = field(default_factory=tuple)
    paiement_carte: str = "aucun"
    """`test` turns on the test card provider (demos, tests); `aucun` leaves card payment off."""
    leader_intervalle_secondes: int = 10
    """How often a standby scheduler tries to become leader, and the leader checks its lock."""
    retention_annees: int = 3
    """Years after a family left (no booking, no event, nothing owed) before it is erased."""
    rappel_document_jours: int = 30
    """Days before a document or a fiche sanitaire expires that the family is reminded."""
    document_validite_jours: int = 365
    """How long a medical certificate, a QF attestation, a PAI or a vaccination record is valid."""
    limite_demandes_adresse: int = 3
    """Reset links mailed to one address, and e-mail changes asked by one account, per window."""
    limite_demandes_ip: int = 20
    """Password-reset requests from one client address per window."""
    reservations_en_cours_max: int = 200
    """Bookings and cancellations one api process holds at once (being decided or waiting their
    turn); past it, 429 with `Retry-After` at once (0: no bound). About two seconds of bookings
    at the rate measured on two cores (docs/operations.md)."""
    worker_nice: int = 10
    """Scheduling niceness a `portail worker` takes once caught up at start (0: none): beside api
    processes on the same cores, the parents' requests come first and the read models only the
    worker writes catch up when a burst ends (docs/operations.md)."""

    @property
    def https_attendu(self) -> bool:
        """Everywhere but plain http on loopback, the portal is reached over TLS: HSTS is sent."""
        return not en_clair_sur_la_boucle_locale(self.url_publique)

    @property
    def cookies_securises(self) -> bool:
        return self.https_attendu if self.cookie_secure is None else self.cookie_secure

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def dossier_courriels(self) -> Path:
        return self.mail_dir or self.data_dir / "mail"

    @classmethod
    def depuis_environnement(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)

        def lire(nom: str) -> str | None:
            valeur = env.get(f"PORTAIL_{nom}")
            return valeur if valeur not in (None, "") else None

        defaut = cls()
        return cls(
            data_dir=Path(lire("DATA_DIR") or defaut.data_dir),
            database_url=lire("DATABASE_URL"),
            database_schema=lire("DATABASE_SCHEMA"),
            secret_key=lire("SECRET_KEY"),
            master_key=lire("MASTER_KEY"),
            admin_email=lire("ADMIN_EMAIL"),
            admin_password=lire("ADMIN_PASSWORD"),
            mail_dir=Path(v) if (v := lire("MAIL_DIR")) else None,
            smtp_url=lire("SMTP_URL"),
            mail_from=lire("MAIL_FROM") or defaut.mail_from,
            url_publique=(lire("URL_PUBLIQUE") or defaut.url_publique).rstrip("/"),
            log_format=lire("LOG_FORMAT") or defaut.log_format,
            log_level=(lire("LOG_LEVEL") or defaut.log_level).upper(),
            cookie_secure=_bool_ou_rien(lire("COOKIE_SECURE")),
            session_minutes=_int(lire("SESSION_MINUTES"), defaut.session_minutes),
            se_souvenir_jours=_int(lire("SE_SOUVENIR_JOURS"), defaut.se_souvenir_jours),
            argon2_memoire_kib=_int(lire("ARGON2_MEMOIRE_KIB"), defaut.argon2_memoire_kib),
            argon2_iterations=_int(lire("ARGON2_ITERATIONS"), defaut.argon2_iterations),
            limite_echecs_compte=_int(lire("LIMITE_ECHECS_COMPTE"), defaut.limite_echecs_compte),
            limite_echecs_ip=_int(lire("LIMITE_ECHECS_IP"), defaut.limite_echecs_ip),
            fenetre_echecs_minutes=_int(lire("FENETRE_ECHECS_MINUTES"), defaut.fenetre_echecs_minutes),
            requetes_par_minute_ip=_int(lire("REQUETES_PAR_MINUTE_IP"), defaut.requetes_par_minute_ip),
            pool_size=_int(lire("POOL_SIZE"), defaut.pool_size),
            pool_max_overflow=_int(lire("POOL_MAX_OVERFLOW"), defaut.pool_max_overflow),
            ecritures_simultanees=_int(lire("ECRITURES_SIMULTANEES"), defaut.ecritures_simultanees),
            familles_pliees=_int(lire("FAMILLES_PLIEES"), defaut.familles_pliees),
            cors_origines=tuple(o for o in (lire("CORS_ORIGINES") or "").split(",") if o),
            paiement_carte=lire("PAIEMENT_CARTE") or defaut.paiement_carte,
            leader_intervalle_secondes=_int(
                lire("LEADER_INTERVALLE_SECONDES"), defaut.leader_intervalle_secondes
            ),
            retention_annees=_int(lire("RETENTION_ANNEES"), defaut.retention_annees),
            rappel_document_jours=_int(lire("RAPPEL_DOCUMENT_JOURS"), defaut.rappel_document_jours),
            document_validite_jours=_int(lire("DOCUMENT_VALIDITE_JOURS"), defaut.document_validite_jours),
            limite_demandes_adresse=_int(lire("LIMITE_DEMANDES_ADRESSE"), defaut.limite_demandes_adresse),
            limite_demandes_ip=_int(lire("LIMITE_DEMANDES_IP"), defaut.limite_demandes_ip),
            reservations_en_cours_max=_int(
                lire("RESERVATIONS_EN_COURS_MAX"), defaut.reservations_en_cours_max
            ),
            worker_nice=_int(lire("WORKER_NICE"), defaut.worker_nice),
        )
