"""Pausing the garbage collector while an index is built or unpickled."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The garbage collector off while millions of objects are made that are all kept: it would scan them
    again and again for cycles there are none of (parsing, indexing and unpickling a large manifest take
    half to a fifth of the time without it).

    On success what was made is frozen (gc.freeze): out of the collector's sight for good, rather than walked
    by the first collection after it is back on (0.2 s for 5,000 models), by every full collection after that
    and by the one at exit (0.6 s). An index holds no cycles, so refcounting still frees one that is replaced.
    """
    enabled = gc.isenabled()
    if gc.get_freeze_count():
        # A reload in a long-running process: garbage cycles made since the last freeze would be frozen with
        # the new index and never collected. Only what is not frozen yet is walked, so this costs little.
        gc.collect()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if enabled:
            gc.enable()
