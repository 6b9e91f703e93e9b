"""Keeping what the process built to serve (modules, the dbt index, clients) out of the collector's full passes.

A full pass of Python's cyclic garbage collector walks every tracked object while holding the GIL, so every
thread waits: with the modules, the dbt index and the model SDK loaded, over 300,000 objects and 100-200 ms,
long enough for a burst of Slack events to wait that long for their acknowledgements. What is loaded before
serving lives as long as the process; frozen, full passes only walk what answers allocate after.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterable


def freeze_long_lived_objects(*, preload: Iterable[str] = ()) -> None:
    """Import `preload` modules, collect once, then exempt every object alive from future collections.

    Frozen objects are still freed by reference counting; only cycles among them would never be collected.
    """
    for module in preload:
        importlib.import_module(module)
    gc.collect()
    gc.freeze()
