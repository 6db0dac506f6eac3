"""The protocol's three descriptions (Python, TypeScript, docs) must say the same thing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from syft_pm.live import protocol

ROOT = Path(__file__).resolve().parents[1]
TS = (ROOT / "labextension" / "src" / "live" / "protocol.ts").read_text()
DOC = (ROOT / "docs" / "protocol.md").read_text()


def ts_const_list(name: str) -> tuple[str, ...]:
    m = re.search(rf"export const {name} = \[(.*?)\] as const;", TS, re.S)
    assert m, f"protocol.ts has no `export const {name} = [...] as const`"
    return tuple(re.findall(r"'([^']+)'", m.group(1)))


def ts_interface_fields(name: str) -> tuple[str, ...]:
    m = re.search(rf"export interface {name} \{{(.*?)\n\}}", TS, re.S)
    assert m, f"protocol.ts has no interface {name}"
    return tuple(re.findall(r"^\s+(\w+)\??:", m.group(1), re.M))


def test_version_matches():
    m = re.search(r"export const PROTOCOL_VERSION = (\d+);", TS)
    assert m and int(m.group(1)) == protocol.PROTOCOL_VERSION
    assert f"version {protocol.PROTOCOL_VERSION}" in DOC.splitlines()[0]


def test_message_and_action_lists_match():
    for name in ("SERVER_MESSAGES", "CLIENT_MESSAGES", "ACTIONS", "STATE_FIELDS", "LOG_STREAMS"):
        assert ts_const_list(name) == getattr(protocol, name), name


def test_process_state_interface_matches_fields():
    assert ts_interface_fields("IProcessState") == protocol.STATE_FIELDS


def test_every_message_type_is_documented():
    for kind in protocol.SERVER_MESSAGES + protocol.CLIENT_MESSAGES:
        assert re.search(rf"^\| `{kind}`\s*\|", DOC, re.M), (
            f"docs/protocol.md lacks a row for {kind}"
        )
    for action in protocol.ACTIONS:
        assert f"`{action}`" in DOC
    for field in protocol.STATE_FIELDS:
        assert f"`{field}`" in DOC, f"docs/protocol.md does not mention field {field}"


def test_python_builders_emit_documented_fields():
    snap = protocol.snapshot(seq=1, registry_id="r", time=0.0, processes={}, logs={}, scope=None)
    assert set(snap) == {
        "type",
        "protocol",
        "seq",
        "registry_id",
        "time",
        "scope",
        "processes",
        "logs",
    }
    assert set(ts_interface_fields("ISnapshotMessage")) == set(snap)
    d = protocol.delta(seq=2, time=0.0)
    assert set(ts_interface_fields("IDeltaMessage")) == set(d)
    hb = protocol.heartbeat(seq=2, time=0.0)
    assert set(ts_interface_fields("IHeartbeatMessage")) == set(hb)
    ar = protocol.action_result("x", True)
    assert set(ts_interface_fields("IActionResultMessage")) == set(ar)
    err = protocol.error("m")
    assert set(ts_interface_fields("IErrorMessage")) == set(err)


def test_status_lists_match():
    # One list of statuses on each side: the TS mirror must not drift from syft_pm/status.py.
    from syft_pm import status

    assert ts_const_list("STATUSES") == protocol.STATUSES
    assert set(ts_const_list("ACTIVE_STATUSES")) == set(protocol.ACTIVE_STATUSES)
    assert set(ts_const_list("FINAL_STATUSES")) == set(protocol.FINAL_STATUSES)
    assert set(ts_const_list("UP_STATUSES")) == set(status.UP_STATUSES)
    m = re.search(r"export const ERROR_STATUS = '([^']+)';", TS)
    assert m and m.group(1) == protocol.ERROR_STATUS


def test_piecewise_encoding_is_the_same_json():
    snap = protocol.snapshot(
        seq=3,
        registry_id="r",
        time=1.5,
        processes={"a": {"name": "a", "status": "running"}, "b": {"name": "b", "x": [1, None]}},
        logs={"a": {"stdout": {"lines": [[1.0, "é\u2028\\"]], "skipped": 0}}, "b": {}},
        scope=None,
    )
    d = protocol.delta(seq=4, time=2.0, changed={"a": {"pid": 1}}, removed=["c"])
    for msg in (snap, d, protocol.heartbeat(seq=1, time=0.0)):
        assert json.loads(protocol.encode(msg)) == msg
