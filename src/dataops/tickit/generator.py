"""Writes a synthetic TICKIT sample: the seven text files and a manifest.

Same seed and scale give byte-identical files. The files are written into a
hidden folder inside the output folder and moved into place one by one, and
the manifest, which marks the set as complete, goes last: an interrupted run
never leaves a file cut short, nor a set that looks complete.
"""

from __future__ import annotations

import os
import shutil
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from dataops.errors import DataOpsError
from dataops.tickit.files import table_files
from dataops.tickit.manifest import MANIFEST_NAME, Manifest, is_complete, read_manifest, write_manifest
from dataops.tickit.progress import Progress, no_progress
from dataops.tickit.schema import TABLES, TABLES_BY_NAME
from dataops.tickit.synth import build_tables, scaled_row_counts

# Rows per CSV batch: the granularity of progress reports.
WRITE_BATCH_ROWS = 131_072
_PARTIAL_PREFIX = ".generating-"
UNWRITABLE_ADVICE = "choose a folder you can write to"


class GenerationError(DataOpsError):
    """The sample files could not be written."""


@dataclass(frozen=True)
class GenerateResult:
    manifest: Manifest
    out_dir: Path
    # False when a complete generation for the same scale and seed was already there.
    generated: bool

    @property
    def bytes_written(self) -> int:
        return sum(self.manifest.file_sizes.values()) if self.generated else 0


def generate(
    out_dir: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    force: bool = False,
    progress: Progress = no_progress,
    unwritable_advice: str = UNWRITABLE_ADVICE,
) -> GenerateResult:
    """Generates the TICKIT files into ``out_dir`` unless they are already there.

    ``progress`` is called with (table, rows written, rows in the table).
    ``unwritable_advice`` is what the error says to do when ``out_dir`` cannot
    be written: the caller knows where the folder came from (an option, a setting).
    """
    if not scale > 0:
        raise GenerationError(f"scale must be positive (got {scale}); try --scale 1")
    out_dir = Path(out_dir)
    if not force and is_complete(out_dir, scale, seed):
        return GenerateResult(read_manifest(out_dir), out_dir, generated=False)  # type: ignore[arg-type]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_partials(out_dir)
        partial = out_dir / f"{_PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        partial.mkdir()
    except OSError as exc:
        raise GenerationError(f"cannot write to {out_dir}: {exc.strerror}; {unwritable_advice}") from exc
    try:
        rows = _write_tables(partial, scale, seed, progress)
        manifest = Manifest(
            scale=float(scale),
            seed=seed,
            rows=rows,
            file_sizes={t.file_name: (partial / t.file_name).stat().st_size for t in TABLES},
        )
        _publish(partial, out_dir, manifest)
    except OSError as exc:
        raise GenerationError(f"writing the sample data to {out_dir} failed: {exc}") from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return GenerateResult(manifest, out_dir, generated=True)


def ensure_data(
    data_dir: Path, *, scale: float = 1.0, seed: int = 42, progress: Progress = no_progress,
    unwritable_advice: str = UNWRITABLE_ADVICE,
) -> GenerateResult | None:
    """Makes sure ``data_dir`` holds the seven TICKIT files, generating them if none is there.

    Files already there (generated, or the real sample) are used as they are;
    returns None then. A folder with only some of the files is an error rather
    than something to overwrite.
    """
    data_dir = Path(data_dir)
    present = [t for t in TABLES if (data_dir / t.file_name).is_file()]
    if len(present) == len(TABLES):
        return None
    if present:
        table_files(data_dir)  # raises, naming the missing files
    return generate(data_dir, scale=scale, seed=seed, progress=progress, unwritable_advice=unwritable_advice)


def _write_tables(folder: Path, scale: float, seed: int, progress: Progress) -> dict[str, int]:
    counts = scaled_row_counts(scale)
    for name, total in counts.items():
        progress(name, 0, total)
    # Building the next table (numpy) overlaps with writing the last (Arrow,
    # which releases the GIL): the two cores both work.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="tickit-write") as pool:
        writes: list[Future[int]] = []
        for name, table in build_tables(scale, seed):
            writes.append(pool.submit(_write_table, folder, name, table, progress))
        rows = [write.result() for write in writes]
    return dict(zip(counts, rows))


def _write_table(folder: Path, name: str, table: pa.Table, progress: Progress) -> int:
    spec = TABLES_BY_NAME[name]
    options = pacsv.WriteOptions(include_header=False, delimiter=spec.delimiter, quoting_style="none")
    written = 0
    with pacsv.CSVWriter(folder / spec.file_name, table.schema, write_options=options) as writer:
        for batch in table.to_batches(max_chunksize=WRITE_BATCH_ROWS):
            writer.write_batch(batch)
            written += batch.num_rows
            progress(name, written, table.num_rows)
    return written


def _publish(partial: Path, out_dir: Path, manifest: Manifest) -> None:
    # Without a manifest the folder is "incomplete" while files are swapped.
    (out_dir / MANIFEST_NAME).unlink(missing_ok=True)
    for table in TABLES:
        os.replace(partial / table.file_name, out_dir / table.file_name)
    write_manifest(out_dir, manifest)


def _remove_abandoned_partials(out_dir: Path) -> None:
    """Removes the hidden folders of generations whose process has died."""
    for folder in out_dir.glob(f"{_PARTIAL_PREFIX}*"):
        pid = folder.name[len(_PARTIAL_PREFIX):].split("-")[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
