"""How the gateway's process uses Python's cyclic garbage collector, set once it is serving.

Measured under load (bench.profile, 32 sessions, the SDK upstream, with the dashboard): at the default
thresholds the collector ran ~45 young collections a second and a full one every ~2 s that walked every
object the process had made at start-up (~135k: modules, classes, functions, the config, the dashboard's
widgets), ~50 ms each, 37-47 ms of GC per second in all. Objects made before serving live as long as the
process, so they are frozen (moved out of the collector's reach: a full collection walks only what came
later, and cannot pause the loop for as long); and the young generation is collected after 10,000 new
objects instead of 700, so the short-lived objects of a request (its dicts, its task) are freed by reference
counting before a collection promotes them. Together: 8 ms of GC per second, 28-35 us less CPU per call with
the dashboard, a few us headless. Start-up leaves no cyclic garbage to speak of (a collection at that point
found 0-34 objects, in 13-20 ms), so nothing is collected first: freezing costs no pause.
"""

from __future__ import annotations

import asyncio
import gc

YOUNG_THRESHOLD = 10_000
"""New container objects between young collections (CPython's default is 700)."""
SETTLE_AFTER_SECONDS = 0.5
"""After serving starts, so that the dashboard's widgets, made as it mounts, are frozen too."""


def settle_soon() -> None:
    """`settle` shortly, from the running loop (the dashboard is mounted by then)."""
    asyncio.get_running_loop().call_later(SETTLE_AFTER_SECONDS, settle)


def settle() -> None:
    """Freeze what start-up made, raise the young threshold. Process-wide: called by `runner.run` (which
    owns the process), never by code that runs inside another program's process."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
