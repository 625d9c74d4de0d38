"""The one server interceptor every tsforge service runs behind.

Per RPC it assigns a request id, authenticates the bearer token (health and
reflection stay open), makes tenant and request id available to the handler and the
logs, and maps domain errors to gRPC statuses in one place. Anything unexpected
becomes INTERNAL with the request id, its traceback logged.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable

import grpc

from tsforge.core import context
from tsforge.core.auth import tenant_from_authorization
from tsforge.core.errors import DomainError, internal_status, to_grpc_status

log = logging.getLogger(__name__)

OPEN_SERVICE_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
REQUEST_ID_HEADER = "x-request-id"


class ServerInterceptor(grpc.ServerInterceptor):
    def __init__(self, jwt_secret: str):
        self._jwt_secret = jwt_secret

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_SERVICE_PREFIXES):
            return handler
        metadata = dict(handler_call_details.invocation_metadata or ())
        if handler.response_streaming:
            wrap = self._wrap_streaming
        else:
            wrap = self._wrap_unary
        behavior, factory = _behavior_and_factory(handler)
        return factory(
            wrap(behavior, method, metadata),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    @contextlib.contextmanager
    def _guarded(self, method: str, metadata: dict, servicer_context):
        started = time.perf_counter()
        request_id = metadata.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        token = None
        try:
            servicer_context.set_trailing_metadata(((REQUEST_ID_HEADER, request_id),))
            tenant = tenant_from_authorization(self._jwt_secret, metadata.get("authorization"))
            token = context.set_current(context.RequestContext(request_id=request_id, tenant=tenant))
            yield
        except DomainError as error:
            _log_done(method, started, error)
            servicer_context.abort_with_status(to_grpc_status(error))
        except Exception:
            if _already_aborted(servicer_context):
                raise
            log.exception("unexpected failure in %s", method, extra={"method": method, "request_id": request_id})
            servicer_context.abort_with_status(internal_status(request_id))
        else:
            _log_done(method, started, None)
        finally:
            if token is not None:
                context.reset(token)

    def _wrap_unary(self, behavior: Callable, method: str, metadata: dict) -> Callable:
        def handle(request, servicer_context):
            with self._guarded(method, metadata, servicer_context):
                return behavior(request, servicer_context)

        return handle

    def _wrap_streaming(self, behavior: Callable, method: str, metadata: dict) -> Callable:
        def handle(request, servicer_context):
            with self._guarded(method, metadata, servicer_context):
                yield from behavior(request, servicer_context)

        return handle


def _behavior_and_factory(handler: grpc.RpcMethodHandler):
    if handler.unary_unary:
        return handler.unary_unary, grpc.unary_unary_rpc_method_handler
    if handler.unary_stream:
        return handler.unary_stream, grpc.unary_stream_rpc_method_handler
    if handler.stream_unary:
        return handler.stream_unary, grpc.stream_unary_rpc_method_handler
    return handler.stream_stream, grpc.stream_stream_rpc_method_handler


def _already_aborted(servicer_context) -> bool:
    # grpc's abort() raises a bare Exception after recording the status; let it through.
    state = getattr(servicer_context, "_state", None)
    return bool(getattr(state, "aborted", False))


def _log_done(method: str, started: float, error: DomainError | None) -> None:
    fields = {"method": method, "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
    if error is None:
        log.debug("rpc ok", extra=fields)
    else:
        fields["code"] = type(error).__name__
        log.info("rpc refused: %s", error.message, extra=fields)
