"""grpc-web framing (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md).

A body is a sequence of frames: one flag byte, a 4-byte big-endian length, the payload.
Flag 0x00 carries a message, flag 0x80 the trailers (`name: value` lines) — always the
last frame of a response. The `-text` variant base64-encodes the body; each frame we
send is encoded on its own (padded), as Envoy does, so it can be flushed at once.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import urllib.parse
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from aiohttp import StreamReader

MESSAGE_FLAG = 0x00
COMPRESSED_FLAG = 0x01
TRAILER_FLAG = 0x80
_HEADER = struct.Struct(">BI")
_CONTENT_TYPE = re.compile(r"application/grpc-web(-text)?(\+proto)?", re.IGNORECASE)
_PADDED_CHUNK = re.compile(rb"[A-Za-z0-9+/]*(?:={1,2}|$)")


class FramingError(ValueError):
    """A request body that is not a valid sequence of grpc-web frames."""


@dataclass(frozen=True)
class WireFormat:
    """How a grpc-web request was encoded, so the response is encoded the same way."""

    text: bool
    content_type: str  # echoed on the response


def wire_format(content_type: str | None) -> WireFormat | None:
    """The grpc-web flavour of a Content-Type, or None when it is not a protobuf grpc-web type.

    `application/grpc-web+json` is deliberately not accepted: the gateway forwards bytes
    without re-encoding them.
    """
    media_type = (content_type or "").split(";")[0].strip()
    if not _CONTENT_TYPE.fullmatch(media_type):
        return None
    return WireFormat(text=bool(_CONTENT_TYPE.fullmatch(media_type).group(1)), content_type=media_type)


def is_grpc_web(content_type: str | None) -> bool:
    """Whether the request claims to be grpc-web at all (protobuf or otherwise)."""
    return (content_type or "").lower().startswith("application/grpc-web")


def message_frame(payload: bytes, text: bool) -> bytes:
    """A data frame for one serialized message, base64-encoded in text mode."""
    return _encode(_HEADER.pack(MESSAGE_FLAG, len(payload)) + payload, text)


def trailer_frame(code: int, message: str, metadata: Iterable[tuple[str, str | bytes]], text: bool) -> bytes:
    """The closing frame: grpc-status, grpc-message and the upstream's trailing metadata."""
    lines = [f"grpc-status: {code}"]
    if message:
        lines.append(f"grpc-message: {encode_grpc_message(message)}")
    lines += [f"{key}: {value}" for key, value in header_pairs(metadata) if key not in ("grpc-status", "grpc-message")]
    block = ("".join(line + "\r\n" for line in lines)).encode("ascii")
    return _encode(_HEADER.pack(TRAILER_FLAG, len(block)) + block, text)


def header_pairs(metadata: Iterable[tuple[str, str | bytes]]) -> list[tuple[str, str]]:
    """gRPC metadata as HTTP header pairs: binary (`-bin`) values base64-encoded."""
    pairs = []
    for key, value in metadata or ():
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode("ascii")
        pairs.append((key.lower(), value))
    return pairs


def encode_grpc_message(message: str) -> str:
    """Percent-encodes a status message as gRPC requires (printable ASCII except '%' kept)."""
    return urllib.parse.quote(message, safe="".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%"))


def _encode(frame: bytes, text: bool) -> bytes:
    return base64.b64encode(frame) if text else frame


async def read_frames(body: StreamReader, max_message_bytes: int) -> AsyncIterator[bytes]:
    """Yields each message of a binary request body as it arrives, so a long client stream
    is never held whole.

    Raises FramingError on a truncated or compressed frame, or one larger than
    max_message_bytes.
    """
    while True:
        header = await body.read(_HEADER.size)
        if not header:
            return
        if len(header) < _HEADER.size:
            header += await _read_exactly(body, _HEADER.size - len(header))
        flag, length = _HEADER.unpack(header)
        _check_frame(flag, length, max_message_bytes)
        payload = await _read_exactly(body, length)
        if flag & TRAILER_FLAG:
            return
        yield payload


def split_frames(data: bytes, max_message_bytes: int) -> list[bytes]:
    """The messages of a complete grpc-web body. Raises FramingError as read_frames does."""
    messages, offset = [], 0
    while offset < len(data):
        if len(data) - offset < _HEADER.size:
            raise FramingError("truncated grpc-web frame header")
        flag, length = _HEADER.unpack_from(data, offset)
        _check_frame(flag, length, max_message_bytes)
        offset += _HEADER.size
        if len(data) - offset < length:
            raise FramingError("truncated grpc-web frame")
        if flag & TRAILER_FLAG:
            break
        messages.append(data[offset : offset + length])
        offset += length
    return messages


def _check_frame(flag: int, length: int, max_message_bytes: int) -> None:
    if flag & COMPRESSED_FLAG:
        raise FramingError("compressed grpc-web frames are not accepted; send them uncompressed")
    if length > max_message_bytes:
        raise FramingError(f"a {length}-byte message exceeds the {max_message_bytes}-byte limit")


async def _read_exactly(body: StreamReader, size: int) -> bytes:
    try:
        return await body.readexactly(size)
    except Exception as error:  # aiohttp raises asyncio.IncompleteReadError at a short body
        raise FramingError("truncated grpc-web frame") from error


def decode_text_body(data: bytes) -> bytes:
    """Decodes a grpc-web-text body: base64, possibly several padded chunks in a row.

    Raises FramingError when it is not base64.
    """
    data = b"".join(data.split())
    chunks = _PADDED_CHUNK.findall(data)
    if sum(len(c) for c in chunks) != len(data):
        raise FramingError("grpc-web-text body is not base64")
    try:
        return b"".join(base64.b64decode(chunk, validate=True) for chunk in chunks if chunk)
    except binascii.Error as error:
        raise FramingError(f"grpc-web-text body is not base64: {error}") from error
