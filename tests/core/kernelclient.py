"""A kernel client that opens comms and sorts what comes back (for real-kernel tests)."""

from __future__ import annotations

import contextlib
import queue
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class KernelComms:
    """A kernel client that opens ``syft_pm`` comms and sorts what comes back."""

    def __init__(self, kc: Any) -> None:
        self.kc = kc
        self.inbox: dict[str, list[dict[str, Any]]] = defaultdict(list)
        #: Whole messages per comm (headers included), for tests about who replied to what.
        self.raw: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.closed: set[str] = set()

    def execute(self, code: str) -> dict[str, Any]:
        outputs: list[dict[str, Any]] = []
        reply = self.kc.execute_interactive(code, timeout=60, output_hook=outputs.append)
        assert reply["content"]["status"] == "ok", reply["content"]
        for msg in outputs:
            self._sort(msg)
        return {"reply": reply, "outputs": outputs}

    def open(self, data: dict[str, Any] | None = None) -> str:
        comm_id = uuid.uuid4().hex
        msg = self.kc.session.msg(
            "comm_open", {"comm_id": comm_id, "target_name": "syft_pm", "data": data or {}}
        )
        self.kc.shell_channel.send(msg)
        return comm_id

    def send(self, comm_id: str, data: dict[str, Any]) -> str:
        """Send a comm message; returns its msg_id (replies name it as their parent)."""
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.kc.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    def close(self, comm_id: str) -> None:
        self.kc.shell_channel.send(
            self.kc.session.msg("comm_close", {"comm_id": comm_id, "data": {}})
        )

    def _sort(self, msg: dict[str, Any]) -> None:
        kind = msg["header"]["msg_type"]
        if kind == "comm_msg":
            self.inbox[msg["content"]["comm_id"]].append(msg["content"]["data"])
            self.raw[msg["content"]["comm_id"]].append(msg)
        elif kind == "comm_close":
            self.closed.add(msg["content"]["comm_id"])

    def wait(
        self, comm_id: str, pred: Callable[[list[dict[str, Any]]], Any], timeout: float = 15
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = pred(self.inbox[comm_id])
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; comm {comm_id} got {self.inbox[comm_id]!r}")
            with contextlib.suppress(queue.Empty):
                self._sort(self.kc.get_iopub_msg(timeout=min(left, 0.5)))


def snapshot_of(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((m for m in messages if m["type"] == "snapshot"), None)


def delta_line(text: str) -> Callable[[list[dict[str, Any]]], bool]:
    def pred(messages: list[dict[str, Any]]) -> bool:
        return any(
            text in line
            for m in messages
            if m["type"] == "delta"
            for chunks in m["logs"].values()
            for line in (t for _, t in chunks.get("stdout", {}).get("lines", []))
        )

    return pred


@contextlib.contextmanager
def running_kernel(home: Path, cwd: Path, **env: str) -> Iterator[tuple[Any, KernelComms]]:
    """A real python3 kernel on registry ``home`` (extra environment in ``env``), with
    ``syft_pm`` and ``sys`` imported; shut down on exit."""
    import os

    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(env={**os.environ, "SYFT_PM_HOME": str(home), **env}, cwd=str(cwd))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        comms = KernelComms(kc)
        comms.execute("import syft_pm, sys")
        yield km, comms
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
