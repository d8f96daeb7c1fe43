"""The TICKIT sample database: its schema, a generator and warehouse loaders.

Public entry points (imported lazily, so ``dataops.tickit.schema`` stays cheap):

- ``generate(out_dir, scale=, seed=, force=, progress=)`` writes the seven files
  and a manifest; ``ensure_data(data_dir, scale=, seed=)`` generates only when
  the folder has none of them.
- ``get_loader(settings, target=None).load(data_dir)`` loads them into DuckDB,
  PostgreSQL or Redshift and returns the rows per table.
- ``dataops.tickit.schema`` describes the tables (``TABLES``, ``render_ddl``).
- ``dataops.tickit.files.parse_file`` is the validating reader.
"""

from __future__ import annotations

from dataops.lazy import lazy_exports

_EXPORTS = {
    "GenerateResult": "dataops.tickit.generator",
    "ensure_data": "dataops.tickit.generator",
    "generate": "dataops.tickit.generator",
    "Loader": "dataops.tickit.loaders",
    "get_loader": "dataops.tickit.loaders",
    "Manifest": "dataops.tickit.manifest",
    "read_manifest": "dataops.tickit.manifest",
    "SF1_ROWS": "dataops.tickit.schema",
    "TABLES": "dataops.tickit.schema",
    "TABLE_NAMES": "dataops.tickit.schema",
    "scaled_row_counts": "dataops.tickit.synth",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
