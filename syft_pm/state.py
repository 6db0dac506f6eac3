"""The shape of a fresh ``state.json`` record (see docs/registry.md).

Its own module with no imports, because both run() and the supervisor build one and the
supervisor keeps its start-up imports to a minimum (run() waits for it).
"""

SCHEMA_VERSION = 1


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
    }
    state.update(fields)
    return state
