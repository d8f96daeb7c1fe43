"""The ``ecs`` dbt executor, without AWS.

ECS answers come from botocore's Stubber (it checks each request against the
ECS API model, and lets the tests play Fargate's exit codes and stop
reasons); CloudWatch Logs and S3 are moto's server on loopback, real HTTP
APIs. The last test runs the whole path on moto alone: a stand-in for
Fargate starts the dbt image's entrypoint with the container overrides the
executor sent, and real dbt builds a project on DuckDB.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from dataops.airflow.executors.base import DbtJob, TaskTry, executor_for
from dataops.airflow.executors.ecs import AwsHooks, EcsDbtExecutor, EcsRunConfig, _LogFollower, started_by
from dataops.config import EcsSettings, load_settings
from dataops.dbt.events import LogLineReader, OutcomeTracker
from dataops.dbt.graph import DbtGraph
from dataops.dbt.profile import DbtProfile
from dataops.dbt.runner import DbtInvocation
from dataops.delivery.publish import publish_built
from dataops.delivery.store import S3BundleStore
from dataops.errors import ConfigError

sys.path.insert(0, str(Path(__file__).parents[1] / "delivery"))

from bundle_support import bundle_of_project  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "dbt" / "data"
BROKEN = "model.tickit.percentile_sales_model"
SKIPPED = "model.tickit.top_sales_99.9_percentile_model"
REGION = "us-east-1"
TASK_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TASK_ARN = f"arn:aws:ecs:{REGION}:123456789012:task/dataops/{TASK_ID}"
JOB = DbtJob(
    TaskTry("redshift_transformations", "manual__2026-11-25T10:00:00+00:00", "dbt_build", 2),
    DbtInvocation(
        select=("fqn:tickit.marts.percentile_sales_model", "fqn:tickit.marts.top_sales_99.9_percentile_model"),
        threads=4,
    ),
)
ARTIFACTS = "dbt/redshift_transformations/manual__2026-11-25T10_00_00_00_00/dbt_build.2"


@pytest.fixture
def aws(aws_endpoint, monkeypatch):
    """Dummy credentials, every AWS client pointed at the loopback server, a fresh bucket and log group."""
    import uuid

    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": aws_endpoint,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    suffix = uuid.uuid4().hex[:8]
    names = SimpleNamespace(bucket=f"artifacts-{suffix}", log_group=f"/dataops/dbt-{suffix}")
    boto3.client("s3").create_bucket(Bucket=names.bucket)
    boto3.client("logs").create_log_group(logGroupName=names.log_group)
    return names


def config(aws, **overrides) -> EcsRunConfig:
    values = dict(
        cluster="dataops",
        task_definition="dataops-dbt",
        container_name="dbt",
        subnets=("subnet-0aaa", "subnet-0bbb"),
        security_groups=("sg-0ccc",),
        log_group=aws.log_group,
        log_stream_prefix="dbt",
        artifacts_bucket=aws.bucket,
        poll_interval_s=0.01,
        log_drain_timeout_s=5,
    )
    return EcsRunConfig(**(values | overrides))


def executor_with_stubbed_ecs(aws, **overrides) -> tuple[EcsDbtExecutor, Stubber]:
    hooks = AwsHooks.create(None, REGION)
    stubber = Stubber(hooks.ecs.conn)
    stubber.activate()
    return EcsDbtExecutor(config(aws, **overrides), hooks), stubber


def parse_cache_uri(aws, job: DbtJob) -> str:
    return EcsDbtExecutor(config(aws), hooks=None).parse_cache_uri(job)


def test_runs_share_dbts_saved_parse_when_what_the_parse_depends_on_is_the_same(aws):
    """One file per DAG, command, profile flags and schema (the run's place): the next run of the
    same DAG in the same place finds it; a run whose parse would differ gets a file of its own."""
    from dataclasses import replace

    uri = parse_cache_uri(aws, JOB)
    assert uri.startswith(f"s3://{aws.bucket}/dbt-parse-cache/redshift_transformations/")
    assert uri.endswith("/partial_parse.msgpack")
    later_try = replace(JOB, task=TaskTry("redshift_transformations", "scheduled__2026-11-26", "dbt_build", 1),
                        invocation=DbtInvocation(select=("fqn:tickit.marts.other",), threads=2))
    assert parse_cache_uri(aws, later_try) == uri  # the selection is not part of dbt's parse
    others = [
        replace(JOB, models_schema="analytics__wap_6e1fdc_s01"),
        replace(JOB, profile=DbtProfile(target="prod")),
        replace(JOB, invocation=DbtInvocation(command="run")),
        replace(JOB, task=TaskTry("other_dag", "manual__1", "dbt_build", 1)),
    ]
    assert len({uri, *(parse_cache_uri(aws, job) for job in others)}) == len(others) + 1


def expected_request(aws) -> dict:
    return {
        "cluster": "dataops",
        "taskDefinition": "dataops-dbt",
        "count": 1,
        "launchType": "FARGATE",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-0aaa", "subnet-0bbb"],
                "securityGroups": ["sg-0ccc"],
                "assignPublicIp": "DISABLED",
            }
        },
        "overrides": {
            "containerOverrides": [
                {
                    "name": "dbt",
                    "command": [
                        "--log-format", "json", "--no-use-colors", "build",
                        "--select", "fqn:tickit.marts.percentile_sales_model",
                        "fqn:tickit.marts.top_sales_99.9_percentile_model",
                        "--threads", "4",
                    ],
                    "environment": [
                        {"name": "DATAOPS_DBT_ARTIFACTS_URI", "value": f"s3://{aws.bucket}/{ARTIFACTS}"},
                        {"name": "DATAOPS_DBT_PARSE_CACHE_URI", "value": parse_cache_uri(aws, JOB)},
                    ],
                }
            ]
        },
        "startedBy": started_by(JOB),
        "tags": [
            {"key": "dataops:dag_id", "value": "redshift_transformations"},
            {"key": "dataops:run_id", "value": "manual__2026-11-25T10:00:00+00:00"},
            {"key": "dataops:task", "value": "dbt_build.2"},
        ],
    }


def no_earlier_task(stubber: Stubber) -> None:
    """Before RunTask: no task of an earlier try of the same Airflow task is left."""
    for desired in ("RUNNING", "STOPPED"):
        stubber.add_response(
            "list_tasks", {"taskArns": []}, {"cluster": "dataops", "startedBy": started_by(JOB), "desiredStatus": desired}
        )


def task(status: str, **fields) -> dict:
    return {"tasks": [{"taskArn": TASK_ARN, "lastStatus": status, **fields}], "failures": []}


def put_lines(log_group: str, stream: str, lines: list[str]) -> None:
    logs = boto3.client("logs")
    try:
        logs.create_log_stream(logGroupName=log_group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    now = int(time.time() * 1000)
    if lines:
        logs.put_log_events(
            logGroupName=log_group,
            logStreamName=stream,
            logEvents=[{"timestamp": now, "message": line} for line in lines],
        )


def recorded_lines() -> list[str]:
    return (DATA / "tickit_broken_events.jsonl").read_text().splitlines()


def test_a_run_follows_dbt_live_through_cloudwatch_and_settles_from_s3(aws):
    executor, stubber = executor_with_stubbed_ecs(aws)
    graph = DbtGraph.read(DATA / "tickit_graph.json")
    lines = recorded_lines()
    # awslogs cuts lines over 16 KiB into several events: one line arrives in two.
    long_line = max(range(len(lines)), key=lambda i: len(lines[i]))
    half = len(lines[long_line]) // 2
    lines[long_line : long_line + 1] = [lines[long_line][:half], lines[long_line][half:]]
    chunks = [lines[:60], lines[60:], []]
    run_results = (DATA / "tickit_broken_run_results.json").read_bytes()
    boto3.client("s3").put_object(Bucket=aws.bucket, Key=f"{ARTIFACTS}/run_results.json", Body=run_results)

    no_earlier_task(stubber)
    stubber.add_response("run_task", task("PROVISIONING"), expected_request(aws))
    stubber.add_response("describe_tasks", task("RUNNING"), {"cluster": "dataops", "tasks": [TASK_ARN]})
    stubber.add_response("describe_tasks", task("RUNNING"), {"cluster": "dataops", "tasks": [TASK_ARN]})
    stopped = task(
        "STOPPED",
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
        containers=[{"name": "dbt", "exitCode": 1, "lastStatus": "STOPPED"}],
    )
    stubber.add_response("describe_tasks", stopped, {"cluster": "dataops", "tasks": [TASK_ARN]})

    # The container writes its log while ECS says RUNNING: one chunk per poll.
    polls = []

    def container_writes(**_):
        polls.append(len(polls))
        put_lines(aws.log_group, f"dbt/dbt/{TASK_ID}", chunks[len(polls) - 1])

    executor.hooks.ecs.conn.meta.events.register("provide-client-params.ecs.DescribeTasks", container_writes)
    tracker = OutcomeTracker(graph)
    seen_at: dict[str, int] = {}

    def on_event(event):
        for outcome in tracker.feed(event):
            seen_at[outcome.unique_id] = len(polls)

    result = executor.run(JOB, on_event)
    stubber.assert_no_pending_responses()

    assert result.returncode == 1
    assert result.run_results == json.loads(run_results)
    assert f"s3://{aws.bucket}/{ARTIFACTS}" in result.where and TASK_ARN in result.where
    # Good models were reported while the task still ran (before the third poll saw it stopped).
    assert seen_at["model.tickit.all_gross_sales_model"] < 3
    tracker.finish(result.run_results)
    assert tracker.outcomes[BROKEN].state == "failed"
    assert "nonsense_col" in "\n".join(tracker.outcomes[BROKEN].log)
    assert tracker.outcomes[SKIPPED].state == "skipped"
    assert tracker.outcomes["model.tickit.top_buyer_data_model"].state == "success"
    # The cut line was joined back: no JSON fragment is left as plain output.
    assert not any(line.startswith("{") for line in result.plain_output)


def test_ecs_refusing_to_start_the_task_is_the_runs_error(aws):
    executor, stubber = executor_with_stubbed_ecs(aws)
    no_earlier_task(stubber)
    stubber.add_response(
        "run_task",
        {"tasks": [], "failures": [{"arn": "arn:aws:ecs:us-east-1:123456789012:cluster/dataops", "reason": "RESOURCE:MEMORY"}]},
        expected_request(aws),
    )
    result = executor.run(JOB, lambda event: None)
    stubber.assert_no_pending_responses()
    assert result.returncode == -1 and result.run_results is None
    assert "ECS did not start the dbt task (dataops-dbt on dataops)" in result.failure_reason()
    assert "RESOURCE:MEMORY" in result.failure_reason()


def test_a_client_error_on_run_task_is_the_runs_error(aws):
    executor, stubber = executor_with_stubbed_ecs(aws)
    no_earlier_task(stubber)
    stubber.add_client_error(
        "run_task", "AccessDeniedException", "not authorized to perform: ecs:RunTask", expected_params=expected_request(aws)
    )
    result = executor.run(JOB, lambda event: None)
    assert result.returncode == -1
    assert "not authorized to perform: ecs:RunTask" in result.failure_reason()


def test_a_container_that_never_ran_reports_why_without_waiting_for_logs(aws, monkeypatch):
    # Counted in reads of the log, not in seconds (a loaded machine makes each AWS call slow):
    # waiting out the 60 s drain would read the stream once per poll interval, dozens of times.
    reads = []
    read = _LogFollower.read
    monkeypatch.setattr(_LogFollower, "read", lambda self: reads.append(1) or read(self))
    executor, stubber = executor_with_stubbed_ecs(aws, log_drain_timeout_s=60)
    no_earlier_task(stubber)
    stubber.add_response("run_task", task("PROVISIONING"), expected_request(aws))
    stubber.add_response(
        "describe_tasks",
        task(
            "STOPPED",
            stopCode="TaskFailedToStart",
            stoppedReason="CannotPullContainerError: pull image manifest has been retried 5 time(s)",
            containers=[{"name": "dbt", "lastStatus": "STOPPED"}],
        ),
        {"cluster": "dataops", "tasks": [TASK_ARN]},
    )
    result = executor.run(JOB, lambda event: None)
    assert len(reads) <= 2, f"read the log {len(reads)} times: waited for the log of a container that never started"
    assert result.returncode == -1
    assert "TaskFailedToStart" in result.failure_reason()
    assert "CannotPullContainerError" in result.failure_reason()


def test_stopping_the_airflow_task_stops_the_ecs_task(aws, monkeypatch):
    # Its log's last lines are waited for briefly: the stopped task never writes the entrypoint's end.
    monkeypatch.setattr("dataops.airflow.executors.ecs.CANCELLED_DRAIN_S", 0.2)
    reads = []
    read = _LogFollower.read
    monkeypatch.setattr(_LogFollower, "read", lambda self: reads.append(1) or read(self))
    executor, stubber = executor_with_stubbed_ecs(aws, log_drain_timeout_s=60)
    no_earlier_task(stubber)
    stubber.add_response("run_task", task("PROVISIONING"), expected_request(aws))
    # The Airflow task is killed while dbt runs (on_kill calls cancel), before the first poll.
    stubber.add_response(
        "stop_task",
        {"task": {"taskArn": TASK_ARN}},
        {"cluster": "dataops", "task": TASK_ARN, "reason": "The Airflow task running it was stopped"},
    )
    stubber.add_response(
        "describe_tasks",
        task("STOPPED", stopCode="UserInitiated", containers=[{"name": "dbt", "exitCode": 137}]),
        {"cluster": "dataops", "tasks": [TASK_ARN]},
    )
    executor.hooks.ecs.conn.meta.events.register(
        "provide-client-params.ecs.DescribeTasks", lambda **_: None if executor._cancelled.is_set() else executor.cancel()
    )
    result = executor.run(JOB, lambda event: None)
    stubber.assert_no_pending_responses()
    assert result.returncode == 137
    # 0.2 s at the 0.01 s poll interval: about 20 reads, where the 60 s drain makes over a thousand.
    assert len(reads) < 500, len(reads)


def test_a_failed_poll_is_retried(aws):
    executor, stubber = executor_with_stubbed_ecs(aws)
    no_earlier_task(stubber)
    stubber.add_response("run_task", task("PROVISIONING"), expected_request(aws))
    stubber.add_client_error("describe_tasks", "AccessDeniedException", "a passing denial")
    stubber.add_response(
        "describe_tasks",
        task("STOPPED", containers=[{"name": "dbt", "exitCode": 0}]),
        {"cluster": "dataops", "tasks": [TASK_ARN]},
    )
    assert executor.run(JOB, lambda event: None).returncode == 0
    stubber.assert_no_pending_responses()


def test_when_polling_keeps_failing_the_ecs_task_is_stopped_and_the_error_raised(aws):
    from botocore.exceptions import ClientError

    executor, stubber = executor_with_stubbed_ecs(aws)
    no_earlier_task(stubber)
    stubber.add_response("run_task", task("PROVISIONING"), expected_request(aws))
    for _ in range(5):
        stubber.add_client_error("describe_tasks", "AccessDeniedException", "not authorized to perform: ecs:DescribeTasks")
    stubber.add_response(
        "stop_task",
        {"task": {"taskArn": TASK_ARN}},
        {"cluster": "dataops", "task": TASK_ARN, "reason": "The Airflow task running it was stopped"},
    )
    with pytest.raises(ClientError, match="ecs:DescribeTasks"):
        executor.run(JOB, lambda event: None)
    stubber.assert_no_pending_responses()


def test_the_profile_the_dag_or_the_settings_name_reaches_the_container(aws):
    def command(job_profile: DbtProfile, settings_profile: DbtProfile) -> list[str]:
        executor = EcsDbtExecutor(config(aws, profile=settings_profile), None)
        return executor.container_command(DbtJob(JOB.task, DbtInvocation(), profile=job_profile))

    assert command(DbtProfile(), DbtProfile()) == ["--log-format", "json", "--no-use-colors", "build"]
    named = command(DbtProfile(profile="warehouse", target="prod"), DbtProfile(target="dev", profiles_dir="/opt/p"))
    assert named[4:] == ["--profiles-dir", "/opt/p", "--profile", "warehouse", "--target", "prod"]


def test_the_settings_profile_is_read_for_the_ecs_config(monkeypatch):
    for name, value in {
        "DATAOPS_ECS_CLUSTER": "c", "DATAOPS_ECS_TASK_DEFINITION": "t", "DATAOPS_ECS_SUBNETS": "s",
        "DATAOPS_ECS_LOG_GROUP": "g", "DATAOPS_ARTIFACTS_BUCKET": "b", "DATAOPS_DBT_TARGET": "prod",
    }.items():
        monkeypatch.setenv(name, value)
    assert EcsRunConfig.from_settings(load_settings()).profile == DbtProfile(target="prod")


def test_a_capacity_provider_replaces_the_launch_type(aws):
    executor = EcsDbtExecutor(config(aws, capacity_provider="FARGATE_SPOT", assign_public_ip=True), None)
    request = executor.run_task_request(JOB)
    assert "launchType" not in request
    assert request["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert request["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"


def test_a_stray_brace_line_does_not_swallow_the_events_after_it():
    events = []
    reader = LogLineReader(events.append)
    hook = SimpleNamespace(get_log_events=lambda *a, **k: iter(
        [{"message": "{not json"}, {"message": '{"info": {"msg": "a", "name": "X"}}'}, {"message": "plain"}]
    ))
    follower = _LogFollower(hook, "g", "s", reader)
    follower.read()
    assert [e["info"]["msg"] for e in events] == ["a"]
    assert list(reader.plain_output) == ["{not json", "plain"]


def test_the_log_is_drained_up_to_the_entrypoints_last_line_and_no_longer():
    sys.path.insert(0, str(REPO / "infra" / "images" / "dbt"))
    try:
        import entrypoint
    finally:
        sys.path.pop(0)
    from dataops.airflow.executors.ecs import ENTRYPOINT_DONE

    assert entrypoint.DONE == ENTRYPOINT_DONE
    pages = [[{"message": '{"info": {"msg": "Done. PASS=1", "name": "StatsLine"}}'}], [],
             [{"message": f"{ENTRYPOINT_DONE} (dbt exit code 0)"}]]
    calls = []
    hook = SimpleNamespace(get_log_events=lambda *a, **k: calls.append(1) or iter(pages.pop(0) if pages else []))
    follower = _LogFollower(hook, "g", "s", LogLineReader())
    follower.drain(timeout_s=30, interval_s=0.01)
    # Three reads, the last one bringing the entrypoint's line; waiting out the 30 s would make thousands.
    assert follower.done and not pages and len(calls) == 3


def test_missing_settings_name_the_variables(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("DATAOPS_ECS_") or name == "DATAOPS_ARTIFACTS_BUCKET":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env
    settings = load_settings(dbt_executor="ecs")
    with pytest.raises(ConfigError) as error:
        executor_for(settings)
    message = str(error.value)
    for name in ("DATAOPS_ECS_CLUSTER", "DATAOPS_ECS_TASK_DEFINITION", "DATAOPS_ECS_SUBNETS", "DATAOPS_ECS_LOG_GROUP",
                 "DATAOPS_ARTIFACTS_BUCKET"):
        assert name in message
    assert "DATAOPS_DBT_EXECUTOR=local" in message


def test_the_settings_read_every_variable_the_cdk_app_sets():
    contract = (REPO / "infra" / "dataops_infra" / "contract.py").read_text()
    names = set(re.findall(r'"(DATAOPS_ECS_[A-Z_]+)"', contract))
    assert len(names) >= 7
    fields = {f"DATAOPS_ECS_{name.upper()}" for name in EcsSettings.model_fields}
    assert names <= fields, names - fields
    assert '"DATAOPS_ARTIFACTS_BUCKET"' in contract


# -- the whole path on moto: a stand-in for Fargate runs the image's entrypoint ---------------


class FakeFargate:
    """Runs each task moto's ECS starts the way Fargate would run the dbt image.

    The container's command and environment are the overrides of the
    RunTask request; its output goes to the awslogs stream; its exit code
    is the container's; then the task stops.
    """

    def __init__(self, *, cluster: str, log_group: str, project_dir: Path, env: dict[str, str]):
        self.cluster, self.log_group, self.project_dir, self.env = cluster, log_group, project_dir, env
        self.ecs = boto3.client("ecs")
        self.started: list[dict] = []
        # Each task's output, in the order they ran.
        self.output: list[list[str]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        from moto.moto_api import state_manager

        # Tasks stay RUNNING until this stand-in stops them.
        state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})
        self.thread.start()
        return self

    def __exit__(self, *exc):
        from moto.moto_api import state_manager

        self.stopping.set()
        self.thread.join(timeout=120)
        state_manager.unset_transition(model_name="ecs::task")

    def _loop(self) -> None:
        done: set[str] = set()
        while not self.stopping.wait(0.1):
            for arn in self.ecs.list_tasks(cluster=self.cluster, desiredStatus="RUNNING")["taskArns"]:
                if arn not in done:
                    done.add(arn)
                    self._run(self.ecs.describe_tasks(cluster=self.cluster, tasks=[arn])["tasks"][0])

    def _run(self, task: dict) -> None:
        self.started.append(task)
        override = task["overrides"]["containerOverrides"][0]
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        stream = f"dbt/{override['name']}/{task_id}"
        env = os.environ | self.env | {e["name"]: e["value"] for e in override.get("environment", [])}
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "infra" / "images" / "dbt" / "entrypoint.py"), *override["command"]],
            cwd=self.project_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        batch: list[str] = []
        self.output.append(output := [])
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            batch.append(line.rstrip("\n"))
            if len(batch) >= 20:
                put_lines(self.log_group, stream, batch)
                batch = []
        put_lines(self.log_group, stream, batch)
        code = proc.wait()
        self._set_exit_code(task["taskArn"], code)
        self.ecs.stop_task(cluster=self.cluster, task=task["taskArn"], reason="Essential container in task exited")

    def _set_exit_code(self, arn: str, code: int) -> None:
        # moto's containers always exit 0; the stand-in sets what the process returned.
        from moto.ecs.models import ecs_backends

        backend = ecs_backends["123456789012"][REGION]
        backend.tasks[self.cluster][arn].containers[0].exitCode = code


@pytest.mark.slow
def test_a_dag_run_on_ecs_end_to_end_with_real_dbt(aws, tmp_path, monkeypatch):
    """The producer task with DATAOPS_DBT_EXECUTOR=ecs, a broken model, a named target, and real dbt
    behind moto's ECS."""
    from dataops import paths
    from dataops.airflow.operators.producer import DbtProducerOperator
    from dataops.airflow.run_report import RunReport
    from dataops.dbt.manifest import compile_project
    from dataops.dbt.project import DbtProject
    from dataops.dbt.synthetic import generate

    project = generate(tmp_path / "project", 8)
    broken = project.layers[1][0]
    broken_path = next((tmp_path / "project" / "models").rglob(f"{broken}.sql"))
    broken_path.write_text(broken_path.read_text().replace("select", "select nonsense_col,", 1))
    dbt_env = {
        "DATAOPS_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PATH": f"{paths.repo_root() / '.venv-dbt' / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    for name, value in dbt_env.items():
        monkeypatch.setenv(name, value)
    dbt_project = DbtProject(tmp_path / "project", paths.repo_root() / ".venv-dbt" / "bin" / "dbt",
                             DbtProfile(tmp_path / "project"), env={"DATAOPS_DUCKDB_PATH": dbt_env["DATAOPS_DUCKDB_PATH"]})
    compiled = compile_project(dbt_project, tmp_path / "compiled")
    # The run's code is a published bundle in S3; the image (the entrypoint) carries none.
    built = bundle_of_project(tmp_path / "project", tmp_path / "compiled", tmp_path / "built")
    store = S3BundleStore(aws.bucket, "bundles", boto3.client("s3"))
    publish_built(store, built, retention=5)
    version = built.info.version

    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="dbt", Description="dbt tasks", VpcId=vpc)["GroupId"]
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="dataops")
    ecs.register_task_definition(
        family="dataops-dbt",
        # Fargate's awsvpc mode makes moto 5.2 attach a network interface it cannot describe; the
        # request still carries the awsvpc configuration, checked by the Stubber tests above.
        networkMode="bridge",
        cpu="1024",
        memory="2048",
        containerDefinitions=[{"name": "dbt", "image": "dataops-dbt:latest", "essential": True, "cpu": 1024, "memory": 2048}],
    )
    for name, value in {
        "DATAOPS_DBT_EXECUTOR": "ecs",
        "DATAOPS_ECS_CLUSTER": "dataops",
        "DATAOPS_ECS_TASK_DEFINITION": "dataops-dbt",
        "DATAOPS_ECS_SUBNETS": subnet,
        "DATAOPS_ECS_SECURITY_GROUPS": group,
        "DATAOPS_ECS_LOG_GROUP": aws.log_group,
        "DATAOPS_ECS_POLL_INTERVAL_S": "0.2",
        "DATAOPS_ARTIFACTS_BUCKET": aws.bucket,
        "DATAOPS_STATE_DIR": str(tmp_path / "state"),
    }.items():
        monkeypatch.setenv(name, value)

    task_nodes = [uid for uid, node in compiled.graph.nodes.items() if node.resource_type != "source"]
    producer = DbtProducerOperator(
        task_id="dbt_build", nodes={uid: (uid, compiled.graph.nodes[uid].selector) for uid in task_nodes},
        graph_path=str(compiled.graph_path), profile=DbtProfile(target="duckdb"),
    )
    ti = SimpleNamespace(dag_id="synthetic", run_id="manual__1", task_id="dbt_build", try_number=1, pushed=[],
                         bundle_instance=SimpleNamespace(version=version, store_location=store.location))
    ti.xcom_push = lambda key, value: ti.pushed.append(value)
    ti.get_task_states = lambda **_: {}
    # The next run of the DAG, as a container starting with nothing: dbt's parse comes from S3.
    next_ti = SimpleNamespace(**{**vars(ti), "run_id": "manual__2", "pushed": []})
    next_ti.xcom_push = lambda key, value: next_ti.pushed.append(value)
    with FakeFargate(cluster="dataops", log_group=aws.log_group, project_dir=tmp_path, env=dbt_env) as fargate:
        returned = producer.execute({"ti": ti, "dag_run": SimpleNamespace(start_date=None)})
        for fetched in Path(tempfile.gettempdir(), "dataops-bundles").glob(f"{version}*"):
            shutil.rmtree(fetched)
        again = producer.execute({"ti": next_ti, "dag_run": SimpleNamespace(start_date=None)})

    assert len(fargate.started) == 2
    sent = fargate.started[0]["overrides"]["containerOverrides"][0]
    assert sent["command"][:6] == ["--log-format", "json", "--no-use-colors", "build", "--target", "duckdb"]
    sent_env = {e["name"]: e["value"] for e in sent["environment"]}
    assert sent_env["DATAOPS_BUNDLE_VERSION"] == version and sent_env["DATAOPS_BUNDLE_STORE"] == store.location
    # The container fetched exactly that version and built it (the broken model is the bundle's).
    assert json.loads((Path(tempfile.gettempdir(), "dataops-bundles", version, "bundle.json")).read_text())["digest"] == version
    report = RunReport.from_json(ti.pushed[-1])
    assert report.final and report.error is None
    broken_uid = f"model.synthetic.{broken}"
    children = compiled.graph.children()
    downstream, todo = set(), list(children.get(broken_uid, ()))
    while todo:
        uid = todo.pop()
        if uid not in downstream:
            downstream.add(uid)
            todo += children.get(uid, ())
    assert downstream, "the broken model should have something downstream"
    states = {uid: report.nodes[uid]["state"] for uid in task_nodes}
    assert states[broken_uid] == "failed"
    assert "nonsense_col" in "\n".join(report.nodes[broken_uid]["log"])
    assert {states[uid] for uid in downstream if uid.startswith("model.")} == {"skipped"}
    others = [uid for uid in task_nodes if uid != broken_uid and uid not in downstream]
    assert others and {states[uid] for uid in others} == {"success"}
    assert returned["failed"] == [broken_uid]
    # The run's artifacts are where the entrypoint put them, run_results included.
    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=aws.bucket)["Contents"]}
    assert any(k.endswith("dbt_build.1/run_results.json") for k in keys)
    # The first run parsed the whole project and left dbt's parse in S3; the second, a container
    # that fetched the bundle afresh, started from it, and built the same.
    parse_key = sent_env["DATAOPS_DBT_PARSE_CACHE_URI"].split(f"s3://{aws.bucket}/", 1)[1]
    assert parse_key in keys and parse_key.startswith("dbt-parse-cache/synthetic/")
    first, second = ("\n".join(lines) for lines in fargate.output)
    assert "Unable to do partial parsing" in first, first[-3000:]
    assert "dbt's saved parse from" in second and "Unable to do partial parsing" not in second, second[-3000:]
    assert again["failed"] == [broken_uid]
    assert RunReport.from_json(next_ti.pushed[-1]).nodes[broken_uid]["state"] == "failed"


EARLIER_ARN = f"arn:aws:ecs:{REGION}:123456789012:task/dataops/1111aaaa2222bbbb3333cccc4444dddd"
OLD_ARN = f"arn:aws:ecs:{REGION}:123456789012:task/dataops/5555eeee6666ffff77778888aaaa9999"


def earlier_try_still_running(stubber: Stubber) -> None:
    """Try 1's ECS task runs on (its worker was killed); an older one stopped long ago."""
    listed = {"RUNNING": [EARLIER_ARN], "STOPPED": [OLD_ARN]}
    for desired, arns in listed.items():
        stubber.add_response(
            "list_tasks", {"taskArns": arns}, {"cluster": "dataops", "startedBy": started_by(JOB), "desiredStatus": desired}
        )
    earlier = {"taskArn": EARLIER_ARN, "lastStatus": "RUNNING", "desiredStatus": "RUNNING",
               "tags": [{"key": "dataops:task", "value": "dbt_build.1"}]}
    old = {"taskArn": OLD_ARN, "lastStatus": "STOPPED", "desiredStatus": "STOPPED"}
    stubber.add_response(
        "describe_tasks", {"tasks": [earlier, old], "failures": []},
        {"cluster": "dataops", "tasks": [EARLIER_ARN, OLD_ARN], "include": ["TAGS"]},
    )
    stubber.add_response(
        "stop_task", {"task": {"taskArn": EARLIER_ARN}},
        {"cluster": "dataops", "task": EARLIER_ARN, "reason": "A later try (try 2) of the same Airflow task starts"},
    )


def test_a_retry_stops_the_earlier_trys_ecs_task_and_waits_for_it_before_run_task(aws, caplog):
    executor, stubber = executor_with_stubbed_ecs(aws)
    earlier_try_still_running(stubber)
    for status in ("DEACTIVATING", "STOPPED"):  # Fargate's stopTimeout: the container takes a while
        stubber.add_response(
            "describe_tasks", {"tasks": [{"taskArn": EARLIER_ARN, "lastStatus": status}], "failures": []},
            {"cluster": "dataops", "tasks": [EARLIER_ARN]},
        )
    stubber.add_response("run_task", task("PROVISIONING"), expected_request(aws))
    stubber.add_response(
        "describe_tasks", task("STOPPED", containers=[{"name": "dbt", "exitCode": 0}]), {"cluster": "dataops", "tasks": [TASK_ARN]}
    )
    with caplog.at_level("WARNING", logger="dataops.airflow.executors.ecs"):
        assert executor.run(JOB, lambda event: None).returncode == 0
    stubber.assert_no_pending_responses()  # in this order: stopped, STOPPED, and only then RunTask
    assert f"the dbt ECS task {EARLIER_ARN} of an earlier try (dbt_build.1, RUNNING) is still running" in caplog.text
    assert "the earlier try's dbt ECS task stopped after" in caplog.text


def test_a_retry_whose_earlier_ecs_task_does_not_stop_starts_no_second_build(aws, monkeypatch):
    monkeypatch.setattr("dataops.airflow.executors.ecs.EARLIER_TASK_STOP_TIMEOUT_S", 0.0)
    executor, stubber = executor_with_stubbed_ecs(aws)
    earlier_try_still_running(stubber)
    result = executor.run(JOB, lambda event: None)
    stubber.assert_no_pending_responses()  # no RunTask
    assert result.returncode == -1 and "not starting a second build beside them" in result.failure_reason()
