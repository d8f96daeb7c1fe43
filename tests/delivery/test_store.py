"""The two stores behind one interface: records, archives, the compare-and-swap pointer,
and fetching a bundle back, verified (each test runs on a local folder and on S3)."""

from __future__ import annotations

import gzip
import io
import tarfile
import threading

import pytest

from dataops.delivery.bundle import INFO_FILE, bundle_files, short
from dataops.delivery.errors import DamagedBundle, DeliveryError, PointerConflict
from dataops.delivery.fetch import fetch_bundle
from dataops.delivery.store import LocalBundleStore, Pointer, PointerChange, StoredBundle


def _stored(built, at="2026-01-01T00:00:00.000000Z") -> StoredBundle:
    return StoredBundle(built.info, at, "tester@ci")


def _pointer(version: str) -> Pointer:
    return Pointer.first(PointerChange(version, "publish", "2026-01-01T00:00:00Z", "tester@ci"))


def _overwrite_archive(store, version: str, data: bytes) -> None:
    """Replaces a stored archive behind the store's back (the layout is documented in dataops.delivery.store)."""
    if isinstance(store, LocalBundleStore):
        (store.root / "bundles" / f"{version}.tar.gz").write_bytes(data)
    else:
        store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}/bundles/{version}.tar.gz", Body=data)


def test_a_bundle_is_listed_once_stored_and_not_after_deletion(store, bundle_a, bundle_b, tmp_path):
    assert store.list_bundles() == [] and not store.has_bundle(bundle_a.info.version)
    store.put_bundle(_stored(bundle_b, "2026-01-02T00:00:00.000000Z"), bundle_b.archive)
    store.put_bundle(_stored(bundle_a, "2026-01-01T00:00:00.000000Z"), bundle_a.archive)
    assert [b.version for b in store.list_bundles()] == [bundle_a.info.version, bundle_b.info.version]
    assert store.record(bundle_a.info.version) == _stored(bundle_a)
    # Stored bundles are immutable: storing one again keeps the first record.
    store.put_bundle(_stored(bundle_a, "2026-02-01T00:00:00.000000Z"), bundle_a.archive)
    assert store.record(bundle_a.info.version).published_at == "2026-01-01T00:00:00.000000Z"
    store.get_archive(bundle_a.info.version, tmp_path / "copy.tar.gz")
    assert (tmp_path / "copy.tar.gz").read_bytes() == bundle_a.archive.read_bytes()
    store.delete_bundle(bundle_a.info.version)
    assert [b.version for b in store.list_bundles()] == [bundle_b.info.version]
    with pytest.raises(DeliveryError, match=f"no bundle {short(bundle_a.info.version)} in "):
        store.get_archive(bundle_a.info.version, tmp_path / "gone.tar.gz")


def test_the_pointer_changes_only_from_the_token_that_was_read(store):
    assert store.read_pointer() == (None, None)
    token = store.swap_pointer(None, _pointer("a" * 64))
    with pytest.raises(PointerConflict):
        store.swap_pointer(None, _pointer("b" * 64))  # "no pointer yet" is stale now
    pointer, read_token = store.read_pointer()
    assert pointer == _pointer("a" * 64) and read_token == token
    newer = store.swap_pointer(token, pointer.changed_to(PointerChange("b" * 64, "publish", "t", "x")))
    with pytest.raises(PointerConflict):
        store.swap_pointer(token, _pointer("c" * 64))  # read before the last swap
    pointer, read_token = store.read_pointer()
    assert pointer.version == "b" * 64 and [c.version for c in pointer.history] == ["a" * 64, "b" * 64]
    assert read_token == newer


def test_concurrent_swaps_from_one_read_let_exactly_one_through(store):
    start = store.swap_pointer(None, _pointer("0" * 64))
    pointer, _ = store.read_pointer()
    results: dict[int, str] = {}
    gate = threading.Barrier(8)

    def swap(n: int) -> None:
        gate.wait(timeout=30)
        try:
            store.swap_pointer(start, pointer.changed_to(PointerChange(f"{n}" * 64, "publish", "t", "x")))
            results[n] = "won"
        except PointerConflict:
            results[n] = "lost"

    threads = [threading.Thread(target=swap, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [n for n, result in results.items() if result == "won"]
    assert len(results) == 8 and len(winners) == 1, results
    assert store.read_pointer()[0].version == f"{winners[0]}" * 64


def test_a_fetched_bundle_is_verified_and_whole(store, bundle_b, tmp_path):
    store.put_bundle(_stored(bundle_b), bundle_b.archive)
    dest = tmp_path / "fetched" / "current"
    info = fetch_bundle(store, bundle_b.info.version, dest)
    assert info == bundle_b.info
    assert bundle_files(dest) == bundle_files(bundle_b.root)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["current"]  # no temporary folder left
    assert fetch_bundle(store, bundle_b.info.version, dest) == info  # already there


def _repack(built, change) -> bytes:
    """The bundle's archive with ``change(name, data) -> data | None`` applied to each file."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        with tarfile.open(built.archive, "r:gz") as source:
            for member in source.getmembers():
                data = source.extractfile(member).read() if member.isfile() else None
                if data is not None:
                    data = change(member.name, data)
                    if data is None:
                        continue
                    member.size = len(data)
                tar.addfile(member, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda built: built.archive.read_bytes()[: built.archive.stat().st_size // 2], "truncated or unreadable"),
        (lambda built: b"not an archive", "truncated or unreadable"),
        (
            lambda built: _repack(built, lambda name, data: data + b"-- edited\n" if name.endswith(".sql") else data),
            "its files' digest is",
        ),
        (lambda built: _repack(built, lambda name, data: None if name == INFO_FILE else data), f"has no {INFO_FILE}"),
    ],
    ids=["truncated", "garbage", "altered", "no-info"],
)
def test_a_damaged_bundle_is_refused_naming_its_version_and_leaves_nothing(store, bundle_a, tmp_path, damage, problem):
    version = bundle_a.info.version
    store.put_bundle(_stored(bundle_a), bundle_a.archive)
    _overwrite_archive(store, version, damage(bundle_a))
    dest = tmp_path / "fetched" / "v"
    with pytest.raises(DamagedBundle) as caught:
        fetch_bundle(store, version, dest)
    message = str(caught.value)
    assert f"bundle {short(version)}" in message and problem in message and "\n" not in message
    assert list(dest.parent.iterdir()) == []


def test_an_archive_naming_another_version_is_refused(store, bundle_a, bundle_b, tmp_path):
    stored = StoredBundle(bundle_b.info, "2026-01-01T00:00:00Z", "x")
    store.put_bundle(stored, bundle_b.archive)
    _overwrite_archive(store, bundle_b.info.version, bundle_a.archive.read_bytes())
    with pytest.raises(DamagedBundle, match=f"names version {short(bundle_a.info.version)}"):
        fetch_bundle(store, bundle_b.info.version, tmp_path / "v")
