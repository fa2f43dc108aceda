"""What a source's last published run leaves for the next: harvest state and record count."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hub.layout import DataLayout


@dataclass
class SourceState:
    """Saved after each published run in `<data>/state/<source>.json`."""

    run_id: str = ""
    records: int = 0
    triples: int = 0
    version_file: str = ""
    harvest: dict[str, Any] = field(default_factory=dict)


def state_path(data_dir: Path, source_id: str) -> Path:
    return DataLayout(data_dir).state(source_id)


def load_state(data_dir: Path, source_id: str) -> SourceState:
    """The saved state, or an empty one before the first published run."""
    path = state_path(data_dir, source_id)
    if not path.exists():
        return SourceState()
    raw = json.loads(path.read_text(encoding="utf-8"))
    return SourceState(**{k: v for k, v in raw.items() if k in SourceState.__dataclass_fields__})


def save_state(data_dir: Path, source_id: str, state: SourceState) -> None:
    """Write the state atomically (write aside, then rename)."""
    path = state_path(data_dir, source_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
