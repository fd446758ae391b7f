"""Small files the application keeps beside its data, written whole or not at all."""

from __future__ import annotations

import uuid
from pathlib import Path


def replace_text(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it and a rename, so a reader
    sees the old contents or the new, never half; the temporary file never stays behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
