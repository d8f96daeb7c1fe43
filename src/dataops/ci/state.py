"""Production's dbt manifest, which Slim CI compares the change with and defers to.

From ``--state`` (a ``manifest.json``, the folder holding one, or an
``http(s)://`` or ``s3://`` URL of one), else from the current published
bundle (``<bundle>/dbt/target/manifest.json``). With neither, there is no
production state: the run builds everything, and says so. A manifest that is
missing or unreadable stops the run with one line saying what to pass.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from dataops.ci.errors import CiError
from dataops.config import Settings

MANIFEST = "manifest.json"
BUNDLE_MANIFEST = Path("dbt") / "target" / MANIFEST
_WHAT_TO_PASS = (
    "pass --state with the path or URL of production's dbt manifest.json (a published bundle's "
    "dbt/target/manifest.json), or publish production with `dataops publish`"
)


@dataclass(frozen=True)
class ProductionState:
    """Where production's manifest came from; ``state_dir`` (dbt's ``--state``) is None without one."""

    state_dir: Path | None
    origin: str

    @property
    def found(self) -> bool:
        return self.state_dir is not None


def resolve_state(given: str | None, work_dir: Path, settings: Settings) -> ProductionState:
    """Production's manifest, copied into ``work_dir/state`` (``given``, else the current bundle's)."""
    state_dir = Path(work_dir) / "state"
    if given:
        _copy_given(given, state_dir / MANIFEST)
        return ProductionState(state_dir, given)
    return _from_bundle(settings, Path(work_dir), state_dir)


def _copy_given(given: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    scheme = urlparse(given).scheme
    try:
        if scheme in ("http", "https"):
            with urllib.request.urlopen(given, timeout=60) as response, dest.open("wb") as out:  # noqa: S310
                shutil.copyfileobj(response, out)
        elif scheme == "s3":
            _download_s3(given, dest)
        else:
            path = Path(given).expanduser()
            shutil.copyfile(path / MANIFEST if path.is_dir() else path, dest)
    except CiError:
        raise
    except Exception as exc:  # noqa: BLE001  (any way of not getting it is the same answer)
        raise CiError(f"the production manifest {given} cannot be read ({_reason(exc)}): {_WHAT_TO_PASS}.") from None
    check_manifest(dest, given)


def _download_s3(url: str, dest: Path) -> None:
    import boto3

    from dataops.config import build_section
    from dataops.warehouses.redshift import S3Settings

    s3 = build_section(S3Settings)
    parsed = urlparse(url)
    client = boto3.client("s3", endpoint_url=s3.endpoint_url or None, region_name=s3.region)
    client.download_file(parsed.netloc, parsed.path.lstrip("/"), str(dest))


def check_manifest(path: Path, shown: str) -> None:
    """CiError unless ``path`` is a dbt manifest."""
    try:
        data = json.loads(Path(path).read_text())
        ok = isinstance(data, dict) and "nodes" in data and "dbt_schema_version" in data.get("metadata", {})
    except (OSError, ValueError) as exc:
        raise CiError(f"the production manifest {shown} is unreadable ({_reason(exc)}): {_WHAT_TO_PASS}.") from None
    if not ok:
        raise CiError(f"the production manifest {shown} is not a dbt manifest.json: {_WHAT_TO_PASS}.")


def _from_bundle(settings: Settings, work_dir: Path, state_dir: Path) -> ProductionState:
    from dataops.delivery.errors import DeliveryError
    from dataops.delivery.fetch import fetch_bundle
    from dataops.delivery.settings import open_bundle_store

    try:
        store = open_bundle_store(settings)
        pointer, _ = store.read_pointer()
        if pointer is None:
            return ProductionState(None, f"no bundle published in {store.location}")
        bundle = work_dir / "bundle"
        info = fetch_bundle(store, pointer.version, bundle)
    except DeliveryError as exc:
        raise CiError(f"{str(exc).rstrip('.')}; or {_WHAT_TO_PASS}.") from None
    origin = f"bundle {pointer.version[:12]} (commit {info.commit[:7]}) in {store.location}"
    manifest = bundle / BUNDLE_MANIFEST
    if not manifest.is_file():
        raise CiError(f"the current {origin} has no {BUNDLE_MANIFEST.as_posix()}: {_WHAT_TO_PASS}.")
    check_manifest(manifest, f"of {origin}")
    state_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(manifest, state_dir / MANIFEST)
    return ProductionState(state_dir, origin)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
