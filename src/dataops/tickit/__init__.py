"""The TICKIT sample database: its schema, a generator and warehouse loaders.

Public entry points:

- ``generate(out_dir, scale=, seed=, force=, progress=)`` writes the seven files
  and a manifest; ``ensure_data(data_dir, ...)`` generates only when missing.
- ``get_loader(settings, target=None).load(data_dir)`` loads them into DuckDB,
  PostgreSQL or Redshift and returns the rows per table.
- ``dataops.tickit.schema`` describes the tables (``TABLES``, ``render_ddl``).
- ``dataops.tickit.files.parse_file`` is the validating reader.
"""

from dataops.tickit.generator import GenerateResult, ensure_data, generate
from dataops.tickit.loaders import Loader, get_loader
from dataops.tickit.manifest import Manifest, read_manifest
from dataops.tickit.schema import SF1_ROWS, TABLE_NAMES, TABLES
from dataops.tickit.synth import scaled_row_counts

__all__ = [
    "GenerateResult",
    "Loader",
    "Manifest",
    "SF1_ROWS",
    "TABLES",
    "TABLE_NAMES",
    "ensure_data",
    "generate",
    "get_loader",
    "read_manifest",
    "scaled_row_counts",
]
