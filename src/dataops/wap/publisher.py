"""Prepare a run's place, publish it in one transaction, roll back, clean up.

Publishing repoints each production relation (a view) at the run's built
relation and records the new version, all in one transaction: a reader sees
every model of the old version or every model of the new one. Nothing is
copied. The last ``keep`` versions stay restorable; after each publish, the
run places no kept version reads (older versions, abandoned runs) are dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from dataops.wap import catalog
from dataops.wap.catalog import Version
from dataops.wap.place import PublishError, Publishable, Relation, RunPlace, place_root, slot_schema
from dataops.wap.sql import TABLE, VIEW, PublishDialect, Session

if TYPE_CHECKING:
    from dataops.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    version: Version
    # Run places dropped afterwards (older versions, abandoned runs).
    dropped: tuple[str, ...]
    seconds: float

    def describe(self) -> str:
        v = self.version
        text = (
            f"published version {v.version} of {v.pipeline} ({len(v.relations)} relations, run {v.run_id}) "
            f"in {self.seconds:.2f}s"
        )
        if self.dropped:
            text += f"; dropped {len(self.dropped)} old run place(s): {', '.join(self.dropped)}"
        return text


class Publisher:
    """Write-audit-publish on one warehouse; ``connect`` opens a Session (default: the dialect's)."""

    def __init__(
        self,
        settings: Settings,
        keep: int | None = None,
        dialect: PublishDialect | None = None,
        connect: Callable[[], Session] | None = None,
    ):
        self.settings = settings
        self.dialect = dialect or settings.warehouse().publish_sql()
        self.keep = keep or settings.publish_keep
        self._connect = connect or (lambda: self.dialect.connect(settings))

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._connect()
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def _transaction(self, session: Session) -> Iterator[None]:
        session.execute(self.dialect.begin())
        try:
            yield
        except BaseException:
            session.execute(self.dialect.rollback())
            raise
        session.execute(self.dialect.commit())

    def _kinds(self, session: Session, relations: Sequence[Relation]) -> dict[Relation, str]:
        rows = session.rows(self.dialect.relations_sql({r.schema for r in relations}))
        return {Relation(schema, name): kind for schema, name, kind in rows}

    # -- places --------------------------------------------------------------------------------
    @property
    def slots(self) -> int:
        """Places per pipeline: the kept versions' and two more (a run building, one abandoned)."""
        return self.keep + 2

    def find(self, place: RunPlace) -> RunPlace | None:
        """``place`` with the schema its run holds, or None when it holds none (any more)."""
        with self.session() as session:
            catalog.ensure(session, self.dialect)
            held = [c for c in catalog.claims(session, place.pipeline).values() if c.run_id == place.run_id]
        return replace(place, schema=held[0].schema) if held else None

    def claim(self, place: RunPlace) -> RunPlace:
        """The place ``place``'s run builds in: the one it holds already, else a free slot (emptied
        first), else the slot of the oldest older run that no kept version reads (an abandoned run)."""
        with self.session() as session:
            catalog.ensure(session, self.dialect)
            with self._transaction(session):
                self._lock(session)
                held = catalog.claims(session, place.pipeline)
                mine = [c.schema for c in held.values() if c.run_id == place.run_id]
                if mine:
                    return replace(place, schema=mine[0])
                prefix = place.pipeline_prefix
                kept = {place_root(s, prefix) for v in catalog.versions(session, place.pipeline) for s in v.places}
                slots = [slot_schema(place.models_schema, place.pipeline, n) for n in range(self.slots)]
                free = [s for s in slots if s not in kept and s not in held]
                older = sorted((held[s].run_after, s) for s in slots
                               if s not in kept and s in held and held[s].run_after < place.run_after)
                if not free and not older:
                    raise PublishError(
                        f"run {place.run_id} of {place.pipeline} has no place to build in: all {len(slots)} are "
                        "read by kept versions or held by newer runs. Let those finish, or lower DATAOPS_PUBLISH_KEEP."
                    )
                chosen = free[0] if free else older[0][1]
                for (schema,) in session.rows(self.dialect.schemas_sql(chosen)):
                    if place_root(schema, prefix) == chosen:
                        session.execute(self.dialect.drop_schema(schema))
                claimed = replace(place, schema=chosen)
                for statement in catalog.claim(self.dialect, claimed):
                    session.execute(statement)
        return claimed

    # -- write ---------------------------------------------------------------------------------
    def prepare(self, place: RunPlace, items: Sequence[Publishable]) -> list[str]:
        """Creates the run's schemas and carries each incremental model and snapshot not yet in the
        place into it (a full copy of its published rows); returns what it carried."""
        notes = []
        with self.session() as session:
            catalog.ensure(session, self.dialect)
            for schema in sorted({i.built.schema for i in items}):
                session.execute(self.dialect.create_schema(schema))
            carried = [i for i in items if i.carried]
            if not carried:
                return notes
            current = self._current(session, place.pipeline)
            sources = {r.unique_id: r.built for r in current.relations} if current else {}
            kinds = self._kinds(session, [*(i.built for i in carried), *(i.production for i in carried),
                                          *sources.values()])
            for item in carried:
                if item.built in kinds:
                    continue  # built by an earlier try of this run: its history is already there
                source = sources.get(item.unique_id)
                if source is None or source not in kinds:
                    source = item.production if kinds.get(item.production) == TABLE else None
                if source is None:
                    notes.append(f"{item.unique_id}: no published rows yet, dbt builds it from scratch")
                    continue
                started = time.monotonic()
                with self._transaction(session):
                    for statement in self.dialect.copy_table(source, item.built):
                        session.execute(statement)
                notes.append(f"{item.unique_id}: carried {source} into {item.built} ({time.monotonic() - started:.2f}s)")
        return notes

    # -- publish -------------------------------------------------------------------------------
    def publish(self, place: RunPlace, items: Sequence[Publishable], cleanup: bool = True) -> Published:
        """Makes ``items`` production in one transaction; PublishError (nothing changed) when the run is
        older than the published one or its place lacks a relation. Then drops the run places no kept
        version reads, unless ``cleanup`` is False (the caller calls :meth:`cleanup` when it suits it)."""
        started = time.monotonic()
        with self.session() as session:
            catalog.ensure(session, self.dialect)
            with self._transaction(session):
                self._lock(session)
                holder = catalog.claims(session, place.pipeline).get(place.schema)
                if holder is None or holder.run_id != place.run_id:
                    raise PublishError(
                        f"run {place.run_id} of {place.pipeline} cannot be published: its place {place.schema} "
                        f"was given to {'run ' + holder.run_id if holder else 'no run'} after a later version was "
                        "published. Nothing was changed; trigger a new run."
                    )
                current = self._current(session, place.pipeline)
                if current is not None and current.run_id != place.run_id and current.run_after > place.run_after:
                    raise PublishError(
                        f"run {place.run_id} of {place.pipeline} was not published: run {current.run_id}, "
                        f"which started after it ({current.run_after}), is published already. Trigger a new run."
                    )
                self._repoint(session, items, f"run {place.run_id}")
                version = Version(
                    place.pipeline, (current.version if current else 0) + 1, "publish", place.run_id,
                    place.run_after, place.code_version, _now(),
                    catalog.merged(current.relations if current else (), items),
                )
                self._record(session, version)
            dropped = self._cleanup(session, place) if cleanup else ()
        return Published(version, dropped, time.monotonic() - started)

    def cleanup(self, place: RunPlace) -> tuple[str, ...]:
        """Drops the run places no kept version reads (see :meth:`_cleanup`); returns the dropped schemas."""
        with self.session() as session:
            catalog.ensure(session, self.dialect)
            return self._cleanup(session, place)

    def rollback(self, pipeline: str, to_version: int | None = None) -> Published:
        """Production back to ``to_version`` (default: the one before the current), in one transaction."""
        started = time.monotonic()
        with self.session() as session:
            catalog.ensure(session, self.dialect)
            with self._transaction(session):
                self._lock(session)
                history = catalog.versions(session, pipeline)
                if not history:
                    raise PublishError(f"{pipeline} has no published versions to roll back to.")
                current = history[0]
                if to_version is None:
                    if len(history) < 2:
                        raise PublishError(f"{pipeline} has only version {current.version}: nothing to roll back to.")
                    target = history[1]
                else:
                    target = next((v for v in history if v.version == to_version), None)
                    if target is None:
                        kept = ", ".join(str(v.version) for v in history)
                        raise PublishError(f"{pipeline} has no version {to_version}: the kept versions are {kept}.")
                    if target.version == current.version:
                        raise PublishError(f"version {to_version} of {pipeline} is the current one already.")
                self._repoint(session, target.relations, f"version {target.version}")
                version = Version(
                    pipeline, current.version + 1, f"rollback to {target.version}", target.run_id,
                    target.run_after, target.code_version, _now(), target.relations,
                )
                self._record(session, version)
        # The places of versions it made older are dropped by the next publish (see _cleanup).
        return Published(version, (), time.monotonic() - started)

    def versions(self, pipeline: str) -> list[Version]:
        with self.session() as session:
            catalog.ensure(session, self.dialect)
            return catalog.versions(session, pipeline)

    def pipelines(self) -> list[str]:
        with self.session() as session:
            catalog.ensure(session, self.dialect)
            return catalog.pipelines(session)

    # -- inside the transaction ----------------------------------------------------------------
    def _lock(self, session: Session) -> None:
        statement = self.dialect.lock_catalog()
        if statement:
            session.execute(statement)

    def _current(self, session: Session, pipeline: str) -> Version | None:
        latest = catalog.versions(session, pipeline, limit=1)
        return latest[0] if latest else None

    def _repoint(self, session: Session, items: Sequence[Publishable], what: str) -> None:
        kinds = self._kinds(session, [*(i.built for i in items), *(i.production for i in items)])
        missing = sorted(str(i.built) for i in items if i.built not in kinds)
        if missing:
            raise PublishError(
                f"{what} cannot be published: {len(missing)} built relation(s) are missing "
                f"({', '.join(missing[:5])}): its place was cleaned up after a later version was published, "
                "or dropped by hand. Nothing was changed; trigger a new run."
            )
        for schema in sorted({i.production.schema for i in items}):
            session.execute(self.dialect.create_schema(schema))
        for item in items:
            existing = kinds.get(item.production)
            if existing == VIEW and self._replaced(session, item):
                continue
            if existing:
                session.execute(self.dialect.drop_relation(item.production, existing))
            session.execute(self.dialect.create_view(item.production, item.built))

    def _replaced(self, session: Session, item: Publishable) -> bool:
        """Repoints an existing production view in place (views others made over it keep working);
        False when the warehouse does not, or the model's columns changed (then it is dropped and created)."""
        statements = self.dialect.replace_view(item.production, item.built)
        if statements is None:
            return False
        savepoint = self.dialect.savepoint("dataops_wap_view")
        if savepoint is None:
            for statement in statements:
                session.execute(statement)
            return True
        mark, release, undo = savepoint
        session.execute(mark)
        try:
            for statement in statements:
                session.execute(statement)
        except Exception as exc:  # noqa: BLE001  (the warehouse's own words; handled by dropping instead)
            log.info("cannot replace view %s in place (%s): dropping and creating it", item.production,
                     str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            session.execute(undo)
            return False
        session.execute(release)
        return True

    def _record(self, session: Session, version: Version) -> None:
        catalog.record(session, self.dialect, version)
        for statement in catalog.forget_before(version.pipeline, version.version - self.keep + 1):
            session.execute(statement)

    # -- after the transaction -----------------------------------------------------------------
    def _cleanup(self, session: Session, place: RunPlace) -> tuple[str, ...]:
        """Drops the pipeline's run places that no kept version reads, except those of ``place`` and of
        runs that started after it (they may still be building)."""
        prefix = place.pipeline_prefix
        kept = {place_root(s, prefix) for v in catalog.versions(session, place.pipeline) for s in v.places}
        kept |= catalog.places_started_after(session, place.pipeline, place.run_after) | {place.schema}
        dropped = []
        for (schema,) in session.rows(self.dialect.schemas_sql(prefix)):
            if place_root(schema, prefix) in kept:
                continue
            try:
                session.execute(self.dialect.drop_schema(schema))
                dropped.append(schema)
            except Exception as exc:  # noqa: BLE001  (the publish stands; the next one tries again)
                log.warning("could not drop the old run place %s: %s", schema, exc)
        if dropped:
            session.execute(catalog.forget_places([s for s in dropped if place_root(s, prefix) == s]))
        return tuple(dropped)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
