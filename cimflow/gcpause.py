"""Pause Python's cyclic garbage collector while building millions of small acyclic objects (any layer may use it)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (re-entrant; restores the previous state).

    Reading a large CIM file creates millions of tuples and dicts that hold no reference cycles; the
    collector's generational passes over that growing heap cost more than the reading itself
    (measured: 5.0 s instead of 3.0 s for a 10k-bus feeder). Reference counting still frees
    everything; only cycle detection waits until the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
