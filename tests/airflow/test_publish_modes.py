"""What a run publishes in each ``DbtDag(publish=...)`` mode, given its nodes' outcomes
(dataops.airflow.publishing; the publish itself is tested in tests/wap)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from dataops.airflow.publishing import check_mode, publish_run, publishable_now, resolve_mode
from dataops.dbt.graph import DbtGraph, DbtNode
from dataops.errors import DbtError
from dataops.wap.place import PublishError

# a -> b -> c, and d on its own
GRAPH = DbtGraph("p", "fp", {
    uid: DbtNode(uid, uid, "model", "p", (uid,), f"models/{uid}.sql", depends_on=deps)
    for uid, deps in {"a": (), "b": ("a",), "c": ("b",), "d": ()}.items()
}, {})
LOG = logging.getLogger("test")


@dataclass
class FakeRun:
    """A RunPublish that records what it was asked to publish."""

    graph: DbtGraph = GRAPH
    published: list = field(default_factory=list)
    refuse: str = ""

    def publish(self, unique_ids, cleanup=True):
        if self.refuse:
            raise PublishError(self.refuse)
        self.published.append(sorted(unique_ids))
        return _Published(f"published version 1 ({len(unique_ids)} relations)")


@dataclass(frozen=True)
class _Published:
    text: str

    def describe(self) -> str:
        return self.text


def test_per_run_publishes_everything_or_nothing():
    run = FakeRun()
    held = publish_run(run, "per_run", {"a": "success", "b": "failed", "c": "upstream_failed", "d": "success"}, LOG)
    assert held["state"] == "held" and "b, c" in held["message"] and run.published == []
    done = publish_run(run, "per_run", dict.fromkeys("abcd", "success"), LOG)
    assert done["state"] == "published" and run.published == [["a", "b", "c", "d"]]


def test_per_model_publishes_each_model_whose_upstream_passed():
    states = {"a": "success", "b": "failed", "c": "upstream_failed", "d": "success"}
    assert publishable_now(GRAPH, list(states), states) == ["a", "d"]
    run = FakeRun()
    done = publish_run(run, "per_model", states, LOG)
    assert run.published == [["a", "d"]]
    assert done["state"] == "published" and "held back: b, c" in done["message"]


def test_a_refused_publish_changes_nothing_and_says_why():
    result = publish_run(FakeRun(refuse="run r1 was not published: run r2 ..."), "per_run",
                         dict.fromkeys("abcd", "success"), LOG)
    assert result == {"state": "failed", "message": "publish failed, production is unchanged: run r1 was not "
                                                    "published: run r2 ..."}


def test_auto_gates_a_project_that_builds_under_the_profiles_schema_and_says_why_not_otherwise():
    def graph(schema):
        node = DbtNode("model.p.a", "a", "model", "p", ("a",), "models/a.sql", schema=schema, alias="a")
        return DbtGraph("p", "fp", {"model.p.a": node}, {}, "analytics")

    assert resolve_mode("auto", graph("analytics_marts"), ["model.p.a"]) == ("per_run", "")
    assert resolve_mode("per_model", graph("analytics"), ["model.p.a"]) == ("per_model", "")
    mode, why = resolve_mode("auto", graph("public"), ["model.p.a"])
    assert mode == "direct" and why.startswith('not test-gated (publish="auto"): model a (models/a.sql) builds into')
    with pytest.raises(DbtError, match="model a .* builds into schema public, not under the profile's schema"):
        resolve_mode("per_run", graph("public"), ["model.p.a"])


def test_an_unknown_mode_is_refused_by_name():
    with pytest.raises(ValueError, match="publish='nightly'.*'auto', 'per_run', 'per_model', 'direct'"):
        check_mode("nightly")
