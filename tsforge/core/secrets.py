"""The JWT signing secret: given by the operator, or generated once per embedded install.

A secret that has ever been published (the old built-in development value, the
placeholders in deploy/) is refused everywhere: anyone could mint tokens with it.
tests/core/test_secrets.py finds every TSFORGE_JWT_SECRET value written in the
repository and proves each one is refused here, so a new placeholder cannot slip in.

In embedded mode (no TSFORGE_DATABASE_URL, no S3) with no secret set, a random one is
created under the data directory, readable by its owner only, and reused by every
process of that install; a token minted by one install does not verify on another.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

MIN_SECRET_BYTES = 32
SECRET_FILE_NAME = "jwt-secret"

# SHA-256 of secrets published with tsforge (so the values themselves are not repeated).
PUBLISHED_SECRET_DIGESTS = frozenset(
    {
        # the built-in default until 2026-12
        "fa66e029631a738f43f82c5155d775bf91031eeb1c008c30e82cfa36f354fdcb",
        # the test suite's fixed secret until 2026-12
        "42ab8d687cd7bba13324a450b8992e2c23cb530bacdc50fa5f227d611fa8e53d",
        # the benchmarks' fixed secret until 2026-12
        "c548f228532e33e785425c9fc1bbd1b2ec74ca99ed5e87c63bf0ead61f98a323",
        # deploy/kubernetes' placeholder until 2026-12
        "3ef7ed8f53d7320ed5be55b764e9a371da7d65d2a64aad01372424ac278ca413",
    }
)
# Words only a placeholder contains; a real secret is random bytes.
_PLACEHOLDER_WORDS = ("change-me", "changeme", "replace-me", "replace-with", "placeholder", "example")


class SecretError(ValueError):
    """The secret cannot be used; the message says why and what to do."""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def check_secret(value: str) -> None:
    """Raises SecretError for a secret that is too short, published or a placeholder."""
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise SecretError(f"must be at least {MIN_SECRET_BYTES} bytes (HS256 keys shorter than the hash are weak)")
    lowered = value.lower()
    if digest(value) in PUBLISHED_SECRET_DIGESTS or any(word in lowered for word in _PLACEHOLDER_WORDS):
        raise SecretError(
            "is a published or placeholder value that anyone can sign tokens with; generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )


def install_secret(data_dir: Path) -> str:
    """The embedded install's secret under `data_dir`, created (mode 0600) on first use.

    Concurrent first uses agree: the file is written aside and linked into place once.
    Raises SecretError when the file is readable by others or holds an unusable value.
    """
    path = data_dir / SECRET_FILE_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        staged = data_dir / f".{SECRET_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(staged, path)
            except FileExistsError:
                pass  # another process of this install created it first: use theirs
        finally:
            staged.unlink(missing_ok=True)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(f"{path} is readable by others (mode {stat.filemode(mode)}): run `chmod 600 {path}`")
    value = path.read_text().strip()
    check_secret(value)
    return value
