"""Job logs: every library logger writes to the rule's ``log:`` file as well as to stderr."""
from __future__ import annotations

import logging
import os
from pathlib import Path

FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def log_to(path: str | os.PathLike | None, level: int = logging.INFO) -> logging.Logger:
    """Send the ``pointwise`` loggers to ``path`` (appending) and stderr; idempotent per path."""
    root = logging.getLogger("pointwise")
    root.setLevel(level)
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
               for h in root.handlers):
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
        root.addHandler(stream)
    if path:
        path = os.path.abspath(path)
        if not any(getattr(h, "baseFilename", None) == path for h in root.handlers):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            fh = logging.FileHandler(path)
            fh.setFormatter(logging.Formatter(FORMAT, "%Y-%m-%d %H:%M:%S"))
            root.addHandler(fh)
    return root
