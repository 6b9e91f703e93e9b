"""The `blueprintdata` console script: the terminal client, its imports made with the garbage collector off."""

from __future__ import annotations

import gc


def main() -> None:
    """Import the CLI and run it.

    Its imports make some 400,000 objects (modules, classes, functions) that live as long as the process; with
    the collector on, each collection while they are made walks them again (a quarter of a second of a start).
    So it is off while they are made, and they are frozen out of its sight afterwards (what garbage the
    imports leave in cycles, a few dozen objects, is kept with them).
    """
    gc.disable()
    try:
        from bot.cli.app import main as run_cli
    finally:
        gc.freeze()
        gc.enable()
    run_cli()
