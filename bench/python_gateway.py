"""The retired Python gateway (gateway/server.py) as a process, for bench.gateway to
measure beside Envoy in the same run. Prints `gateway on http://127.0.0.1:PORT`.

    python -m bench.python_gateway upload=HOST:PORT training=HOST:PORT
"""

from __future__ import annotations

import signal
import sys
import threading

from gateway.server import GatewaySettings, start_gateway


def main(argv: list[str]) -> None:
    upstreams = dict(pair.split("=", 1) for pair in argv)
    running = start_gateway(GatewaySettings(host="127.0.0.1", port=0, upstreams=upstreams))
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    print(f"gateway on http://127.0.0.1:{running.port}", flush=True)
    stopping.wait()
    running.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
