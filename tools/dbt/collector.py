"""Pausing the garbage collector while an index is built or unpickled."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The garbage collector off while millions of objects are made that are all kept: it would scan them
    again and again for cycles there are none of (parsing, indexing and unpickling a large manifest take
    half to a fifth of the time without it). What is left is collected when it is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
