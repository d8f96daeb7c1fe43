"""Publishing, rolling back and pruning versions, on a local folder and on S3."""

from __future__ import annotations

import threading

import pytest

from dataops.config import load_settings
from dataops.delivery.bundle import short
from dataops.delivery.errors import DeliveryError, PointerConflict
from dataops.delivery.publish import list_versions, prune, publish, publish_built, rollback
from dataops.delivery.store import S3BundleStore
from dataops.errors import ConfigError


def _current(store) -> str | None:
    pointer, _ = store.read_pointer()
    return pointer.version if pointer else None


def test_publish_makes_a_bundle_current_and_again_is_a_no_op(store, bundle_a):
    steps: list[str] = []
    outcome = publish_built(store, bundle_a, retention=5, progress=steps.append, who="ana@laptop")
    version = bundle_a.info.version
    assert outcome.changed and outcome.version == version
    assert outcome.message == f"version {short(version)} (commit {bundle_a.info.commit[:7]}) is now current in {store.location}."
    assert [s.split(":")[0] for s in steps] == ["upload", "make current"]
    assert _current(store) == version
    assert store.record(version).published_by == "ana@laptop"

    again = publish_built(store, bundle_a, retention=5, who="ana@laptop")
    assert not again.changed and "already current" in again.message and "nothing to publish" in again.message
    assert len(store.read_pointer()[0].history) == 1


def test_a_newer_commit_becomes_current_and_versions_lists_both(store, bundle_a, bundle_b):
    publish_built(store, bundle_a, retention=5)
    publish_built(store, bundle_b, retention=5)
    assert _current(store) == bundle_b.info.version
    lines = list_versions(store)
    assert [(line.stored.version, line.current) for line in lines] == [
        (bundle_b.info.version, True),
        (bundle_a.info.version, False),
    ]
    assert lines[0].stored.info.subject == "Change 2"


def test_publishing_the_current_commit_again_does_not_build(store, built_first, analytics_repo, tmp_path):
    publish_built(store, built_first, retention=5)
    # A build would need dbt; there is none at this path.
    no_dbt = load_settings(dbt_bin=tmp_path / "no-dbt")
    outcome = publish(store, analytics_repo.path, analytics_repo.first, no_dbt, retention=5)
    assert not outcome.changed
    assert outcome.message == (
        f"commit {analytics_repo.first[:7]} is already current (version {short(built_first.info.version)}): "
        "nothing to publish."
    )
    # For another target the same commit compiles differently: that one is built.
    with pytest.raises(ConfigError, match="dbt is not installed at"):
        other_target = load_settings(dbt_bin=tmp_path / "no-dbt", target="postgres")
        publish(store, analytics_repo.path, analytics_repo.first, other_target, retention=5)


class _KilledBeforePointer:
    """The store of a publisher that dies between the upload and the pointer swap."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def swap_pointer(self, expected, new):
        raise KeyboardInterrupt("killed between upload and pointer")


def test_an_interrupted_publish_leaves_the_old_version_current(store, bundle_a, bundle_b):
    publish_built(store, bundle_a, retention=5)
    with pytest.raises(KeyboardInterrupt):
        publish_built(_KilledBeforePointer(store), bundle_b, retention=5)
    assert _current(store) == bundle_a.info.version
    assert [(line.stored.version, line.current) for line in list_versions(store)] == [
        (bundle_b.info.version, False),
        (bundle_a.info.version, True),
    ]
    # Publishing it again makes the uploaded bundle current, without uploading it again.
    steps: list[str] = []
    assert publish_built(store, bundle_b, retention=5, progress=steps.append).changed
    assert "is already in" in steps[0]
    assert _current(store) == bundle_b.info.version


class _Racing:
    """Holds each publisher's first pointer swap until every publisher has read the pointer,
    so all of them swap from the same, soon stale, pointer. Checks that no swap ever lets the
    pointer name a bundle that is not stored.

    moto's conditional PUT checks the ETag and then writes, without a lock between the two, so
    on S3 the swaps go to the server one at a time; AWS S3 itself makes the check and the write
    one step. In a folder they run truly at once: the store's flock is what is under test."""

    def __init__(self, inner, publishers: int):
        self.inner = inner
        self.gate = threading.Barrier(publishers)
        self.waited: set[int] = set()
        self.one_at_a_time = threading.Lock() if isinstance(inner, S3BundleStore) else None
        self.conflicts = 0
        self.dangling: list[str] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def swap_pointer(self, expected, new):
        if threading.get_ident() not in self.waited:
            self.waited.add(threading.get_ident())
            self.gate.wait(timeout=60)
        if self.one_at_a_time:
            with self.one_at_a_time:
                return self._swap(expected, new)
        return self._swap(expected, new)

    def _swap(self, expected, new):
        try:
            token = self.inner.swap_pointer(expected, new)
        except PointerConflict:
            self.conflicts += 1
            raise
        if not self.inner.has_bundle(new.version):
            self.dangling.append(new.version)
        return token


def test_concurrent_publishers_never_lose_an_update_nor_leave_a_dangling_pointer(store, bundle_a, bundle_b, make_bundle):
    bundles = [bundle_a, bundle_b] + [make_bundle(n + 10) for n in range(4)]
    racing = _Racing(store, len(bundles))
    outcomes, failures = [], []

    def publisher(built) -> None:
        try:
            outcomes.append(publish_built(racing, built, retention=100))
        except Exception as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=publisher, args=(built,)) for built in bundles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert all(outcome.changed for outcome in outcomes) and len(outcomes) == len(bundles)
    assert racing.conflicts >= len(bundles) - 1  # they did race
    pointer, _ = store.read_pointer()
    published = sorted(change.version for change in pointer.history)
    assert published == sorted(built.info.version for built in bundles)  # every publish, once
    assert pointer.version == pointer.history[-1].version and store.has_bundle(pointer.version)
    assert racing.dangling == []


def test_rollback_makes_the_previous_or_a_named_version_current(store, bundle_a, bundle_b):
    publish_built(store, bundle_a, retention=5)
    publish_built(store, bundle_b, retention=5)

    back = rollback(store, who="ops@host")
    assert back.changed and _current(store) == bundle_a.info.version
    assert back.message == (
        f"version {short(bundle_a.info.version)} (commit {bundle_a.info.commit[:7]}) is now current in {store.location}."
    )
    forward = rollback(store, bundle_b.info.version[:6])
    assert forward.changed and _current(store) == bundle_b.info.version
    assert [(c.version, c.action) for c in store.read_pointer()[0].history] == [
        (bundle_a.info.version, "publish"),
        (bundle_b.info.version, "publish"),
        (bundle_a.info.version, "rollback"),
        (bundle_b.info.version, "rollback"),
    ]
    assert not rollback(store, bundle_b.info.version).changed


def test_rollback_to_an_unknown_version_lists_the_versions(store, bundle_a, bundle_b):
    publish_built(store, bundle_a, retention=5)
    publish_built(store, bundle_b, retention=5)
    with pytest.raises(DeliveryError) as caught:
        rollback(store, "0123456789ab")
    message = str(caught.value)
    assert message == (
        f"no version '0123456789ab' in {store.location}; the versions are: "
        f"{short(bundle_b.info.version)} (commit {bundle_b.info.commit[:7]}), "
        f"{short(bundle_a.info.version)} (commit {bundle_a.info.commit[:7]})."
    )
    assert _current(store) == bundle_b.info.version


def test_rollback_with_nothing_before_the_current_version_says_so(store, bundle_a):
    with pytest.raises(DeliveryError, match="no versions are published in .*: run `dataops publish` first"):
        rollback(store)
    publish_built(store, bundle_a, retention=5)
    with pytest.raises(DeliveryError, match="is the oldest in .*there is none before it"):
        rollback(store)


def test_prune_keeps_the_retention_count_the_current_and_the_in_use_versions(store, make_bundle):
    bundles = [make_bundle(n + 10) for n in range(6)]
    v = [built.info.version for built in bundles]
    for built in bundles[:5]:
        publish_built(store, built, retention=100)

    # v0..v4 published, v4 current; keep the newest 2 and v1, which an unfinished run reads.
    assert prune(store, 2, in_use=lambda: {v[1]}) == (v[0], v[2])
    assert {b.version for b in store.list_bundles()} == {v[1], v[3], v[4]}

    # Rolled back to v1: v1 is current, v3 and v4 are newer than it; nothing may go.
    rollback(store, v[1])
    assert prune(store, 1) == ()
    assert {b.version for b in store.list_bundles()} == {v[1], v[3], v[4]}

    # A new publish prunes as it goes: v5 current; v4 the newest before it; v1 and v3 go.
    outcome = publish_built(store, bundles[5], retention=2)
    assert outcome.pruned == (v[1], v[3])
    assert {b.version for b in store.list_bundles()} == {v[4], v[5]}
    assert _current(store) == v[5]


def test_nothing_is_pruned_when_nobody_can_say_which_versions_runs_read(store, make_bundle):
    bundles = [make_bundle(n + 30) for n in range(4)]
    for built in bundles:
        publish_built(store, built, retention=100)
    asked = []

    def unknown():
        asked.append(True)
        return None

    assert prune(store, 1, in_use=unknown) == ()
    assert len(store.list_bundles()) == 4 and asked
    # Within the retention count Airflow is not even asked.
    asked.clear()
    assert prune(store, 4, in_use=unknown) == () and not asked


class _PrunedBeforeSwap:
    """A concurrent publisher's prune removes our bundle between our upload and our swap."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def swap_pointer(self, expected, new):
        self.inner.delete_bundle(new.version)
        return self.inner.swap_pointer(expected, new)


def test_a_bundle_pruned_between_upload_and_swap_is_stored_again(store, bundle_a, bundle_b):
    publish_built(store, bundle_a, retention=5)
    assert publish_built(_PrunedBeforeSwap(store), bundle_b, retention=5).changed
    assert _current(store) == bundle_b.info.version and store.has_bundle(bundle_b.info.version)
