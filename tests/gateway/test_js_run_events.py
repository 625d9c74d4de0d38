"""A server stream of training run events through the gateway, read by
@connectrpc/connect-web's grpc-web transport in Node and in headless Chromium: the
events must arrive one by one while the worker trains, not in one burst at the end.

One real training stack (upload and training services, one spawned worker) and Envoy
in front of it serve the whole module. The JavaScript (js/run_events.mjs)
creates the run itself and watches it at once, so the watch is open while the run
trains; it records each event's sequence, kind, server time and Date.now() on arrival.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from gateway.edge import start_edge
from tests.gateway.conftest import edge_config, free_port, run_js
from tests.plugin import new_tenant, running_training_stack
from tests.training.helpers import build_ready_dataset, create_session, small_spec, upload_pair
from tsforge.core.storage import LocalObjectStore

EPOCHS = 5
# Tiny, and no early stopping, so every configured epoch runs and sends its epoch_end.
NEURAL = {"layers": 1, "units": 4, "epochs": EPOCHS, "earlyStoppingPatience": 1000}
# Below this, the server-side span checked below is too short to tell streaming from
# buffering apart from scheduling noise; the run's post-fit work (predictions on every
# split, the artifact, the closing events) makes it several hundred milliseconds.
MIN_SERVER_SPAN_MS = 150


@dataclass
class RunStack:
    base_url: str
    page_port: int
    token: str
    dataset: str


@pytest.fixture(scope="module")
def run_stack(db, database_url, tmp_path_factory, generated_es) -> Iterator[RunStack]:
    """A training stack, a gateway in front of it, and a ready dataset of one tenant."""
    store = LocalObjectStore(tmp_path_factory.mktemp("gateway-training") / "objects")
    with running_training_stack(db, database_url, store) as training:
        down = f"127.0.0.1:{free_port()}"
        upstreams = {
            "upload": training.upload.address,
            "training": training.address,
            "evaluation": down,
            "models": down,
        }
        page_port = free_port()
        edge = start_edge(edge_config(f"http://127.0.0.1:{page_port}"), upstreams)
        try:
            tenant = new_tenant()
            temperature, load = upload_pair(training.upload.stub, tenant)
            session = create_session(training.stub, tenant, small_spec(temperature, load))
            dataset = build_ready_dataset(training.stub, tenant, session)
            yield RunStack(f"http://127.0.0.1:{edge.port}", page_port, tenant.token, dataset.name)
        finally:
            edge.stop()


def _watch(mode: str, stack: RunStack) -> dict:
    env = {
        "GATEWAY_URL": stack.base_url,
        "TSFORGE_TOKEN": stack.token,
        "PAGE_PORT": str(stack.page_port),
        "SCENARIO_ARGS": json.dumps({"dataset": stack.dataset, "neural": NEURAL}),
    }
    return run_js(mode, env, "run_events.mjs", timeout=150)


def _check_events_arrived_one_by_one(result: dict) -> None:
    events = result["events"]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["kind"] == "stateChange" and events[-1]["state"] == "SUCCEEDED", events[-1]
    epochs = [e for e in events if e["kind"] == "epochEnd"]
    assert [e["epoch"] for e in epochs] == list(range(1, EPOCHS + 1)), epochs
    arrivals = [e["arrivedAt"] for e in events]
    assert arrivals == sorted(arrivals)

    # Streaming, not buffering: between the first epoch_end and the terminal event, the
    # worker spends the remaining epochs and the post-fit work (predictions, artifact,
    # summary). Their server times (`time`, set by the worker on the same clock) measure
    # that span. Delivered as they happen, the client sees them about as far apart
    # (each picks up a few ms on loopback); buffered anywhere (gateway, transport,
    # browser) until the stream ends, they arrive within a few ms of each other. Half
    # the server span leaves room for a loaded machine's jitter yet is far above a burst.
    first, last = epochs[0], events[-1]
    server_span = last["time"] - first["time"]
    client_span = last["arrivedAt"] - first["arrivedAt"]
    assert server_span >= MIN_SERVER_SPAN_MS, f"the run was too quick to tell: {server_span:.0f} ms"
    assert client_span >= 0.5 * server_span, (client_span, server_span, events)
    # And each epoch_end arrived close to when the worker wrote it, not at the end.
    lags = [e["arrivedAt"] - e["time"] for e in epochs]
    assert max(lags) < 0.5 * server_span + 50, (lags, server_span)


def test_run_events_arrive_one_by_one_through_connect_web_in_node(run_stack):
    _check_events_arrived_one_by_one(_watch("node", run_stack))


def test_run_events_arrive_one_by_one_through_connect_web_in_headless_chromium(run_stack):
    result = _watch("browser", run_stack)
    assert "HeadlessChrome" in result["userAgent"]
    _check_events_arrived_one_by_one(result)
    assert not [e for e in result["consoleErrors"] if "CORS" in e], result["consoleErrors"]
