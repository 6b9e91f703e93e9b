"""The current glossary of a file, reloaded when the file changes."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from tools.glossary.entries import Glossary
from tools.glossary.loading import DEFAULT_GLOSSARY_NAME, GlossaryError, load_glossary

logger = logging.getLogger(__name__)


class GlossarySource:
    """The current glossary of one file, reloaded when the file changes; a bad edit keeps the last good one."""

    def __init__(self, path: Path, *, required: bool) -> None:
        self._path = path
        self._required = required
        self._lock = threading.Lock()
        self._glossary: Glossary | None = None
        self._stamp: tuple[int, int] | None = None

    @property
    def path(self) -> Path:
        return self._path

    def current(self) -> Glossary:
        try:
            stat = self._path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if self._glossary is not None and stamp == self._stamp:
                return self._glossary
            try:
                self._glossary = self._load(stamp)
            except GlossaryError as exc:
                if self._glossary is None:
                    raise
                # Like a half-written manifest: an edit in progress must not stop answers.
                logger.warning("Keeping the previous glossary: %s", exc.message)
            self._stamp = stamp
            return self._glossary

    def _load(self, stamp: tuple[int, int] | None) -> Glossary:
        if stamp is not None:
            return load_glossary(self._path)
        if self._required:
            raise GlossaryError(
                f"Glossary file {self._path} does not exist. Fix BLUEPRINTDATA_GLOSSARY_FILE, or unset it to "
                f"use {DEFAULT_GLOSSARY_NAME} in the dbt project when there is one."
            )
        return Glossary(self._path)
