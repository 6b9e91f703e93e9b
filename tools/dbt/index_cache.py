"""The built index kept on disk, keyed by a checksum of the dbt artifacts it was built from, so a restart on
an unchanged project answers at once instead of parsing and indexing the manifest again."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import pickle
import sys
import time
from pathlib import Path

import numpy

import tools.glossary
from tools.dbt.artifacts import manifest_path
from tools.dbt.collector import collector_paused
from tools.dbt.index import DbtIndex, load_index

# The code a cached index depends on: the classes a pickle names (tools.dbt's and the glossary's) and how the
# index is built from the artifacts. A change to any of it makes a new cache key, so an index built by older
# code is never read back into newer code (a version to bump by hand was forgotten, and collided).
_INDEX_CODE = (Path(__file__).parent, Path(tools.glossary.__file__).parent)
# How old the artifacts must be before their size and modification time are trusted to stand for their content.
_SETTLED_NS = 3_000_000_000
_ARTIFACTS = ("manifest.json", "catalog.json", "semantic_manifest.json")
logger = logging.getLogger(__name__)


def index_format() -> str:
    """A checksum of the source of the index's code, and of the Python and NumPy that pickle it."""
    return _code_checksum(_INDEX_CODE)


@functools.cache  # Once per process: some 25 files, 140 kB.
def _code_checksum(folders: tuple[Path, ...]) -> str:
    digest = hashlib.blake2b(f"{sys.version_info[:2]} numpy {numpy.__version__}".encode(), digest_size=16)
    for folder in folders:
        for source in sorted(folder.glob("*.py")):
            digest.update(f"{folder.name}/{source.name}".encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()


def artifacts_checksum(project_dir: Path) -> str:
    """A checksum of the project's artifacts (manifest, catalog, semantic manifest) and the index's code."""
    digest = hashlib.blake2b(index_format().encode(), digest_size=20)
    for name in _ARTIFACTS:
        path = manifest_path(project_dir).with_name(name)
        digest.update(name.encode())
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _stamp(project_dir: Path) -> list[list[str | int]]:
    """Each artifact's name, size and modification time in nanoseconds (-1 for a missing one)."""
    found: list[list[str | int]] = []
    for name in _ARTIFACTS:
        try:
            stat = manifest_path(project_dir).with_name(name).stat()
        except OSError:
            found.append([name, -1, -1])
        else:
            found.append([name, stat.st_size, stat.st_mtime_ns])
    return found


def remembered_checksum(project_dir: Path, cache_dir: Path) -> str:
    """artifacts_checksum, read back from the cache dir while the artifacts' sizes and modification times are
    unchanged (as git trusts its index): hashing a large manifest at every start costs more than the rest of
    a cached load. dbt rewrites the whole file, so its modification time changes with its content."""
    memo = cache_dir / "checksum.json"
    stamp = _stamp(project_dir)
    try:
        remembered = json.loads(memo.read_text())
        if remembered["format"] == index_format() and remembered["stamp"] == stamp:
            return str(remembered["checksum"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # none yet, or damaged: computed again below
    checksum = artifacts_checksum(project_dir)
    if time.time_ns() - max(int(modified) for _, _, modified in stamp) < _SETTLED_NS:
        # Written moments ago: a rewrite within the file system's clock tick could keep the same time and
        # size, so this stamp cannot vouch for the content yet (git's "racy" files). Hashed again next time.
        return checksum
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps({"format": index_format(), "stamp": stamp, "checksum": checksum}))
        partial.replace(memo)
    except OSError as exc:
        logger.warning("Could not write %s: %s", memo, exc)
    return checksum


def load_index_cached(project_dir: Path, cache_dir: Path) -> DbtIndex:
    """The index of the project: from the cache when the artifacts are unchanged, else built and cached."""
    key = remembered_checksum(project_dir, cache_dir)
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
