"""A raw grpc-web client for the tests, written from the protocol text, not from gateway code."""

from __future__ import annotations

import base64
import http.client
import re
import struct
from urllib.parse import urlsplit

_PADDED = re.compile(rb"[A-Za-z0-9+/]*(?:={1,2}|$)")


def frame(message: bytes, flag: int = 0) -> bytes:
    return struct.pack(">BI", flag, len(message)) + message


def parse_body(body: bytes, text: bool = False) -> tuple[list[bytes], dict[str, str]]:
    """The messages and the trailers of a complete grpc-web response body.

    Fails unless the body ends with exactly one trailer frame, as the protocol requires.
    """
    if text:
        body = b"".join(base64.b64decode(chunk) for chunk in _PADDED.findall(body) if chunk)
    messages, trailers, offset = [], {}, 0
    seen_trailers = False
    while offset < len(body):
        assert not seen_trailers, "a frame follows the trailers"
        flag, length = struct.unpack_from(">BI", body, offset)
        payload = body[offset + 5 : offset + 5 + length]
        offset += 5 + length
        if flag & 0x80:
            seen_trailers = True
            for line in payload.decode().split("\r\n"):
                if line:
                    key, _, value = line.partition(":")
                    trailers[key.strip().lower()] = value.strip()
        else:
            messages.append(payload)
    assert seen_trailers, "the body has no trailer frame"
    return messages, trailers


def parse_response(response: http.client.HTTPResponse) -> tuple[list[bytes], dict[str, str]]:
    """The messages and trailers of a whole grpc-web response, read from it.

    A "trailers-only" response (no body, grpc-status in the headers, as the protocol
    allows for a call that fails before any message) gives its headers as trailers.
    """
    body = response.read()
    text = (response.getheader("Content-Type") or "").startswith("application/grpc-web-text")
    if not body and response.getheader("grpc-status") is not None:
        return [], {k.lower(): v for k, v in response.getheaders()}
    return parse_body(body, text)


def read_frame(response: http.client.HTTPResponse) -> tuple[int, bytes]:
    """The next frame of a binary grpc-web response as it arrives: (flag, payload)."""
    header = response.read(5)
    flag, length = struct.unpack(">BI", header)
    return flag, response.read(length)


def post(base_url: str, path: str, body: bytes, headers: dict[str, str]) -> http.client.HTTPResponse:
    """Sends a POST and returns the response with its body unread (for streams)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    connection.request("POST", path, body=body, headers=headers)
    return connection.getresponse()
