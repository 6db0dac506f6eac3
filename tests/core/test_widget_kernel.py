"""The widget in a real kernel, with the Colab switch on: every message a thread sends is
dropped, so the view must stay current through replies to its own polls alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernelclient import KernelComms, running_kernel
from pmtest import PY

from syft_pm.kernel.display import MIME_TYPE, WIDGET_MIME_TYPE

pytest.importorskip("jupyter_client")
pytest.importorskip("anywidget")

TICKER = (
    "import itertools, time\n"
    "for i in itertools.count():\n"
    "    print('tick', i, flush=True)\n"
    "    time.sleep(0.05)\n"
)


@pytest.fixture
def colab_kernel(home: Path, tmp_path: Path) -> Iterator[KernelComms]:
    with running_kernel(home, tmp_path, SYFT_PM_WIDGET_DROP_THREAD_SENDS="1") as (_, comms):
        yield comms


def custom(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["content"] for m in messages if m.get("method") == "custom"]


def lines_in(contents: list[dict[str, Any]]) -> list[str]:
    return [
        text
        for c in contents
        for per in c.get("logs", {}).values()
        for _, text in per.get("stdout", {}).get("lines", [])
    ]


@pytest.mark.timeout(120)
def test_the_view_stays_live_by_polling_alone(colab_kernel: KernelComms) -> None:
    comms = colab_kernel
    comms.execute(f"h = syft_pm.run('tick', [{PY!r}, '-u', '-c', {TICKER!r}])")
    result = comms.execute("h")
    (shown,) = [m for m in result["outputs"] if m["header"]["msg_type"] == "execute_result"]
    data, metadata = shown["content"]["data"], shown["content"]["metadata"]
    assert {MIME_TYPE, WIDGET_MIME_TYPE, "text/html", "text/plain"} <= set(data)
    assert isinstance(metadata, dict)
    model = data[WIDGET_MIME_TYPE]["model_id"]

    # A view that found its pushes lost asks for pull mode.
    subscribe = {"type": "subscribe", "push": False}
    sent = {comms.send(model, {"method": "custom", "content": subscribe})}
    comms.wait(model, lambda ms: any(c["type"] == "snapshot" for c in custom(ms)))
    seen_before = len(set(lines_in(custom(comms.inbox[model]))))

    def poll_until(pred: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent.add(comms.send(model, {"method": "custom", "content": {"type": "poll"}}))
            n = len(custom(comms.inbox[model]))
            comms.wait(model, lambda ms, n=n: len(custom(ms)) > n)
            if pred():
                return
        raise AssertionError("polling never brought what was expected")

    poll_until(lambda: len(set(lines_in(custom(comms.inbox[model])))) > seen_before + 5)
    sent.add(
        comms.send(
            model,
            {
                "method": "custom",
                "content": {"type": "action", "id": "a1", "action": "stop", "name": "tick"},
            },
        )
    )
    poll_until(lambda: any(c["type"] == "action_result" for c in custom(comms.inbox[model])))
    (res,) = [c for c in custom(comms.inbox[model]) if c["type"] == "action_result"]
    assert res["ok"] and res["id"] == "a1"
    # Every message that reached us is a reply to one of ours: nothing from a thread.
    for msg in comms.raw[model]:
        if msg["content"]["data"].get("method") == "custom":
            assert msg["parent_header"].get("msg_id") in sent, msg["content"]["data"]
