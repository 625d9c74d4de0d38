"""CORS for the gateway: preflight answers and the headers on every cross-origin response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

ALLOW_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ALLOW_HEADERS = (
    "authorization",
    "content-type",
    "grpc-timeout",
    "x-grpc-web",
    "x-user-agent",
    "x-request-id",
    "accept",
)
EXPOSE_HEADERS = ("grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id")


@dataclass(frozen=True)
class CorsPolicy:
    """Which origins may call the gateway from a browser ("*" for any; none: same origin only)."""

    allowed_origins: tuple[str, ...]
    max_age_seconds: int = 600

    def allows(self, origin: str) -> bool:
        return "*" in self.allowed_origins or origin.rstrip("/") in self.allowed_origins

    def middleware(self) -> Callable:
        """An aiohttp middleware that answers preflight requests before routing."""

        @web.middleware
        async def preflight(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
            origin = request.headers.get("Origin")
            if request.method != "OPTIONS" or not origin or "Access-Control-Request-Method" not in request.headers:
                return await handler(request)
            if not self.allows(origin):
                return web.Response(status=403, text=f"origin {origin} is not allowed\n")
            return web.Response(
                status=204,
                headers={
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": ", ".join(ALLOW_METHODS),
                    "Access-Control-Allow-Headers": ", ".join(ALLOW_HEADERS),
                    "Access-Control-Max-Age": str(self.max_age_seconds),
                    "Vary": "Origin",
                },
            )

        return preflight

    async def add_response_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """aiohttp on_response_prepare hook: allow and expose headers for an allowed origin.

        A hook rather than a middleware because streamed responses send their headers
        before the handler returns.
        """
        origin = request.headers.get("Origin")
        if origin and self.allows(origin) and "Access-Control-Allow-Origin" not in response.headers:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSE_HEADERS)
            response.headers.add("Vary", "Origin")
