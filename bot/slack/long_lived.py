"""Keeping what the process built to serve (modules, the dbt index, clients) out of the collector's full passes.

A full pass of Python's cyclic garbage collector walks every tracked object and stops every thread while it
runs: with the modules, the dbt index and the SDKs loaded, over 300,000 objects and 100-200 ms, long enough
for a burst of Slack events to wait that long for their acknowledgements. Objects built before serving live as
long as the process; frozen, full passes only walk what answers allocate since.
"""

from __future__ import annotations

import gc


def freeze_long_lived_objects() -> None:
    """Collect once, then exempt every object still alive from future collections (they stay reference-counted)."""
    gc.collect()
    gc.freeze()
