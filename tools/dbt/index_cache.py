"""The built index kept on disk, keyed by a checksum of the dbt artifacts it was built from, so a restart on
an unchanged project answers at once instead of parsing and indexing the manifest again."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path

from tools.dbt.artifacts import manifest_path
from tools.dbt.collector import collector_paused
from tools.dbt.index import DbtIndex, load_index

# Bump when DbtIndex or what it holds changes shape: an old pickle must not load into new code.
_FORMAT = "dbt-index-1"
_ARTIFACTS = ("manifest.json", "catalog.json", "semantic_manifest.json")
logger = logging.getLogger(__name__)


def artifacts_checksum(project_dir: Path) -> str:
    """A checksum of the project's artifacts (manifest, catalog, semantic manifest) and the index format."""
    digest = hashlib.blake2b(_FORMAT.encode(), digest_size=20)
    for name in _ARTIFACTS:
        path = manifest_path(project_dir).with_name(name)
        digest.update(name.encode())
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def load_index_cached(project_dir: Path, cache_dir: Path) -> DbtIndex:
    """The index of the project: from the cache when the artifacts are unchanged, else built and cached."""
    key = artifacts_checksum(project_dir)
    path = cache_dir / f"index-{key}.pickle"
    if path.exists():
        try:
            with collector_paused():
                # Our own file under our own data directory, written by _store below.
                index = pickle.loads(path.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            logger.warning("Index cache %s unreadable (%s); rebuilding it.", path, exc)
        else:
            if isinstance(index, DbtIndex):
                return index
    index = load_index(project_dir)
    _store(index, path)
    return index


def _store(index: DbtIndex, path: Path) -> None:
    """Write atomically (a reader never sees half a file) and drop caches of older artifacts."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(path)
        for old in path.parent.glob("index-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("Could not write the index cache %s: %s", path, exc)
