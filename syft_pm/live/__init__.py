"""The live-state layer: turns the registry into protocol messages for any number of views.

``protocol`` (the wire vocabulary), ``watcher`` + ``watcher_thread`` (registry -> snapshot and
deltas), ``hub`` (one registry, its watcher, its thread and bounded worker pools),
``session`` (one view's protocol session: open arguments, limits, dispatch, action
replies) and ``actions`` (what a view may ask of the core). Pure Python: the kernel comm
and the server websocket are transports over a :class:`~syft_pm.live.session.Session`,
and nothing here imports Jupyter.
"""
