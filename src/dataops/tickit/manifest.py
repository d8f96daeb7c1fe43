"""The manifest beside generated TICKIT files: what was generated, and that
the generation finished (it is written last, after every file is in place)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dataops.tickit.schema import TABLES

MANIFEST_NAME = "manifest.json"
# Bump when the generator's output changes for a given seed and scale.
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    scale: float
    seed: int
    rows: dict[str, int]
    # File name -> size in bytes, to notice a file changed or cut short since.
    file_sizes: dict[str, int] = field(default_factory=dict)
    generator_version: int = GENERATOR_VERSION

    def matches(self, scale: float, seed: int) -> bool:
        return self.scale == float(scale) and self.seed == seed and self.generator_version == GENERATOR_VERSION


def read_manifest(data_dir: Path) -> Manifest | None:
    """The manifest in ``data_dir``, or None if there is none or it is unreadable."""
    try:
        raw = json.loads((data_dir / MANIFEST_NAME).read_text())
        return Manifest(
            scale=float(raw["scale"]),
            seed=int(raw["seed"]),
            rows={str(k): int(v) for k, v in raw["rows"].items()},
            file_sizes={str(k): int(v) for k, v in raw.get("file_sizes", {}).items()},
            generator_version=int(raw.get("generator_version", 0)),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_manifest(data_dir: Path, manifest: Manifest) -> None:
    """Writes the manifest atomically (a reader sees the old one or the new one)."""
    partial = data_dir / f".{MANIFEST_NAME}.{os.getpid()}.partial"
    partial.write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True) + "\n")
    os.replace(partial, data_dir / MANIFEST_NAME)


def is_complete(data_dir: Path, scale: float, seed: int) -> bool:
    """True when ``data_dir`` holds a finished generation for ``scale`` and ``seed``."""
    manifest = read_manifest(data_dir)
    if manifest is None or not manifest.matches(scale, seed):
        return False
    for table in TABLES:
        path = data_dir / table.file_name
        expected = manifest.file_sizes.get(table.file_name)
        if not path.is_file() or (expected is not None and path.stat().st_size != expected):
            return False
    return True
