"""The protocol session both transports share, driven directly (no Jupyter needed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pmtest import PY, wait_for

from syft_pm.live import protocol
from syft_pm.live.hub import LiveHub
from syft_pm.live.session import READ, WRITE, Scope, Session
from syft_pm.manager import ProcessManager

SLEEPER = [PY, "-c", "import time; time.sleep(300)"]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, msg: dict[str, Any]) -> None:
        with self.lock:
            self.messages.append(json.loads(json.dumps(msg)))

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if m["type"] == kind]


@pytest.fixture
def hub(home: Path) -> Iterator[LiveHub]:
    h = LiveHub(home, stop_when_idle=True)
    yield h
    h.close()


def open_session(hub: LiveHub, scope: Scope | None = None, **kw: Any) -> tuple[Session, Inbox]:
    inbox = Inbox()
    session = Session(hub, inbox, **kw)
    session.open(scope or Scope())
    return session, inbox


def test_subscribe_changes_the_scope(hub: LiveHub, pm: ProcessManager) -> None:
    pm.run("a", SLEEPER)
    pm.run("b", SLEEPER)
    session, inbox = open_session(hub, Scope(names=["a"]))
    assert list(inbox.of("snapshot")[0]["processes"]) == ["a"]
    session.receive({"type": "subscribe", "names": ["b"], "log_lines": 0})
    snap = inbox.of("snapshot")[-1]
    assert snap["scope"] == ["b"] and list(snap["processes"]) == ["b"]
    session.close()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"names": ["../etc"]}, "name"),
        ({"names": ["web\n"]}, "name"),
        ({"names": "web"}, "list of process names"),
        ({"log_lines": 10**9}, "log_lines"),
        ({"log_lines": True}, "log_lines"),
        ({"logs": "yes"}, "logs"),
        ([1, 2], "JSON object"),
    ],
)
def test_open_arguments_are_validated(data: Any, reason: str) -> None:
    with pytest.raises(protocol.ProtocolError, match=reason):
        Scope.parse(data)


def test_bad_messages_get_an_error_not_an_exception(hub: LiveHub) -> None:
    session, inbox = open_session(hub)
    session.receive({"type": "subscribe", "names": ["../x"]})
    session.receive({"type": "action", "action": "stop", "name": "a/b"})
    session.receive("not an object")
    assert len(inbox.of("error")) == 3, inbox.messages
    session.close()


def test_actions_need_their_permission(hub: LiveHub, pm: ProcessManager) -> None:
    pm.run("p", SLEEPER)
    session, inbox = open_session(hub, permissions=frozenset({READ, WRITE}))
    session.receive({"type": "action", "id": 1, "action": "restart", "name": "p"})
    (res,) = inbox.of("action_result")
    assert not res["ok"] and "execute" in res["error"]
    assert pm.get("p").restarts == 0
    session.receive({"type": "action", "id": 2, "action": "stop", "name": "p"})
    wait_for(lambda: len(inbox.of("action_result")) == 2, what="the stop's result")
    assert inbox.of("action_result")[1]["ok"] and pm.get("p").status == "stopped"
    session.close()


def test_actions_run_on_one_bounded_pool(hub: LiveHub, pm: ProcessManager) -> None:
    """Many actions at once never mean one thread each (the comm used to start one per
    message): they queue on the hub's action pool."""
    for i in range(3):
        pm.run(f"p{i}", SLEEPER)
    session, inbox = open_session(hub)
    seen: set[str] = set()
    for i in range(30):
        session.receive({"type": "action", "id": i, "action": "stop", "name": f"p{i % 3}"})
        seen |= {t.name for t in threading.enumerate() if t.name.startswith("syft_pm-action")}
    wait_for(lambda: len(inbox.of("action_result")) == 30, timeout=60, what="30 results")
    assert 0 < len(seen) <= 4, seen
    session.close()


def test_scan_requests_are_rate_limited(hub: LiveHub, monkeypatch: pytest.MonkeyPatch) -> None:
    session, inbox = open_session(hub)
    scans = {"n": 0}
    real_scan = hub.watcher.scan

    def counting_scan() -> bool:
        scans["n"] += 1
        return real_scan()

    monkeypatch.setattr(hub.watcher, "scan", counting_scan)
    for _ in range(200):
        session.receive({"type": "poll"})
    errors = [m for m in inbox.of("error") if m["code"] == "rate_limited"]
    assert len(errors) == 1, "told once, not per message"
    assert scans["n"] < 100, "polls past the limit must not scan"
    # ...but each is still answered (cheaply), so a view waiting on its poll never stalls.
    assert len(inbox.of("heartbeat")) + len(inbox.of("delta")) == 200
    session.close()


def test_a_poll_collects_finished_action_results(hub: LiveHub, pm: ProcessManager) -> None:
    """A poll-driven view whose kernel drops messages sent from threads still gets every
    action result: in the reply to its next poll."""
    pm.run("p", SLEEPER)
    inbox = Inbox()
    from_threads: list[dict[str, Any]] = []

    def send(msg: dict[str, Any]) -> None:
        if threading.current_thread() is main:
            inbox(msg)
        else:  # dropped, as Colab drops kernel messages sent from a thread while idle
            from_threads.append(msg)

    main = threading.current_thread()
    session = Session(hub, send, redeliver_on_poll=True)
    session.open(Scope(names=["p"]))
    session.receive({"type": "action", "id": "s", "action": "stop", "name": "p"})
    wait_for(
        lambda: any(m["type"] == "action_result" for m in from_threads),
        what="the result, sent from the action thread",
    )
    assert not inbox.of("action_result")
    session.receive({"type": "poll"})
    (res,) = inbox.of("action_result")
    assert res["id"] == "s" and res["ok"]
    session.receive({"type": "poll"})
    assert len(inbox.of("action_result")) == 1, "delivered once"
    session.close()


def test_close_never_blocks_and_ends_the_thread(hub: LiveHub) -> None:
    session, _ = open_session(hub)
    assert hub.thread.running
    with hub.watcher._lock:  # a scan in progress holds this
        done = threading.Event()
        threading.Thread(target=lambda: (session.close(), done.set())).start()
        assert done.wait(5), "close() waited for the watcher lock"
    wait_for(lambda: not hub.thread.running, what="the idle watcher thread to end")
