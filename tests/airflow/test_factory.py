"""The DAG factory: the graph artifact as Airflow tasks, deterministically."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dataops.airflow.factory import DbtDag
from dataops.dbt.fingerprint import project_fingerprint
from dataops.dbt.graph import DbtGraph
from dataops.errors import DbtError

DATA = Path(__file__).parent.parent / "dbt" / "data"


@pytest.fixture
def project(tmp_path) -> Path:
    """A project folder whose compiled graph (TICKIT's) is up to date."""
    root = tmp_path / "proj"
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: tickit\n")
    (root / "models" / "m.sql").write_text("select 1\n")
    graph = DbtGraph.read(DATA / "tickit_graph.json")
    data = graph.to_json() | {"fingerprint": project_fingerprint(root)}
    (root / "target").mkdir()
    (root / "target" / "dataops_graph.json").write_text(json.dumps(data))
    return root


def _dag(project, **kwargs):
    return DbtDag(dag_id="d", project_dir=project, schedule=None, **kwargs)


def test_one_task_per_node_with_manifest_dependencies(project):
    dag = _dag(project)
    ids = {t.task_id for t in dag.tasks}
    assert ids == {
        "dbt_build", "dbt_done",
        "all_gross_sales_model", "percentile_sales_model", "top_sales_99_9_percentile_model",
        "top_buyers_by_quantity_model", "top_buyer_data_model",
        "source__tickit__category", "source__tickit__date", "source__tickit__event",
        "source__tickit__listing", "source__tickit__sales", "source__tickit__users", "source__tickit__venue",
    }
    top = dag.get_task("top_sales_99_9_percentile_model")
    assert top.unique_id == "model.tickit.top_sales_99.9_percentile_model"
    assert top.upstream_task_ids == {"percentile_sales_model", "source__tickit__event"}
    assert dag.get_task("source__tickit__sales").upstream_task_ids == {"dbt_build"}
    assert dag.get_task("dbt_done").upstream_task_ids >= {"top_sales_99_9_percentile_model", "top_buyer_data_model"}
    assert top.start_from_trigger and top.trigger_rule == "always"
    assert top.start_trigger_args.trigger_kwargs["upstream_task_ids"] == ["percentile_sales_model", "source__tickit__event"]
    assert len(dag.get_task("dbt_build").nodes) == 12


def test_one_dbt_build_at_a_time_unless_asked(project):
    assert _dag(project).get_task("dbt_build").max_active_tis_per_dag == 1
    assert _dag(project, concurrent_builds=3).get_task("dbt_build").max_active_tis_per_dag == 3


def test_partial_dag_from_a_selection(project):
    dag = _dag(project, select=["+top_buyer_data_model"], exclude=["source:tickit.users"])
    assert {t.task_id for t in dag.tasks} == {
        "dbt_build", "dbt_done", "source__tickit__sales", "top_buyers_by_quantity_model", "top_buyer_data_model",
    }
    assert dag.get_task("dbt_build").select == ["+top_buyer_data_model"]


def test_an_empty_selection_is_an_error(project):
    with pytest.raises(DbtError, match="matches no dbt node"):
        _dag(project, select=["tag:nothing"])


def test_serialized_dag_is_identical_across_parses(project):
    from airflow.serialization.serialized_objects import DagSerialization

    first = json.dumps(DagSerialization.to_dict(_dag(project)), sort_keys=True)
    second = json.dumps(DagSerialization.to_dict(_dag(project)), sort_keys=True)
    assert first == second


def test_a_changed_project_needs_a_new_artifact(project):
    (project / "models" / "m.sql").write_text("select 2\n")
    with pytest.raises(DbtError, match=r"out of date.*dataops dbt manifest --project-dir"):
        _dag(project)


def test_a_missing_artifact_names_the_command(project):
    shutil.rmtree(project / "target")
    with pytest.raises(DbtError, match="dataops dbt manifest"):
        _dag(project)


def test_a_removed_file_makes_the_artifact_out_of_date(project):
    (project / "models" / "extra.sql").write_text("select 3\n")
    from dataops.dbt.graph import DbtGraph as Graph

    artifact = project / "target" / "dataops_graph.json"
    graph = Graph.read(artifact)
    data = graph.to_json() | {"fingerprint": project_fingerprint(project)}
    artifact.write_text(json.dumps(data))
    _dag(project)  # current
    (project / "models" / "extra.sql").unlink()
    with pytest.raises(DbtError, match="out of date"):
        _dag(project)


def test_a_touched_but_unchanged_file_is_still_current(project):
    import os
    import time

    later = time.time() + 5
    os.utime(project / "models" / "m.sql", (later, later))
    assert _dag(project).task_dict


def test_edges_match_what_set_upstream_records(project):
    from airflow.serialization.serialized_objects import DagSerialization

    dag = _dag(project)
    for task in dag.tasks:
        for parent in task.upstream_list:
            assert task.task_id in parent.downstream_task_ids
        for child in task.downstream_list:
            assert task.task_id in child.upstream_task_ids
    restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    assert {t.task_id: sorted(t.upstream_task_ids) for t in restored.tasks} == {
        t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks
    }
    assert sorted(dag.get_task("percentile_sales_model").upstream_task_ids) == ["all_gross_sales_model"]
    assert dag.get_task("dbt_build").downstream_task_ids >= {"source__tickit__sales"}


def test_a_dag_file_finds_its_dbt_project_in_its_bundle_before_anything_configured(tmp_path, monkeypatch):
    from dataops.airflow.factory.dag import default_project_dir

    bundle = tmp_path / "bundle"
    (bundle / "dags").mkdir(parents=True)
    (bundle / "dbt").mkdir()
    (bundle / "dbt" / "dbt_project.yml").write_text("name: x\n")
    checkout = tmp_path / "checkout" / "analytics"
    (checkout / "dags").mkdir(parents=True)
    (checkout / "dbt").mkdir()
    (checkout / "dbt" / "dbt_project.yml").write_text("name: x\n")
    monkeypatch.setenv("DATAOPS_DBT_PROJECT_DIR", str(tmp_path / "configured"))

    # Not a bundle yet: the configured project wins, as it always did.
    assert default_project_dir(str(bundle / "dags" / "d.py")) == tmp_path / "configured"
    (bundle / "bundle.json").write_text("{}")
    assert default_project_dir(str(bundle / "dags" / "d.py")) == bundle / "dbt"
    monkeypatch.delenv("DATAOPS_DBT_PROJECT_DIR")
    assert default_project_dir(str(checkout / "dags" / "d.py")) == checkout / "dbt"
