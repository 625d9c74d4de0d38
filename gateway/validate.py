"""`python -m gateway.validate`: Envoy itself (`envoy --mode validate`) checks every
configuration tsforge renders: the local bootstrap `tsforge up` runs, deploy/envoy/envoy.yaml
(its descriptor path pointed at the committed tsforge.pb), and the EnvoyPatchPolicy's
filter applied to that bootstrap as Envoy Gateway applies it. Exits 1 on any refusal.
"""

from __future__ import annotations

import copy
import sys
import tempfile
from pathlib import Path

import yaml

from gateway.edge import local_bootstrap
from gateway.envoy_config import TRANSCODER_NAME
from gateway.envoy_process import find_envoy, validate
from gateway.render import CONTAINER_DESCRIPTOR, DESCRIPTOR_SET, ENVOY_CONFIG, PATCH_POLICY
from tsforge.core.config import SERVICE_PORTS, load_config


def configurations() -> dict[str, dict]:
    """Every rendered configuration, as Envoy would load it on this machine."""
    config = load_config({"TSFORGE_GATEWAY_CORS_ORIGINS": "http://localhost:5173"})
    upstreams = {name: f"127.0.0.1:{port}" for name, port in SERVICE_PORTS.items()}
    deploy = yaml.safe_load(ENVOY_CONFIG.read_text().replace(CONTAINER_DESCRIPTOR, str(DESCRIPTOR_SET)))
    patched = copy.deepcopy(deploy)
    manager = patched["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    manager["http_filters"] = [f for f in manager["http_filters"] if f["name"] != TRANSCODER_NAME]
    for patch in yaml.safe_load(PATCH_POLICY.read_text())["spec"]["jsonPatches"]:
        operation = patch["operation"]
        assert operation["op"] == "add" and operation["path"].endswith("/http_filters/0"), operation
        manager["http_filters"].insert(0, operation["value"])
    return {
        "local bootstrap (tsforge up)": local_bootstrap(config, upstreams, 8081, 8080, 9901),
        "deploy/envoy/envoy.yaml": deploy,
        "deploy/kubernetes/transcoder-patch-policy.yaml, applied": patched,
    }


def main() -> int:
    binary = find_envoy(load_config().envoy_binary)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="tsforge-validate-") as folder:
        for name, document in configurations().items():
            path = Path(folder) / "envoy.yaml"
            path.write_text(yaml.safe_dump(document, sort_keys=False))
            ok, output = validate(binary, path)
            print(f"{'ok' if ok else 'REFUSED'}: {name}")
            if not ok:
                failed += 1
                print(output[-3000:], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
