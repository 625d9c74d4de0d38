"""Client channels to tsforge's services, as every client opens them (the CLI, the
Python client, service-to-service calls, the tests): message limits, and UNAVAILABLE
retried. Light on purpose: a client imports nothing of the servers."""

from __future__ import annotations

import json

import grpc

# Every client (the CLI, service-to-service calls, the tests) retries a call that got
# UNAVAILABLE before any response: a restarting service or a dependency outage of a
# few seconds is ridden out. gRPC replays only calls the server answered with no
# response message, and our handlers fail whole, so this is safe for every RPC.
RETRY_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.2s",
                    "maxBackoff": "4s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def client_channel(address: str, max_message_bytes: int = 8 << 20, retries: bool = True) -> grpc.Channel:
    """An insecure channel with tsforge's message limits and UNAVAILABLE retries."""
    options: list[tuple[str, int | str]] = [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.enable_retries", int(retries)),
    ]
    if retries:
        options.append(("grpc.service_config", RETRY_SERVICE_CONFIG))
    return grpc.insecure_channel(address, options=options)
