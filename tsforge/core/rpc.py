"""How every RPC of every tsforge service is served: one handler per method, built from
the service's descriptor and its servicer, for the grpc.aio server.

Per call: a request id (the caller's x-request-id or a new one, sent back in the
trailers), the bearer credential (a JWT or an API key: auth.Authenticator) checked
BEFORE the request bytes are parsed (garbage from an anonymous caller is
UNAUTHENTICATED, not a parse error), the request parsed (bytes
that are not the method's message are INVALID_ARGUMENT) and checked (request_checks: text,
enums, numbers, times and list sizes of every field), the tenant and request id in
context for the servicer and the logs, domain errors mapped to rich statuses
(errors.to_grpc_status), an unreachable database or object store UNAVAILABLE with a
retry hint (errors.dependency_failure), anything else INTERNAL with the request id and
its traceback logged, and the call logged when it ends, also when the client left.

Servicer methods may be plain functions (run on the server's bounded thread pool, so
blocking database and object-store code stays as it is) or coroutines / async
generators (for streams that wait: a waiting stream holds no thread). Server streams
are capped per tenant (StreamLimits): one tenant cannot hold every stream of a process.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import grpc
from google.protobuf import message as protobuf_message
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

from tsforge.core import context
from tsforge.core.auth import Authenticator
from tsforge.core.errors import (
    DomainError,
    FieldViolation,
    InvalidArgument,
    QuotaExceeded,
    dependency_failure,
    internal_status,
    to_grpc_status,
)
from tsforge.core.request_checks import check_request

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
_DONE = object()
_MAX_REQUEST_ID = 128


class StreamLimits:
    """Open server streams per tenant in this process; more than `per_tenant` is
    RESOURCE_EXHAUSTED. Used from the server's event loop only."""

    def __init__(self, per_tenant: int):
        self.per_tenant = per_tenant
        self._open: Counter[str] = Counter()

    @contextlib.contextmanager
    def opened(self, tenant: str) -> Iterator[None]:
        if self._open[tenant] >= self.per_tenant:
            raise QuotaExceeded(
                f"{self._open[tenant]} streams of this tenant are open on this server; the limit is "
                f"{self.per_tenant} (TSFORGE_TENANT_MAX_STREAMS): close some (e.g. watches of finished runs)",
                subject="tenant:open_streams",
            )
        self._open[tenant] += 1
        try:
            yield
        finally:
            self._open[tenant] -= 1
            if not self._open[tenant]:
                del self._open[tenant]


class ThreadContext:
    """What a blocking servicer method sees of its call: whether the client is still there."""

    def __init__(self, call_context: grpc.aio.ServicerContext):
        self._context = call_context

    def is_active(self) -> bool:
        return not self._context.done()


class _Call:
    """One call: its id, method, caller, and how it ends."""

    def __init__(self, method: str, call_context: grpc.aio.ServicerContext, authenticator: Authenticator):
        self.method = method
        self.context = call_context
        self.started = time.perf_counter()
        metadata = dict(call_context.invocation_metadata() or ())
        given = metadata.get(REQUEST_ID_HEADER, "")
        self.request_id = given if 0 < len(given) <= _MAX_REQUEST_ID and given.isprintable() else uuid.uuid4().hex
        self._authorization = metadata.get("authorization")
        self._authenticator = authenticator
        self.tenant: str | None = None
        self.api_key: str | None = None

    async def authenticate(self) -> str:
        caller = await self._authenticator.caller(self._authorization)
        self.tenant, self.api_key = caller.tenant, caller.api_key
        return self.tenant

    def fields(self, **extra: Any) -> dict[str, Any]:
        return {
            "method": self.method,
            "tenant": self.tenant,
            "api_key": self.api_key,
            "request_id": self.request_id,
            "duration_ms": round((time.perf_counter() - self.started) * 1000, 2),
            **extra,
        }

    def trailers(self, extra: tuple = ()) -> tuple:
        return ((REQUEST_ID_HEADER, self.request_id), *extra)


def parse_request(message_class: type[protobuf_message.Message], data: bytes) -> protobuf_message.Message:
    """The request message of raw bytes, checked as every request is (request_checks).

    Raises InvalidArgument for bytes that are not one, or a message with bad values.
    """
    try:
        request = message_class.FromString(data)
    except (protobuf_message.DecodeError, RecursionError, ValueError):
        name = message_class.DESCRIPTOR.full_name
        raise InvalidArgument(FieldViolation("request", f"the request body is not a valid {name} message")) from None
    check_request(request)
    return request


class ServiceHandler(grpc.GenericRpcHandler):
    """The handlers of one service's methods, looked up by their full path."""

    def __init__(
        self, descriptor: ServiceDescriptor, servicer: object, authenticator: Authenticator, streams: StreamLimits
    ):
        self._authenticator = authenticator
        self._streams = streams
        self._handlers = {
            f"/{descriptor.full_name}/{method.name}": self._handler(method, getattr(servicer, method.name))
            for method in descriptor.methods
        }

    def service(self, handler_call_details):
        return self._handlers.get(handler_call_details.method)

    def _handler(self, method: MethodDescriptor, behavior: Callable) -> grpc.RpcMethodHandler:
        request_class = message_factory.GetMessageClass(method.input_type)
        path = f"/{method.containing_service.full_name}/{method.name}"
        serialize = _serialize
        if method.client_streaming and not method.server_streaming:
            return grpc.stream_unary_rpc_method_handler(
                self._client_stream(path, behavior, request_class), response_serializer=serialize
            )
        # Single-request methods are served as if the request streamed: grpc.aio drops a
        # unary call whose request never completes (a truncated frame, then end of
        # stream) without any status, which left the client waiting until its deadline.
        # Reading the request ourselves, such a call is INVALID_ARGUMENT at once.
        if method.server_streaming and not method.client_streaming:
            return grpc.stream_stream_rpc_method_handler(
                self._server_stream(path, behavior, request_class), response_serializer=serialize
            )
        if method.client_streaming:
            raise ValueError(f"{path}: bidirectional streams are not served")
        return grpc.stream_unary_rpc_method_handler(
            self._unary(path, behavior, request_class), response_serializer=serialize
        )

    @contextlib.asynccontextmanager
    async def _guard(self, call: _Call) -> AsyncIterator[None]:
        token = None
        try:
            await call.authenticate()
            token = context.set_current(
                context.RequestContext(request_id=call.request_id, tenant=call.tenant, api_key=call.api_key)
            )
            yield
        except DomainError as error:
            _log_refused(call, error)
            status = to_grpc_status(error)
            await call.context.abort(status.code, status.details, call.trailers(tuple(status.trailing_metadata)))
        except asyncio.CancelledError:
            log.info("rpc cancelled by client", extra=call.fields(outcome="cancelled by client"))
            raise
        except Exception as error:
            if isinstance(error, grpc.aio.AbortError) or call.context.code() is not None:
                raise  # a servicer that aborted on its own: its status stands
            outage = dependency_failure(error)
            if outage is not None:
                log.warning("rpc unavailable: %s (%s)", outage.message, error, extra=call.fields(code="Unavailable"))
                status = to_grpc_status(outage)
            else:
                log.exception("unexpected failure in %s", call.method, extra=call.fields())
                status = internal_status(call.request_id)
            await call.context.abort(status.code, status.details, call.trailers(tuple(status.trailing_metadata)))
        else:
            call.context.set_trailing_metadata(call.trailers())
            log.debug("rpc ok", extra=call.fields())
        finally:
            if token is not None:
                context.reset(token)

    def _unary(self, path: str, behavior: Callable, request_class: type) -> Callable:
        async def handle(request_iterator, call_context: grpc.aio.ServicerContext):
            call = _Call(path, call_context, self._authenticator)
            async with self._guard(call):
                request = parse_request(request_class, await _only_message(request_iterator))
                if inspect.iscoroutinefunction(behavior):
                    return await behavior(request, call_context)
                return await asyncio.to_thread(behavior, request, ThreadContext(call_context))

        return handle

    def _server_stream(self, path: str, behavior: Callable, request_class: type) -> Callable:
        async def handle(request_iterator, call_context: grpc.aio.ServicerContext):
            call = _Call(path, call_context, self._authenticator)
            async with self._guard(call):
                request = parse_request(request_class, await _only_message(request_iterator))
                assert call.tenant is not None
                with self._streams.opened(call.tenant):
                    if inspect.isasyncgenfunction(behavior):
                        async for response in behavior(request, call_context):
                            yield response
                    else:
                        # A blocking generator: each next() runs on the pool, so no thread
                        # is held while the client reads (or waits).
                        responses = await asyncio.to_thread(behavior, request, ThreadContext(call_context))
                        while (response := await asyncio.to_thread(next, responses, _DONE)) is not _DONE:
                            yield response

        return handle

    def _client_stream(self, path: str, behavior: Callable, request_class: type) -> Callable:
        async def handle(request_iterator, call_context: grpc.aio.ServicerContext):
            call = _Call(path, call_context, self._authenticator)
            async with self._guard(call):
                loop = asyncio.get_running_loop()

                def requests() -> Iterator:
                    # Runs on the pool thread that serves the call; each message is
                    # awaited on the event loop.
                    while True:
                        data = asyncio.run_coroutine_threadsafe(_next(request_iterator), loop).result()
                        if data is _DONE:
                            return
                        yield parse_request(request_class, data)

                return await asyncio.to_thread(behavior, requests(), ThreadContext(call_context))

        return handle


async def _only_message(request_iterator) -> bytes:
    """The one request message of a single-request call. Raises InvalidArgument when the
    call ended without a whole message."""
    data = await _next(request_iterator)
    if data is _DONE:
        raise InvalidArgument(FieldViolation("request", "the call ended before a whole request message arrived"))
    return data


async def _next(iterator) -> Any:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return _DONE


def _serialize(message: protobuf_message.Message) -> bytes:
    return message.SerializeToString()


def _log_refused(call: _Call, error: DomainError) -> None:
    log.info("rpc refused: %s", error.message[:500], extra=call.fields(code=type(error).__name__))
