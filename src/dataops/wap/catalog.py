"""The published versions of each pipeline, kept in the warehouse (schema ``dataops_wap``).

A version is what production showed after one publish or rollback: for every
model of the pipeline, the built relation its production view reads. It is
written in the same transaction as the views it describes, so the list never
disagrees with what readers see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dataops.wap.place import Publishable, Relation, RunPlace
from dataops.wap.sql import PLACES, VERSION_RELATIONS, VERSIONS, PublishDialect, Session, literal, qualified


@dataclass(frozen=True)
class Version:
    pipeline: str
    version: int
    action: str  # "publish" or "rollback to <n>"
    run_id: str
    run_after: str
    code_version: str
    published_at: str
    relations: tuple[Publishable, ...] = ()

    @property
    def places(self) -> frozenset[str]:
        return frozenset(r.built.schema for r in self.relations)


def ensure(session: Session, dialect: PublishDialect) -> None:
    for statement in dialect.catalog_ddl():
        session.execute(statement)


def versions(session: Session, pipeline: str, limit: int | None = None) -> list[Version]:
    """The pipeline's versions, newest first, each with its relations."""
    where = f"where pipeline = {literal(pipeline)}"
    heads = session.rows(
        f"select version, action, run_id, run_after, code_version, published_at from {qualified(VERSIONS)} "
        f"{where} order by version desc" + (f" limit {int(limit)}" if limit else "")
    )
    if not heads:
        return []
    oldest = min(row[0] for row in heads)
    relations: dict[int, list[Publishable]] = {}
    for version, uid, kind, bs, bn, ps, pn in session.rows(
        f"select version, unique_id, kind, built_schema, built_name, production_schema, production_name "
        f"from {qualified(VERSION_RELATIONS)} {where} and version >= {int(oldest)} order by unique_id"
    ):
        relations.setdefault(int(version), []).append(Publishable(uid, kind, Relation(bs, bn), Relation(ps, pn)))
    return [
        Version(pipeline, int(v), action, run_id, run_after, code, at, tuple(relations.get(int(v), ())))
        for v, action, run_id, run_after, code, at in heads
    ]


def pipelines(session: Session) -> list[str]:
    return [row[0] for row in session.rows(f"select distinct pipeline from {qualified(VERSIONS)} order by 1")]


def record(session: Session, dialect: PublishDialect, version: Version) -> None:
    head = (version.pipeline, version.version, version.action, version.run_id, version.run_after,
            version.code_version, version.published_at)
    session.execute(dialect.insert_rows(VERSIONS, [head]))
    rows = [
        (version.pipeline, version.version, r.unique_id, r.kind, r.built.schema, r.built.name,
         r.production.schema, r.production.name)
        for r in version.relations
    ]
    for start in range(0, len(rows), 500):
        session.execute(dialect.insert_rows(VERSION_RELATIONS, rows[start:start + 500]))


def forget_before(pipeline: str, version: int) -> list[str]:
    """Statements that delete the pipeline's versions older than ``version``."""
    where = f"where pipeline = {literal(pipeline)} and version < {int(version)}"
    return [f"delete from {qualified(VERSION_RELATIONS)} {where}", f"delete from {qualified(VERSIONS)} {where}"]


@dataclass(frozen=True)
class Claim:
    """Which run holds a place (a slot), and when that run started."""

    schema: str
    run_id: str
    run_after: str


def claims(session: Session, pipeline: str) -> dict[str, Claim]:
    """The pipeline's places, by schema, with the run that holds each."""
    return {row[0]: Claim(*row) for row in session.rows(
        f"select schema_name, run_id, run_after from {qualified(PLACES)} where pipeline = {literal(pipeline)}"
    )}


def claim(dialect: PublishDialect, place: RunPlace) -> list[str]:
    """Statements that give ``place.schema`` to ``place``'s run (taking it from whoever held it)."""
    return [
        f"delete from {qualified(PLACES)} where schema_name = {literal(place.schema)}",
        dialect.insert_rows(PLACES, [(place.pipeline, place.schema, place.run_id, place.run_after)]),
    ]


def places_started_after(session: Session, pipeline: str, run_after: str) -> set[str]:
    """The pipeline's run places whose runs started after ``run_after``: perhaps still building."""
    return {row[0] for row in session.rows(
        f"select schema_name from {qualified(PLACES)} where pipeline = {literal(pipeline)} "
        f"and run_after > {literal(run_after)}"
    )}


def forget_places(schemas: Sequence[str]) -> str:
    return f"delete from {qualified(PLACES)} where schema_name in ({', '.join(literal(s) for s in schemas)})"


def merged(current: Sequence[Publishable], published: Sequence[Publishable]) -> tuple[Publishable, ...]:
    """The pipeline's relations after ``published`` replace their models' entries in ``current``."""
    by_model = {r.unique_id: r for r in current}
    by_model.update({r.unique_id: r for r in published})
    return tuple(by_model[uid] for uid in sorted(by_model))
