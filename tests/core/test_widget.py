"""The widget transport and the display modes, with a recording comm (no kernel)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pmtest import PY, wait_for

from syft_pm.kernel import display, widget
from syft_pm.kernel.display import MIME_TYPE, WIDGET_MIME_TYPE
from syft_pm.manager import ProcessManager

pytest.importorskip("anywidget")

TICKER = (
    "import itertools, time\n"
    "for i in itertools.count(): print('tick', i, flush=True); time.sleep(0.05)"
)


class Recorder:
    """Stands in for the widget's comm: what the kernel would send to the view."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, content: dict[str, Any], buffers: Any = None) -> None:
        with self.lock:
            self.sent.append(content)

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.sent if m.get("type") == kind]

    def lines(self) -> list[str]:
        with self.lock:
            out: list[str] = []
            for m in self.sent:
                for per in m.get("logs", {}).values():
                    out += [t for _, t in per.get("stdout", {}).get("lines", [])]
            return out


@pytest.fixture
def view(pm: ProcessManager) -> Iterator[tuple[widget.ProcessWidget, Recorder]]:
    h = pm.run("w", [PY, "-u", "-c", TICKER])
    w = widget.ProcessWidget(h.name, pm.home, pm.registry.id)
    rec = Recorder()
    w.send = rec  # type: ignore[method-assign]
    yield w, rec
    w.close()


def message(w: widget.ProcessWidget, content: dict[str, Any]) -> None:
    """A custom message from the view, as ipywidgets delivers it."""
    w._handle_custom_msg(content, [])


def test_subscribe_is_answered_with_a_snapshot_of_its_one_process(view) -> None:
    w, rec = view
    message(w, {"type": "subscribe", "log_lines": 5})
    (snap,) = rec.of("snapshot")
    assert list(snap["processes"]) == ["w"] and snap["scope"] == ["w"]
    wait_for(lambda: rec.of("delta"), what="deltas pushed from the watcher thread")


def test_with_thread_sends_dropped_polls_keep_the_view_current(
    view, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Colab switch: nothing sent from a thread arrives; polls alone keep it live."""
    monkeypatch.setattr(widget, "DROP_THREAD_SENDS", True)
    w, rec = view
    message(w, {"type": "subscribe", "log_lines": 0, "push": False})
    assert len(rec.sent) == 1
    seen: set[str] = set()

    def polled_a_new_line() -> bool:
        message(w, {"type": "poll"})
        now = set(rec.lines())
        grew = bool(now - seen) and bool(seen)
        seen.update(now)
        return grew

    wait_for(polled_a_new_line, what="a poll to bring new lines")
    message(w, {"type": "action", "id": "x", "action": "stop", "name": "w"})
    wait_for(lambda: ProcessManager(w._home).get("w").status == "stopped", what="the stop")

    def polled_the_result() -> bool:
        message(w, {"type": "poll"})
        return bool(rec.of("action_result"))

    wait_for(polled_the_result, what="a poll's reply to carry the action result")
    (res,) = rec.of("action_result")
    assert res["id"] == "x" and res["ok"]


def test_a_quiet_view_expires_and_comes_back(view, monkeypatch: pytest.MonkeyPatch) -> None:
    w, rec = view
    message(w, {"type": "subscribe", "log_lines": 0})
    hub = w._session.hub if w._session else None
    assert hub is not None and hub.watcher.subscriber_count == 1
    monkeypatch.setattr(widget, "EXPIRE_SECONDS", 0.0)
    wait_for(lambda: hub.watcher.subscriber_count == 0, what="the quiet view to expire")
    monkeypatch.setattr(widget, "EXPIRE_SECONDS", 30.0)
    message(w, {"type": "poll"})
    assert len(rec.of("snapshot")) == 2, "the next message brings a fresh snapshot"
    assert hub.watcher.subscriber_count == 1 or w._session.hub.watcher.subscriber_count == 1


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("auto", {MIME_TYPE, WIDGET_MIME_TYPE, "text/html", "text/plain"}),
        ("lab", {MIME_TYPE, "text/html", "text/plain"}),
        ("widget", {WIDGET_MIME_TYPE, "text/html", "text/plain"}),
        ("static", {"text/html", "text/plain"}),
    ],
)
def test_bundle_by_mode(
    pm: ProcessManager, monkeypatch: pytest.MonkeyPatch, mode: str, expected: set[str]
) -> None:
    monkeypatch.setattr(display, "_in_kernel", lambda: True)
    monkeypatch.setenv("SYFT_PM_DISPLAY", mode)
    h = pm.run("b", [PY, "-c", "import time; time.sleep(60)"])
    data, metadata = h._repr_mimebundle_()
    assert set(data) == expected
    assert isinstance(metadata, dict)


def test_outside_a_kernel_there_is_no_widget(pm: ProcessManager) -> None:
    h = pm.run("b", [PY, "-c", "import time; time.sleep(60)"])
    data, _ = h._repr_mimebundle_()
    assert WIDGET_MIME_TYPE not in data and MIME_TYPE in data


def test_set_display_validates_and_wins_over_the_environment(
    pm: ProcessManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(display, "_settings", {"mode": None, "html_logs": None})
    monkeypatch.setenv("SYFT_PM_DISPLAY", "lab")
    with pytest.raises(ValueError, match="auto, lab, widget, static"):
        display.set_display("fancy")
    display.set_display("static")
    h = pm.run("b", [PY, "-c", "import time; time.sleep(60)"])
    assert set(h._repr_mimebundle_()[0]) == {"text/html", "text/plain"}


def test_the_static_card_has_no_env_values_and_logs_only_on_request(
    pm: ProcessManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(display, "_settings", {"mode": None, "html_logs": None})
    code = "import os; print('token', os.environ['SECRET'], flush=True)"
    h = pm.run("c", [PY, "-c", code], env={"SECRET": "hunter2"})
    h.wait(20)
    card = h._repr_mimebundle_()[0]["text/html"]
    assert "hunter2" not in card and "c" in card and "exit code 0" in card
    display.set_display(html_logs=True)
    assert "token hunter2" in h._repr_mimebundle_()[0]["text/html"]


def test_pull_mode_keeps_the_order_of_the_thread_and_the_replies(
    view, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything goes through one outbox in pull mode, so a view never sees a delta out
    of order (which it would take for a gap and answer with another snapshot)."""
    monkeypatch.setattr(widget, "DROP_THREAD_SENDS", True)
    w, rec = view
    message(w, {"type": "subscribe", "log_lines": 0, "push": False})

    def polled_enough() -> bool:
        message(w, {"type": "poll"})
        return len(rec.of("delta")) >= 15

    wait_for(polled_enough, what="deltas from the thread and from the polls' own scans")
    seqs = [m["seq"] for m in rec.sent if m.get("type") in ("snapshot", "delta")]
    assert len(rec.of("snapshot")) == 1
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


def test_a_busy_kernel_does_not_expire_its_views(view, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a cell runs, a view's polls wait unheard: that quiet must not unsubscribe it."""
    w, rec = view
    message(w, {"type": "subscribe", "log_lines": 0})
    hub = w._session.hub if w._session else None
    assert hub is not None
    monkeypatch.setattr(widget, "EXPIRE_SECONDS", 0.0)
    monkeypatch.setitem(widget._kernel, "busy", True)
    n = len(rec.of("delta"))
    wait_for(lambda: len(rec.of("delta")) > n + 3, what="pushes during a long cell")
    assert hub.watcher.subscriber_count == 1
    monkeypatch.setitem(widget._kernel, "busy", False)
    wait_for(lambda: hub.watcher.subscriber_count == 0, what="expiry once the kernel is idle")
