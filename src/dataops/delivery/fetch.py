"""Fetching a published bundle into a folder, verified, whole or not at all.

The archive is downloaded and unpacked into a temporary folder next to the
destination, checked (``bundle.json`` present and naming this version, the
files' digest equal to the version), and only then renamed to the
destination in one step. A truncated, altered or foreign archive is refused
with a message naming the version, and leaves nothing where a caller reads.
"""

from __future__ import annotations

import gzip
import os
import tarfile
import tempfile
import zlib
from pathlib import Path

from dataops.delivery.bundle import INFO_FILE, BundleInfo, content_digest, read_info, short
from dataops.delivery.errors import DamagedBundle, DeliveryError
from dataops.delivery.store import BundleStore


def fetch_bundle(store: BundleStore, version: str, dest: Path) -> BundleInfo:
    """Puts bundle ``version`` at folder ``dest`` (which must not exist, or hold that version)."""
    dest = Path(dest)
    if dest.exists():
        return _already_there(dest, version)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}.", dir=dest.parent) as work:
        archive = Path(work, "bundle.tar.gz")
        store.get_archive(version, archive)
        unpacked = Path(work, "bundle")
        _extract(archive, unpacked, version, store.location)
        info = verify_bundle(unpacked, version, store.location)
        try:
            os.rename(unpacked, dest)
        except OSError:
            if not dest.exists():
                raise
            return _already_there(dest, version)  # another fetch of it finished first
    return info


def verify_bundle(root: Path, version: str, location: str) -> BundleInfo:
    """The bundle's info, once its files are checked against ``version``; DamagedBundle otherwise."""
    try:
        info = read_info(root)
    except ValueError as exc:
        raise _damaged(version, location, str(exc)) from None
    if info.digest != version:
        raise _damaged(version, location, f"its {INFO_FILE} names version {short(info.digest)}")
    actual = content_digest(root)
    if actual != version:
        raise _damaged(version, location, f"its files' digest is {short(actual)}: they were altered")
    return info


def _extract(archive: Path, dest: Path, version: str, location: str) -> None:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _damaged(version, location, f"the archive is truncated or unreadable ({exc})") from None


def _damaged(version: str, location: str, problem: str) -> DamagedBundle:
    return DamagedBundle(
        f"bundle {short(version)} in {location} is damaged: {problem}; "
        "make another version current (`dataops rollback`) or publish a new commit."
    )


def _already_there(dest: Path, version: str) -> BundleInfo:
    try:
        info = read_info(dest)
    except ValueError as exc:
        raise DeliveryError(f"{dest} exists and is not a bundle ({exc}): fetch into another folder.") from None
    if info.digest != version:
        raise DeliveryError(f"{dest} holds bundle {short(info.digest)}, not {short(version)}: fetch into another folder.")
    return info
