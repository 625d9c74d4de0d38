"""The gateway's aiohttp application: grpc-web and REST/JSON in front of the services.

A request whose Content-Type is `application/grpc-web*` is forwarded by its gRPC path;
any other request is matched against the google.api.http bindings. Responses stream:
each upstream message is written (and the writer drained) as it arrives, so a slow
client holds back the upstream call through HTTP/2 flow control instead of growing a
queue, and a client that goes away cancels the upstream call.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterable

import grpc
from aiohttp import web

from gateway import grpcweb, rest
from gateway.cors import CorsPolicy
from gateway.routes import MethodRoute, RouteTable
from gateway.upstream import REQUEST_ID_HEADER, BadTimeout, CallOptions, Upstreams, responses
from tsforge.core import context

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


class _Refused(Exception):
    """The gateway itself answers the call with this status, without reaching a service."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class Gateway:
    """Request handlers; the routes, upstream channels and limits come in through the constructor."""

    def __init__(self, routes: RouteTable, upstreams: Upstreams, max_message_bytes: int):
        self._routes = routes
        self._upstreams = upstreams
        self._max_message_bytes = max_message_bytes

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Sends grpc-web requests to the grpc-web handler and everything else to REST."""
        if grpcweb.is_grpc_web(request.headers.get("Content-Type")):
            return await self._grpc_web(request)
        if request.method == "GET" and request.path == HEALTH_PATH:
            return web.Response(text="ok\n")
        return await self._rest(request)

    # grpc-web ---------------------------------------------------------------------------

    async def _grpc_web(self, request: web.Request) -> web.StreamResponse:
        wire = grpcweb.wire_format(request.headers.get("Content-Type"))
        response = web.StreamResponse(headers={"Content-Type": wire.content_type if wire else "application/grpc-web"})
        route = self._routes.by_grpc_path(request.path)
        started, call = time.perf_counter(), None
        code, message, trailers = grpc.StatusCode.OK, "", ()
        body_error: list[grpcweb.FramingError] = []
        try:
            if wire is None:
                raise _Refused(grpc.StatusCode.UNIMPLEMENTED, "only application/grpc-web(-text)(+proto) is served")
            if request.method != "POST" or route is None:
                raise _Refused(grpc.StatusCode.UNIMPLEMENTED, f"no method {request.method} {request.path}")
            options = self._options(request)
            response.headers[REQUEST_ID_HEADER] = options.request_id
            frames = await self._request_frames(request, wire, body_error)
            requests = frames if route.client_streaming else await _single(frames)
            call = self._start(route, requests, options)
            async for payload in responses(call, route):
                if not response.prepared:
                    await _prepare(response, request, await call.initial_metadata())
                await response.write(grpcweb.message_frame(payload, wire.text))
            code, message, trailers = await call.code(), await call.details(), await call.trailing_metadata()
        except grpc.aio.AioRpcError as error:
            code, message, trailers = error.code(), error.details() or "", error.trailing_metadata()
            if body_error:  # the upstream call failed because the request body was bad
                code, message = grpc.StatusCode.INVALID_ARGUMENT, str(body_error[0])
        except grpcweb.FramingError as error:
            code, message = grpc.StatusCode.INVALID_ARGUMENT, str(error)
        except _Refused as refusal:
            code, message = refusal.code, refusal.message
        finally:
            _cancel_unfinished(call)
        if not response.prepared:
            await response.prepare(request)
        await response.write(
            grpcweb.trailer_frame(code.value[0], message, trailers or (), wire.text if wire else False)
        )
        await response.write_eof()
        _log_call("grpc-web", request, code, started, response.headers.get(REQUEST_ID_HEADER, ""))
        return response

    async def _request_frames(
        self, request: web.Request, wire: grpcweb.WireFormat, body_error: list
    ) -> AsyncIterator[bytes]:
        if wire.text:  # read whole (bounded by client_max_size): old browsers send one message
            messages = grpcweb.split_frames(grpcweb.decode_text_body(await request.read()), self._max_message_bytes)
            return _iterate(messages)
        return _recording_errors(grpcweb.read_frames(request.content, self._max_message_bytes), body_error)

    # REST -------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.rel_url.raw_path
        match = self._routes.match_rest(request.method, raw_path)
        started, call = time.perf_counter(), None
        try:
            options = self._options(request)
        except _Refused as refusal:
            return _error_response(rest.status_for(refusal.code, refusal.message), "")
        if match is None:
            allowed = self._routes.allowed_methods(raw_path)
            if allowed:
                return _error_response(
                    rest.status_for(
                        grpc.StatusCode.UNIMPLEMENTED, f"{request.method} is not served here; use {', '.join(allowed)}"
                    ),
                    options.request_id,
                    http_status=405,
                    headers={"Allow": ", ".join(allowed)},
                )
            return _error_response(
                rest.status_for(grpc.StatusCode.NOT_FOUND, f"no route for {request.method} {request.path}"),
                options.request_id,
            )
        route, binding = match.route, match.binding
        try:
            body = await request.read() if binding.body else b""
            messages = rest.build_requests(route, binding, match.path_params, request.query, body)
        except rest.RequestError as error:
            return _error_response(error.status(), options.request_id)
        except web.HTTPRequestEntityTooLarge as error:
            return _error_response(
                rest.status_for(grpc.StatusCode.RESOURCE_EXHAUSTED, error.text or "body too large"),
                options.request_id,
                http_status=413,
            )
        payloads = [m.SerializeToString() for m in messages]
        requests = _iterate(payloads) if route.client_streaming else payloads[0]
        try:
            call = self._start(route, requests, options)
            if route.server_streaming:
                return await self._rest_stream(request, call, match, options.request_id)
            reply = route.response_class.FromString(await call)
        except grpc.aio.AioRpcError as error:
            _log_call("rest", request, error.code(), started, options.request_id)
            return _error_response(
                rest.status_from_trailers(error.code(), error.details(), error.trailing_metadata()), options.request_id
            )
        except _Refused as refusal:
            return _error_response(rest.status_for(refusal.code, refusal.message), options.request_id)
        finally:
            _cancel_unfinished(call)
        _log_call("rest", request, grpc.StatusCode.OK, started, options.request_id)
        return web.Response(
            text=rest.response_json(reply, binding) + "\n",
            content_type="application/json",
            headers={REQUEST_ID_HEADER: options.request_id},
        )

    async def _rest_stream(self, request: web.Request, call: grpc.aio.Call, match, request_id: str):
        """Newline-delimited JSON, one message per line, each written as it arrives.

        A failure before the first message is an ordinary error response; after it, the
        status goes out as a last line `{"error": {...}}`.
        """
        started = time.perf_counter()
        response = web.StreamResponse(headers={"Content-Type": rest.NDJSON, REQUEST_ID_HEADER: request_id})
        code = grpc.StatusCode.OK
        try:
            async for payload in responses(call, match.route):
                line = rest.response_json(match.route.response_class.FromString(payload), match.binding)
                if not response.prepared:
                    await response.prepare(request)
                await response.write(line.encode() + b"\n")
        except grpc.aio.AioRpcError as error:
            code = error.code()
            status = rest.status_from_trailers(error.code(), error.details(), error.trailing_metadata())
            if not response.prepared:
                _log_call("rest", request, code, started, request_id)
                return _error_response(status, request_id)
            await response.write(json.dumps({"error": rest.status_json(status)}).encode() + b"\n")
        if not response.prepared:
            await response.prepare(request)
        await response.write_eof()
        _log_call("rest", request, code, started, request_id)
        return response

    def _start(self, route: MethodRoute, requests, options: CallOptions) -> grpc.aio.Call:
        if self._upstreams.address(route.service) is None:
            raise _Refused(grpc.StatusCode.UNAVAILABLE, f"no address is configured for the {route.service} service")
        return self._upstreams.start(route, requests, options)

    def _options(self, request: web.Request) -> CallOptions:
        try:
            return CallOptions.from_headers(request.headers)
        except BadTimeout as error:
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, str(error)) from None


def create_app(routes: RouteTable, upstreams: Upstreams, cors: CorsPolicy, max_message_bytes: int) -> web.Application:
    """The aiohttp application; closing it (its cleanup) closes the upstream channels."""
    # JSON bodies carry bytes as base64 (4/3 larger) plus field names: leave room for that.
    app = web.Application(middlewares=[cors.middleware()], client_max_size=2 * max_message_bytes)
    gateway = Gateway(routes, upstreams, max_message_bytes)
    app.router.add_route("*", "/{tail:.*}", gateway.dispatch)
    app.on_response_prepare.append(cors.add_response_headers)

    async def close_upstreams(_: web.Application) -> None:
        await upstreams.close()

    app.on_cleanup.append(close_upstreams)
    return app


async def _single(frames: AsyncIterator[bytes]) -> bytes:
    messages = [message async for message in frames]
    if len(messages) != 1:
        raise grpcweb.FramingError(f"a unary call takes exactly one request message, got {len(messages)}")
    return messages[0]


async def _iterate(items: Iterable[bytes]) -> AsyncIterator[bytes]:
    for item in items:
        yield item


async def _recording_errors(frames: AsyncIterator[bytes], errors: list) -> AsyncIterator[bytes]:
    # gRPC swallows an exception raised by a request iterator and cancels the call: keep it
    # so the client learns what was wrong with its body.
    try:
        async for frame in frames:
            yield frame
    except grpcweb.FramingError as error:
        errors.append(error)
        raise


async def _prepare(response: web.StreamResponse, request: web.Request, initial_metadata) -> None:
    for key, value in grpcweb.header_pairs(initial_metadata or ()):
        response.headers.add(key, value)
    await response.prepare(request)


def _cancel_unfinished(call: grpc.aio.Call | None) -> None:
    # Also reached when aiohttp cancels the handler because the client went away.
    if call is not None and not call.done():
        call.cancel()


def _error_response(
    status, request_id: str, *, http_status: int | None = None, headers: dict | None = None
) -> web.Response:
    response = web.Response(
        status=http_status or rest.http_status(status.code),
        text=json.dumps(rest.status_json(status)) + "\n",
        content_type="application/json",
        headers=headers,
    )
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def _log_call(protocol: str, request: web.Request, code: grpc.StatusCode, started: float, request_id: str) -> None:
    # tsforge's log filter takes the request id from the request context.
    token = context.set_current(context.RequestContext(request_id=request_id, tenant=None))
    try:
        log.info(
            "%s %s %s -> %s",
            protocol,
            request.method,
            request.path,
            code.name,
            extra={
                "protocol": protocol,
                "path": request.path,
                "code": code.name,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
    finally:
        context.reset(token)
