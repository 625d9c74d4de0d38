"""The caller of the request being served: its tenant and request id.

Set by tsforge.core.rpc for the duration of one RPC; read by servicers and by
the log filter. A contextvar, so concurrent RPCs on other threads never see it.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    tenant: str | None
    api_key: str | None = None  # "apiKeys/{id}" when an API key authenticated the call


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("tsforge_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def set_current(ctx: RequestContext | None) -> contextvars.Token:
    return _current.set(ctx)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


def tenant() -> str:
    """The authenticated tenant of the current RPC.

    Raises RuntimeError outside an authenticated RPC: a programming error, never the caller's.
    """
    ctx = _current.get()
    if ctx is None or ctx.tenant is None:
        raise RuntimeError("no authenticated tenant in this context")
    return ctx.tenant


def api_key() -> str | None:
    """The API key ("apiKeys/{id}") that authenticated the current RPC; None for a token."""
    ctx = _current.get()
    return ctx.api_key if ctx is not None else None
