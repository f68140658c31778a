"""Logging: JSON lines in production, readable lines in a terminal; never personal data."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

CLES_INTERDITES = {"password", "mot_de_passe", "token", "email", "iban", "authorization", "cookie"}


def _sans_secrets(_: object, __: str, evenement: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last line of defence: a field named like a secret is masked whatever logged it."""
    for cle in list(evenement):
        if cle.lower() in CLES_INTERDITES:
            evenement[cle] = "***"
    return evenement


_MULTILIGNES = {"exception", "stack"}


def _caractere_visible(caractere: str) -> str:
    return caractere if caractere.isprintable() else repr(caractere)[1:-1]


def _sans_controles(_: object, __: str, evenement: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A terminal obeys the control characters it prints: ESC sequences, backspaces or a carriage
    return taken from a request path could rewrite or hide log lines. They are shown escaped
    (`\\x1b`, `\\x08`, `\\n`), as `repr` would; JSON lines escape them already."""
    for cle, valeur in evenement.items():
        if isinstance(valeur, str) and cle not in _MULTILIGNES and not valeur.isprintable():
            evenement[cle] = "".join(map(_caractere_visible, valeur))
    return evenement


class _ErreurStandardCourante:
    """`sys.stderr` as it is when a line is written, not when logging was configured: a stream
    replaced and closed since (the test runner's capture of one test) never makes a log call raise."""

    def write(self, texte: str) -> int:
        return sys.stderr.write(texte)

    def flush(self) -> None:
        sys.stderr.flush()


CORRELATION: ContextVar[str | None] = ContextVar("portail_correlation", default=None)
"""The correlation id of the request being served, set by the HTTP middleware (one context
variable set and reset per request: structlog's `bound_contextvars` builds and resets its own at
every request, 1.4 % of the api's processor time in the month reads)."""


def _correlation(_: object, __: str, evenement: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    correlation = CORRELATION.get()
    if correlation is not None:
        evenement.setdefault("correlation_id", correlation)
    return evenement


def configurer(format_: str = "console", niveau: str = "INFO") -> None:
    processeurs: list[structlog.types.Processor] = [
        _correlation,
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _sans_secrets,
        structlog.processors.StackInfoRenderer(),
    ]
    rendu: structlog.types.Processor
    if format_ == "json":
        processeurs.append(structlog.processors.format_exc_info)
        rendu = structlog.processors.JSONRenderer()
    else:
        processeurs.append(_sans_controles)
        # Plain tracebacks: the rich ones print local variables, which may hold personal data.
        rendu = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    niveau_num = logging.getLevelName(niveau.upper())
    if not isinstance(niveau_num, int):
        niveau_num = logging.INFO
    structlog.configure(
        processors=[*processeurs, rendu],
        wrapper_class=structlog.make_filtering_bound_logger(niveau_num),
        logger_factory=structlog.PrintLoggerFactory(_ErreurStandardCourante()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library: same format, same destination.
    gestionnaire = logging.StreamHandler(sys.stderr)
    gestionnaire.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, rendu],
            foreign_pre_chain=processeurs,
        )
    )
    racine = logging.getLogger()
    racine.handlers = [gestionnaire]
    racine.setLevel(niveau_num)
    # httpx logs every URL it calls (tests); uvicorn's access log repeats the path with query strings.
    for bavard in ("httpx", "uvicorn.access"):
        logging.getLogger(bavard).setLevel(logging.WARNING)
