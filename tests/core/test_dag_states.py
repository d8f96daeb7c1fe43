"""What ``dataops up`` says about the DAGs it serves."""

from __future__ import annotations

from dataops.local.dag_states import DagState, ServedDags, dag_files, describe

URL = "http://127.0.0.1:8080"


def test_dag_files_are_the_files_airflow_parses(tmp_path):
    (tmp_path / "tickit.py").write_text("from dataops.airflow.factory import DbtDag\ndag = DbtDag(dag_id='x')\n")
    (tmp_path / "helpers.py").write_text("def helper():\n    return 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "other.py").write_text("from airflow.sdk import DAG\n")
    assert dag_files([tmp_path]) == ["sub/other.py", "tickit.py"]


def test_ready_dags_and_scheduled_runs_off_are_said():
    served = ServedDags([DagState("example_dag", False, None), DagState("redshift_transformations", False, "@daily")], [], [])
    lines = describe(served, scheduled_runs=False, url=URL)
    text = "\n".join(line for line, _ in lines)
    assert "scheduled runs off" in lines[0][0] and "--scheduled-runs" in lines[0][0]
    assert "example_dag" in text and "redshift_transformations  ready to trigger; schedule @daily (not used)" in text
    assert not any(attention for _, attention in lines)


def test_a_paused_dag_is_said_loudly_with_how_to_unpause_it():
    served = ServedDags([DagState("redshift_transformations", True, "@daily")], ["broken.py"], ["late.py"])
    lines = describe(served, scheduled_runs=True, url=URL)
    assert "scheduled runs on" in lines[0][0]
    paused = next(line for line in lines if "redshift_transformations" in line[0])
    assert paused[1] and "PAUSED" in paused[0]
    assert f"PATCH {URL}/api/v2/dags/redshift_transformations" in paused[0] and '"is_paused": false' in paused[0]
    assert any("broken.py" in line and attention for line, attention in lines)
    assert any("late.py" in line and attention for line, attention in lines)
