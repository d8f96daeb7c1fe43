"""A node that failed because the warehouse connection dropped is built again, once, in the same
``dbt_build`` try (issue 18); any other failure stays final."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from dataops.airflow.operators.producer import DbtProducerOperator
from dataops.airflow.run_report import RESULTS_KEY, RunReport
from dataops.dbt.transient import all_connection_errors, is_connection_error

GRAPH = Path(__file__).parents[1] / "dbt" / "data" / "tickit_graph.json"
UPSTREAM = "model.tickit.all_gross_sales_model"
BROKEN = "model.tickit.percentile_sales_model"
FOLLOWS = "model.tickit.top_sales_99.9_percentile_model"
DROPPED = (
    "Database Error in model percentile_sales_model (models/marts/percentile_sales_model.sql)\n"
    "  server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n"
)
BAD_SQL = 'Database Error in model percentile_sales_model\n  column "eventid" does not exist'


@pytest.mark.parametrize(
    "message",
    [
        DROPPED,
        "connection already closed",
        'could not connect to server: Connection refused\n\tIs the server running on host "db"',
        'connection to server at "10.0.0.5", port 5439 failed: Connection timed out',
        "SSL SYSCALL error: EOF detected",
        "Database Error\n  [Errno 104] Connection reset by peer",
        "terminating connection due to administrator command\nserver closed the connection unexpectedly",
    ],
)
def test_a_dropped_connection_is_a_connection_error(message):
    assert is_connection_error(message)


@pytest.mark.parametrize(
    "message",
    [BAD_SQL, 'permission denied for schema analytics', "Got 3 results, configured to fail if != 0", "", None,
     'FATAL:  password authentication failed for user "dbt"'],
)
def test_other_failures_are_not(message):
    assert not is_connection_error(message)


def test_a_node_is_retried_only_when_every_failure_of_it_is_a_connection_error():
    assert all_connection_errors([DROPPED, "connection already closed"])
    assert not all_connection_errors([DROPPED, BAD_SQL])
    assert not all_connection_errors([DROPPED, ""])  # a failure dbt gave no message for
    assert not all_connection_errors([])


# The stand-in dbt: fails BROKEN with $FAKE_DBT_FAILURE (and skips FOLLOWS) on its first call, then succeeds.
FAKE_DBT = f"""#!{sys.executable}
import json, os, sys
calls = os.environ["FAKE_DBT_CALLS"]
with open(calls, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
first = sum(1 for _ in open(calls)) == 1
target = sys.argv[sys.argv.index("--target-path") + 1]
select = sys.argv[sys.argv.index("--select") + 1:]
select = select[:next((i for i, a in enumerate(select) if a.startswith("--")), len(select))]
nodes = {{"fqn:tickit.marts.all_gross_sales_model": "{UPSTREAM}", "fqn:tickit.marts.percentile_sales_model": "{BROKEN}",
         "fqn:tickit.marts.top_sales_99.9_percentile_model": "{FOLLOWS}"}}
results = []
for selector in select:
    uid = nodes[selector]
    status, message = "success", None
    if first and uid == "{BROKEN}":
        status, message = "error", os.environ["FAKE_DBT_FAILURE"]
        print(json.dumps({{"info": {{"name": "RunResultError", "level": "error", "msg": message}},
                          "data": {{"node_info": {{"unique_id": uid, "node_status": "error"}}}}}}), flush=True)
    elif first and uid == "{FOLLOWS}":
        status = "skipped"
    print(json.dumps({{"info": {{"name": "NodeFinished", "level": "info", "msg": f"{{uid}} {{status}}"}},
                      "data": {{"node_info": {{"unique_id": uid, "node_status": status}}}}}}), flush=True)
    results.append({{"unique_id": uid, "status": status, "message": message, "execution_time": 0.1, "timing": []}})
with open(os.path.join(target, "run_results.json"), "w") as f:
    json.dump({{"results": results, "elapsed_time": 0.3}}, f)
sys.exit(1 if any(r["status"] == "error" for r in results) else 0)
"""


class _FakeTI:
    dag_id, run_id, task_id, try_number = "d", "r", "dbt_build", 1

    def __init__(self):
        self.pushed: list[RunReport] = []

    def xcom_push(self, key, value):
        assert key == RESULTS_KEY
        self.pushed.append(RunReport.from_json(json.loads(json.dumps(value))))

    def get_task_states(self, **_):
        return {}


@pytest.fixture
def build(tmp_path, monkeypatch):
    dbt = tmp_path / "dbt"
    dbt.write_text(FAKE_DBT)
    dbt.chmod(0o755)
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: tickit\nprofile: tickit\n")
    calls = tmp_path / "calls.jsonl"
    for name, value in {"DATAOPS_DBT_BIN": dbt, "DATAOPS_DBT_PROJECT_DIR": project,
                        "DATAOPS_STATE_DIR": tmp_path / "state", "FAKE_DBT_CALLS": calls}.items():
        monkeypatch.setenv(name, str(value))

    def run(failure: str):
        monkeypatch.setenv("FAKE_DBT_FAILURE", failure)
        nodes = {uid.split(".")[-1]: (uid, "fqn:tickit.marts." + uid.split(".", 2)[-1]) for uid in (UPSTREAM, BROKEN, FOLLOWS)}
        producer = DbtProducerOperator(
            task_id="dbt_build", nodes=nodes, select=[sel for _, sel in nodes.values()], graph_path=str(GRAPH)
        )
        ti = _FakeTI()
        returned = producer.execute({"ti": ti, "dag_run": SimpleNamespace(start_date=None)})
        argvs = [json.loads(line) for line in calls.read_text().splitlines()]
        return returned, ti.pushed, argvs

    return run


def _states(report: RunReport) -> dict[str, str]:
    return {uid: node["state"] for uid, node in report.nodes.items()}


def test_a_dropped_connection_is_built_again_and_the_run_succeeds(build, tmp_path, capfd):
    returned, reports, argvs = build(DROPPED)
    assert len(argvs) == 2
    again = argvs[1][argvs[1].index("--select") + 1 :]
    assert again[:2] == ["fqn:tickit.marts.percentile_sales_model", "fqn:tickit.marts.top_sales_99.9_percentile_model"]
    assert "fqn:tickit.marts.all_gross_sales_model" not in again, "what succeeded is not built again"
    # The first build's failure was never published: the model tasks only ever saw the final outcome.
    assert all(_states(r).get(BROKEN) in (None, "success") and _states(r).get(FOLLOWS) in (None, "success") for r in reports)
    final = reports[-1]
    assert final.final and _states(final) == {UPSTREAM: "success", BROKEN: "success", FOLLOWS: "success"}
    assert returned["failed"] == [] and returned["reruns"] == 1 and returned["returncode"] == 0
    said = "".join(capfd.readouterr())  # the operator logs through Airflow's structlog
    assert "the warehouse connection dropped under 1 node(s) (model.tickit.percentile_sales_model)" in said
    assert "(rerun 1 of 1): server closed the connection unexpectedly" in said
    # Each build kept its own artifacts.
    runs = tmp_path / "state" / "runs" / "d" / "r"
    assert (runs / "dbt_build.1" / "run_results.json").is_file()
    assert (runs / "dbt_build.1.rerun1" / "run_results.json").is_file()


def test_any_other_failure_is_final(build):
    returned, reports, argvs = build(BAD_SQL)
    assert len(argvs) == 1
    assert _states(reports[-1]) == {UPSTREAM: "success", BROKEN: "failed", FOLLOWS: "skipped"}
    assert returned["failed"] == [BROKEN] and returned["reruns"] == 0


def test_no_retry_when_the_setting_says_so(build, monkeypatch):
    monkeypatch.setenv("DATAOPS_DBT_TRANSIENT_RETRIES", "0")
    returned, reports, argvs = build(DROPPED)
    assert len(argvs) == 1 and returned["failed"] == [BROKEN]
    # Without retries nothing is held back: the failure is published as soon as dbt reports it.
    assert _states(reports[-1])[BROKEN] == "failed"
