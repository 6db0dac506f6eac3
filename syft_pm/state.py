"""The shape of a fresh ``state.json`` record (see docs/registry.md).

Its own module with no imports, because both run() and the supervisor build one and the
supervisor keeps its start-up imports to a minimum (run() waits for it).
"""

SCHEMA_VERSION = 1
BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


def boot_id() -> str | None:
    """This boot of the host (Linux), recorded in every state so that a record written
    before a reboot is known for what it is: its pids mean nothing any more."""
    try:
        with open(BOOT_ID_FILE) as f:
            return f.read().strip() or None
    except OSError:
        return None


def initial_state(run_id: str, now: float | None, **fields: object) -> dict[str, object]:
    """A ``starting`` record for run ``run_id`` with every field present."""
    state: dict[str, object] = {
        "schema": SCHEMA_VERSION,
        "run_id": run_id,
        "status": "starting",
        "reason": None,
        "pid": None,
        "create_time": None,
        "supervisor_pid": None,
        "supervisor_create_time": None,
        "exit_code": None,
        "signal": None,
        "restarts": 0,
        "started_at": None,
        "ended_at": None,
        "updated_at": now,
        "stop_reason": None,
        "next_restart_at": None,
        "ready_at": None,
        "restart_reason": None,
        "boot_id": boot_id(),
        "bound_to": None,
    }
    state.update(fields)
    return state


_INT_FIELDS = ("pid", "supervisor_pid", "exit_code")
_NUMBER_FIELDS = (
    "create_time",
    "supervisor_create_time",
    "started_at",
    "ended_at",
    "updated_at",
    "next_restart_at",
    "ready_at",
)
_TEXT_FIELDS = ("run_id", "reason", "signal", "stop_reason", "restart_reason", "boot_id")


def state_problem(state: dict[str, object]) -> str | None:
    """Why ``state`` cannot be trusted field by field (a wrong type), or None.

    Readers compare pids and create times and signal on them: a record whose ``pid`` is
    text or whose create time is a list must be an ``error`` entry, not a crash in
    list() or a wrong verdict about who is alive.
    """
    for key in _INT_FIELDS:
        v = state.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            return f"state.json field {key!r} should be an integer, not {v!r}"
    for key in _NUMBER_FIELDS:
        v = state.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            return f"state.json field {key!r} should be a number, not {v!r}"
    for key in _TEXT_FIELDS:
        v = state.get(key)
        if v is not None and not isinstance(v, str):
            return f"state.json field {key!r} should be text, not {v!r}"
    restarts = state.get("restarts", 0)
    if isinstance(restarts, bool) or not isinstance(restarts, int):
        return f"state.json field 'restarts' should be an integer, not {restarts!r}"
    return None
