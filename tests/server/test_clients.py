"""The per-client queue: a slow websocket costs bounded memory and ends up correct."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from looptick import iteration_counter

from syft_pm.live.hub import LiveHub
from syft_pm.live.session import Scope
from syft_pm.registry import atomic_write_json
from syft_pm.server.clients import ClientSet


def fake_entry(home: Path, name: str, status: str) -> Path:
    d = home / "processes" / name
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_json(d / "config.json", {"schema": 1, "name": name, "cmd": ["true"]})
    atomic_write_json(d / "state.json", {"schema": 1, "status": status, "restarts": 0})
    return d


async def test_a_stalled_client_is_bounded_then_resynced(tmp_path: Path) -> None:
    home = tmp_path / "home"
    live = LiveHub(home)
    hub = ClientSet(live, max_queued=5)
    gate = asyncio.Event()
    written: list[dict[str, Any]] = []

    async def slow_write(data: list[bytes]) -> None:
        await gate.wait()  # the browser is not reading
        written.append(json.loads(b"".join(data)))

    client = await hub.attach(slow_write, Scope(log_lines=0, logs=False))
    try:
        # 50 changes while the client is stalled: each is a delta for this client.
        for i in range(50):
            fake_entry(home, f"p{i:02d}", "running")
            await hub.run_sync(live.watcher.scan)
            await asyncio.sleep(0)  # let call_soon_threadsafe deliveries run
            assert len(client._queue) <= 5, "the queue must never exceed its bound"
        assert client.dropped >= 1
        # Let the resync requested on overflow arrive, then unblock the client.
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not client._resyncing:
                break
        gate.set()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not client._queue:
                break
        snapshots = [m for m in written if m["type"] == "snapshot"]
        assert len(snapshots) >= 2, "overflow must be answered by a fresh snapshot"
        # What the client ends up knowing (last snapshot + the deltas after it) is the
        # whole current state: correct, without the history it could not keep up with.
        last = written.index(snapshots[-1])
        known = set(snapshots[-1]["processes"])
        seq = snapshots[-1]["seq"]
        for m in written[last + 1 :]:
            assert m["type"] in ("delta", "heartbeat")
            if m["type"] == "delta":
                assert m["seq"] == seq + 1
                seq = m["seq"]
                known |= set(m["added"])
        assert known == {f"p{i:02d}" for i in range(50)}
        assert len(written) < 50, "a stalled client must not be sent every delta"
    finally:
        client.close()
        await hub.close()
    assert not live.thread.running


def test_fragments_cover_the_pieces_in_order_without_copies() -> None:
    from syft_pm.server.websocket import frame_header, split_fragments

    pieces = [b"{", b"a" * 10, b"", b"b" * 7, b"}"]
    frags = split_fragments(pieces, 4)
    assert [b"".join(bytes(v) for v in f) for f in frags] == [
        b"{aaa",
        b"aaaa",
        b"aaab",
        b"bbbb",
        b"bb}",
    ]
    assert all(any(v.obj is p for p in pieces) for f in frags for v in f), "views, not copies"
    assert split_fragments([], 4) == [[]]
    assert frame_header(5) == b"\x81\x05"
    assert frame_header(5, opcode=0, fin=False) == b"\x00\x05"
    assert frame_header(300) == b"\x81\x7e\x01\x2c"
    assert frame_header(70000, opcode=0) == b"\x80\x7f" + (70000).to_bytes(8, "big")


def fast_reader() -> tuple[Any, list[Any]]:
    """A stand-in for ``EventsHandler`` whose stream takes every write at once, as a
    local reader as fast as the kernel does, and records what each write was."""
    from types import SimpleNamespace

    loop = asyncio.get_running_loop()
    writes: list[Any] = []

    def write(data: Any) -> asyncio.Future[None]:
        writes.append(data)
        done = loop.create_future()
        done.set_result(None)
        return done

    conn = SimpleNamespace(stream=SimpleNamespace(write=write), _compressor=None)
    conn.mask_outgoing = False
    return SimpleNamespace(ws_connection=conn), writes


async def test_a_big_message_to_a_fast_reader_yields_between_fragments(
    monkeypatch: Any,
) -> None:
    """A reader as fast as the kernel takes each fragment inside ``stream.write()``, so
    every awaited write is already done and does not yield: the whole message went out
    in one step of the writer, tens of megabytes while the loop waited."""
    from syft_pm.server import websocket

    handler, writes = fast_reader()
    monkeypatch.setattr(websocket, "WRITE_SLICE", 0.0)  # every fragment uses up a turn
    ticks, stop = iteration_counter()
    body = b"x" * (8 * websocket.FRAGMENT)
    await websocket.EventsHandler._write(handler, [b'{"a":"', body, b'"}'])
    stop()
    assert sum(map(len, writes)) > len(body), "every byte, and the frame headers"
    assert ticks() >= 8, f"the loop ran {ticks()} times while 9 fragments went out"


async def test_small_parts_go_out_in_one_write_and_big_ones_uncopied() -> None:
    """Each ``stream.write()`` is a ``send()`` that wakes the reader: a small message of
    several pieces was six of them (the frame header, then each piece)."""
    from syft_pm.server import websocket

    handler, writes = fast_reader()
    pieces = [b'{"type":"snapshot","processes":', b'{"a":1}', b',"seq":3', b"}"]
    await websocket.EventsHandler._write(handler, pieces)
    assert writes == [websocket.frame_header(len(b"".join(pieces))) + b"".join(pieces)]

    writes.clear()
    body = b"y" * (3 * websocket.FRAGMENT)
    await websocket.EventsHandler._write(handler, [b'{"a":"', body, b'"}'])
    frames = b"".join(bytes(w) for w in writes)
    assert frames.count(b"y") == len(body)
    big = [w for w in writes if len(w) >= websocket.COPY_BELOW]
    assert big and all(isinstance(w, memoryview) and w.obj is body for w in big), (
        "the body is written as views of itself, not copied"
    )
    assert len(writes) <= 2 * len(big) + 1, f"{len(writes)} writes for {len(big)} fragments"
