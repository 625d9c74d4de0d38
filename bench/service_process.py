"""One service in a process of its own, as deployed: a benchmark can watch its memory,
and its work does not share the benchmark's GIL.

    python -m bench.service_process --database-url URL --jwt-secret S --local-root DIR
    python -m bench.service_process --database-url URL --jwt-secret S --s3-endpoint HOST:PORT --s3-bucket B
    python -m bench.service_process --service models --database-url URL --jwt-secret S --local-root DIR \
        --address upload=HOST:PORT --address training=HOST:PORT --address evaluation=HOST:PORT

Prints one JSON line `{"port": N}` on stdout once it serves on 127.0.0.1, and stops
on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from tsforge.core.config import load_config
from tsforge.core.db import Database
from tsforge.core.storage import LocalObjectStore, ObjectStore, S3ObjectStore

# No benchmark upload may hit the tenant quota.
QUOTA_BYTES = 1 << 40


def main(argv: list[str] | None = None) -> None:
    arguments = _parser().parse_args(argv)
    config = load_config(
        {
            "TSFORGE_JWT_SECRET": arguments.jwt_secret,
            "TSFORGE_TENANT_QUOTA_BYTES": str(QUOTA_BYTES),
            "TSFORGE_SERVER_THREADS": "16",
            "TSFORGE_LOG_LEVEL": "WARNING",
            **{
                f"TSFORGE_{name.upper()}_ADDRESS": address
                for name, address in (pair.split("=", 1) for pair in arguments.address)
            },
        }
    )
    db = Database(arguments.database_url)
    if arguments.service == "models":
        from services.models.server import ModelsServer

        server: ModelsServer | UploadServer = ModelsServer(config, db, _store(arguments), "127.0.0.1:0")
    else:
        from services.upload.server import UploadServer

        server = UploadServer(config, db, _store(arguments), "127.0.0.1:0")
    stopping = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stopping.set())
    print(json.dumps({"port": server.port}), flush=True)
    stopping.wait()
    server.stop(grace=0)
    db.dispose()


def _store(arguments: argparse.Namespace) -> ObjectStore:
    if arguments.local_root:
        return LocalObjectStore(Path(arguments.local_root))
    return S3ObjectStore.from_settings(
        endpoint=arguments.s3_endpoint,
        access_key=arguments.s3_access_key,
        secret_key=arguments.s3_secret_key,
        bucket=arguments.s3_bucket,
        secure=False,
        region="us-east-1",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", choices=("upload", "models"), default="upload")
    parser.add_argument(
        "--address",
        action="append",
        default=[],
        metavar="SERVICE=HOST:PORT",
        help="where another service listens (models needs upload, training, evaluation)",
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--jwt-secret", required=True)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--local-root", help="directory of a LocalObjectStore")
    where.add_argument("--s3-endpoint", help="host:port of an S3 server (plain HTTP)")
    parser.add_argument("--s3-bucket", default="tsforge-bench")
    parser.add_argument("--s3-access-key", default="testing")
    parser.add_argument("--s3-secret-key", default="testing")
    return parser


if __name__ == "__main__":
    main()
