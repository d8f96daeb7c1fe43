"""Publishing a commit's bundle, listing versions, rolling back, pruning old versions.

Publishing is build, upload, then one atomic step: the pointer swap
(:meth:`~dataops.delivery.store.BundleStore.swap_pointer`). Until that step
nothing changes for readers, so a publish interrupted anywhere before it
leaves the previous version current; the bundle it uploaded is complete but
not current (publishing the commit again makes it current). Two publishers
never lose an update: a swap made against a pointer that changed meanwhile
fails, and the publisher reads the pointer again and retries, so both
changes are in the pointer's history. The pointer only ever names a bundle
that was stored before it; should a concurrent publisher prune that bundle
between its upload and its swap (possible when it is older than that
publisher's own), the publisher stores it again at once.

Pruning keeps, of the versions in publication order, the newest
``retention``, the current one, every version published after the current
one (a publish may be uploading it right now; after a rollback they are
what to roll forward to), and every version ``in_use`` returns: the
versions Airflow's unfinished (queued or running) runs read. When nobody
can say which those are, ``in_use`` returns None and nothing is pruned:
a version a run still needs is never removed on a guess. The ``dataops``
CLI asks the Airflow of the local stack or ``DATAOPS_BUNDLE_AIRFLOW_URL``.
"""

from __future__ import annotations

import getpass
import socket
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import dataops
from dataops.config import Settings
from dataops.delivery.build import build_bundle
from dataops.delivery.bundle import BuiltBundle, Progress, short
from dataops.delivery.errors import DeliveryError, PointerConflict
from dataops.delivery.git import resolve_commit
from dataops.delivery.store import BundleStore, Pointer, PointerChange, StoredBundle

# The versions unfinished runs read; None: unknown (then nothing is pruned).
InUse = Callable[[], Iterable[str] | None]
# How often a publisher re-reads the pointer after losing a race before giving up.
SWAP_ATTEMPTS = 10


def nothing_in_use() -> frozenset[str]:
    return frozenset()


def _silent(_: str) -> None:
    pass


@dataclass(frozen=True)
class Outcome:
    """What a publish or rollback did: ``changed`` is False for a no-op."""

    version: str
    changed: bool
    message: str
    pruned: tuple[str, ...] = ()


def whoami() -> str:
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def publish(
    store: BundleStore,
    repo: Path,
    ref: str,
    settings: Settings,
    *,
    retention: int,
    in_use: InUse = nothing_in_use,
    progress: Progress = _silent,
) -> Outcome:
    """Builds the bundle of ``ref`` in ``repo`` and makes it current (see the module's docstring)."""
    commit = resolve_commit(repo, ref)
    pointer, _ = store.read_pointer()
    current = store.record(pointer.version) if pointer else None
    if current is not None and _built_alike(current, commit.sha, settings):
        message = f"commit {commit.short} is already current (version {short(current.version)}): nothing to publish."
        return Outcome(current.version, False, message)
    with tempfile.TemporaryDirectory(prefix="dataops-publish-") as work:
        built = build_bundle(repo, commit, Path(work), settings, progress)
        return publish_built(store, built, retention=retention, in_use=in_use, progress=progress)


def _built_alike(stored: StoredBundle, sha: str, settings: Settings) -> bool:
    """Whether building ``sha`` now would give ``stored`` without running dbt to find out:
    the same commit, compiled for the same target by the same platform version."""
    info = stored.info
    return (info.commit, info.dbt_target, info.platform_version) == (sha, settings.target, dataops.__version__)


def publish_built(
    store: BundleStore,
    built: BuiltBundle,
    *,
    retention: int,
    in_use: InUse = nothing_in_use,
    progress: Progress = _silent,
    who: str | None = None,
) -> Outcome:
    """Uploads a built bundle and makes it current; a no-op when it already is."""
    who = who or whoami()
    version, commit = built.info.version, built.info.commit[:7]
    pointer, token = store.read_pointer()
    if pointer is not None and pointer.version == version:
        return Outcome(version, False, _unchanged(store, version, commit))
    existing = store.record(version)
    if existing is None:
        progress(f"upload: version {short(version)} to {store.location}")
        store.put_bundle(StoredBundle(built.info, _now(), who), built.archive)
    else:
        progress(f"upload: version {short(version)} is already in {store.location} (published {existing.published_at})")
    progress(f"make current: version {short(version)}")
    for _ in range(SWAP_ATTEMPTS):
        change = PointerChange(version, "publish", _now(), who)
        try:
            store.swap_pointer(token, pointer.changed_to(change) if pointer else Pointer.first(change))
        except PointerConflict:
            pointer, token = store.read_pointer()
            if pointer is not None and pointer.version == version:
                return Outcome(version, False, _unchanged(store, version, commit))
            continue
        if not store.has_bundle(version):
            # A concurrent publisher pruned it between our upload and our swap (it was older
            # than the version that publisher made current): store it again.
            store.put_bundle(StoredBundle(built.info, _now(), who), built.archive)
        pruned = prune(store, retention, in_use)
        return Outcome(version, True, f"version {short(version)} (commit {commit}) is now current in {store.location}.", pruned)
    raise DeliveryError(
        f"the current version in {store.location} kept changing ({SWAP_ATTEMPTS} attempts): "
        f"version {short(version)} is uploaded but not current; publish again."
    )


def _unchanged(store: BundleStore, version: str, commit: str) -> str:
    return f"commit {commit} gives version {short(version)}, already current in {store.location}: nothing to publish."


@dataclass(frozen=True)
class VersionLine:
    stored: StoredBundle
    current: bool


def list_versions(store: BundleStore) -> list[VersionLine]:
    """The published versions, newest publication first, the current one marked."""
    pointer, _ = store.read_pointer()
    current = pointer.version if pointer else None
    return [VersionLine(s, s.version == current) for s in reversed(store.list_bundles())]


def rollback(store: BundleStore, version: str | None = None, *, who: str | None = None) -> Outcome:
    """Makes ``version`` (any unique prefix) current; None: the version published before the current one."""
    who = who or whoami()
    pointer, token = store.read_pointer()
    bundles = store.list_bundles()
    if not bundles:
        raise DeliveryError(f"no versions are published in {store.location}: run `dataops publish` first.")
    target = _named(store, bundles, version) if version else _before_current(store, bundles, pointer)
    if pointer is not None and pointer.version == target.version:
        return Outcome(target.version, False, f"version {short(target.version)} is already current: nothing to do.")
    change = PointerChange(target.version, "rollback", _now(), who)
    try:
        new_token = store.swap_pointer(token, pointer.changed_to(change) if pointer else Pointer.first(change))
    except PointerConflict:
        raise DeliveryError(
            f"the current version in {store.location} changed while rolling back: "
            "see `dataops versions` and run the rollback again."
        ) from None
    if not store.has_bundle(target.version) and pointer is not None:
        # Pruned between our listing and our swap: put the previous version back.
        back = PointerChange(pointer.version, "rollback", _now(), who)
        store.swap_pointer(new_token, pointer.changed_to(change).changed_to(back))
        raise DeliveryError(f"version {short(target.version)} was removed while rolling back: pick another one.")
    return Outcome(
        target.version,
        True,
        f"version {short(target.version)} (commit {target.info.commit[:7]}) is now current in {store.location}.",
    )


def _named(store: BundleStore, bundles: list[StoredBundle], version: str) -> StoredBundle:
    matches = [b for b in bundles if b.version.startswith(version.lower())]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        listed = ", ".join(f"{short(b.version)} (commit {b.info.commit[:7]})" for b in reversed(bundles))
        raise DeliveryError(f"no version {version!r} in {store.location}; the versions are: {listed}.")
    listed = ", ".join(short(b.version) for b in matches)
    raise DeliveryError(f"{version!r} names several versions ({listed}): give more of its digits.")


def _before_current(store: BundleStore, bundles: list[StoredBundle], pointer: Pointer | None) -> StoredBundle:
    order = [b.version for b in bundles]
    if pointer is None or pointer.version not in order:
        raise DeliveryError(
            f"no version is current in {store.location}: name the one to make current, `dataops rollback VERSION` "
            "(see `dataops versions`)."
        )
    position = order.index(pointer.version)
    if position == 0:
        raise DeliveryError(
            f"version {short(pointer.version)} is the oldest in {store.location}: there is none before it to roll back to."
        )
    return bundles[position - 1]


def prune(store: BundleStore, retention: int, in_use: InUse = nothing_in_use) -> tuple[str, ...]:
    """Deletes the versions the module's docstring says may go; returns them, oldest first."""
    if retention < 1:
        raise DeliveryError(f"DATAOPS_BUNDLE_RETENTION must be at least 1 (got {retention}).")
    pointer, _ = store.read_pointer()
    bundles = store.list_bundles()
    order = [b.version for b in bundles]
    if pointer is None or pointer.version not in order:
        return ()  # nothing current to measure age against: remove nothing
    older = order[: order.index(pointer.version)]
    if not set(older) - set(order[-retention:]):
        return ()  # nothing beyond the retention count: no need to ask what is in use
    used = in_use()
    if used is None:
        return ()
    keep = set(order[-retention:]) | set(used)
    doomed = tuple(v for v in older if v not in keep)
    for version in doomed:
        store.delete_bundle(version)
    return doomed
