"""dbt as one ECS Fargate task per run, followed through CloudWatch and S3.

The run starts the dbt image's task definition (infra/images/dbt) with the
command and an artifacts location as container overrides, through the amazon
provider's hooks (``EcsHook``, ``AwsLogsHook``, ``S3Hook``). While the task
runs, dbt's JSON log lines are read from its awslogs stream
(``<prefix>/<container>/<task id>``) and fed to the same event handling as a
local run, so each model task follows its model live. When the task stops,
``run_results.json`` is read from where the image's entrypoint uploaded it
(``s3://<artifacts bucket>/dbt/<dag>/<run>/<task>.<try>/``).

The provider's ``EcsRunTaskOperator`` is not used as such: its log fetcher
copies CloudWatch lines into the task's log as text, while the model tasks
need each of dbt's events parsed as it comes; its hooks do the AWS calls.

A retry never runs beside its earlier try: before RunTask, the ECS tasks of
the same Airflow task (same ``startedBy``) that have not stopped are stopped,
and the retry waits until ECS says they are STOPPED. They are not reattached
to: the retry builds what is still to build when it starts (the producer's
selection), which the earlier task's command may not be, and the earlier
try's events already went to a report the model tasks no longer read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field

from dataops.airflow.executors.base import DbtExecutor, DbtJob, EventHandler, JobResult, safe_name
from dataops.dbt.events import LogLineReader, parse_event_line
from dataops.dbt.profile import DbtProfile
from dataops.dbt.runner import selection_args
from dataops.errors import ConfigError

log = logging.getLogger(__name__)

ARTIFACTS_PREFIX = "dbt"
ARTIFACTS_URI_VARIABLE = "DATAOPS_DBT_ARTIFACTS_URI"
# The bundle version the dbt image's entrypoint fetches and builds, and its store.
BUNDLE_VERSION_VARIABLE = "DATAOPS_BUNDLE_VERSION"
BUNDLE_STORE_VARIABLE = "DATAOPS_BUNDLE_STORE"
# dbt's partial-parse file, kept in S3 between runs (a Fargate task starts with none; see
# parse_cache_uri). The dbt task role may read and write this prefix only.
PARSE_CACHE_PREFIX = "dbt-parse-cache"
PARSE_CACHE_URI_VARIABLE = "DATAOPS_DBT_PARSE_CACHE_URI"
# awslogs cuts lines longer than 16 KiB into several events.
_MAX_LINE_PARTS = 64
# The dbt image's entrypoint's last line (infra/images/dbt/entrypoint.py prints it after dbt and the
# artifacts' upload): nothing more will come. dbt's own last JSON event on stdout is not a reliable
# end (its CommandCompleted event is debug-level and never printed).
ENTRYPOINT_DONE = "dbt-entrypoint: done"
# Consecutive failed polls (throttling, a network blip) before the run gives up.
_MAX_POLL_ERRORS = 5
# After the Airflow task was stopped, the log's last lines are waited for this long at most:
# Airflow gives a killed task little time before it kills its process.
CANCELLED_DRAIN_S = 5.0
# How long a retry waits for an earlier try's ECS task to stop (Fargate's stopTimeout is at most 120 s).
EARLIER_TASK_STOP_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class EcsRunConfig:
    """Everything the executor needs to know about the cluster, from EcsSettings."""

    cluster: str
    task_definition: str
    container_name: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    log_group: str
    log_stream_prefix: str
    artifacts_bucket: str
    assign_public_ip: bool = False
    capacity_provider: str = "FARGATE"
    poll_interval_s: float = 2.0
    log_drain_timeout_s: float = 30.0
    # The profile the settings name (DATAOPS_DBT_PROFILE...), for jobs that name none.
    profile: DbtProfile = field(default_factory=DbtProfile)

    @classmethod
    def from_settings(cls, settings) -> EcsRunConfig:
        ecs = settings.ecs
        missing = ecs.missing() + ([] if settings.artifacts_bucket else ["DATAOPS_ARTIFACTS_BUCKET"])
        if missing:
            raise ConfigError(
                f"DATAOPS_DBT_EXECUTOR=ecs needs {', '.join(missing)}: set them (the CDK app sets them on every "
                "Airflow container; `cdk deploy` prints them as outputs), or use DATAOPS_DBT_EXECUTOR=local."
            )
        return cls(
            cluster=ecs.cluster,
            task_definition=ecs.task_definition,
            container_name=ecs.container_name,
            subnets=tuple(ecs.subnet_ids),
            security_groups=tuple(ecs.security_group_ids),
            log_group=ecs.log_group,
            log_stream_prefix=ecs.log_stream_prefix.strip("/"),
            artifacts_bucket=settings.artifacts_bucket,
            assign_public_ip=ecs.assign_public_ip,
            capacity_provider=ecs.capacity_provider,
            poll_interval_s=ecs.poll_interval_s,
            log_drain_timeout_s=ecs.log_drain_timeout_s,
            profile=DbtProfile.from_settings(settings),
        )

    def log_stream(self, task_id: str) -> str:
        return f"{self.log_stream_prefix}/{self.container_name}/{task_id}"


@dataclass(frozen=True)
class AwsHooks:
    """The amazon provider's hooks the executor talks through."""

    ecs: object  # EcsHook
    logs: object  # AwsLogsHook
    s3: object  # S3Hook

    @classmethod
    def create(cls, aws_conn_id: str | None, region: str | None) -> AwsHooks:
        from airflow.providers.amazon.aws.hooks.ecs import EcsHook
        from airflow.providers.amazon.aws.hooks.logs import AwsLogsHook
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        kwargs = {"aws_conn_id": aws_conn_id, "region_name": region}
        return cls(EcsHook(**kwargs), AwsLogsHook(**kwargs), S3Hook(**kwargs))


class EcsDbtExecutor(DbtExecutor):
    def __init__(self, config: EcsRunConfig, hooks: AwsHooks):
        self.config = config
        self.hooks = hooks
        self._task_arn: str | None = None
        self._cancelled = threading.Event()

    @classmethod
    def from_settings(cls, settings) -> EcsDbtExecutor:
        config = EcsRunConfig.from_settings(settings)
        return cls(config, AwsHooks.create(settings.ecs.aws_conn_id or None, settings.ecs.region))

    # -- the request -----------------------------------------------------

    def artifacts_uri(self, job: DbtJob) -> str:
        return f"s3://{self.config.artifacts_bucket}/{ARTIFACTS_PREFIX}/{'/'.join(job.task.path_parts())}"

    def parse_cache_uri(self, job: DbtJob) -> str:
        """Where the dbt task finds, and leaves, dbt's partial-parse file for this DAG.

        Without it every run would parse the whole project again (at 1,000
        models, 2.5 times the CPU of a partial parse: bench/bench_ecs_parse.py).
        One file per DAG, dbt command and what dbt's parse depends on besides
        the files (profile and target flags, the schema: the run's place,
        which cycles through a few slots). dbt checks the file itself (its version, the
        profile, vars, each file's checksum) and parses again whatever
        changed, so a stale or foreign file costs a full parse, never a wrong
        build.
        """
        profile = job.profile.over(self.config.profile)
        identity = repr((job.invocation.command, profile.args(), job.models_schema or ""))
        key = hashlib.blake2b(identity.encode(), digest_size=8).hexdigest()
        dag = safe_name(job.task.dag_id)
        return f"s3://{self.config.artifacts_bucket}/{PARSE_CACHE_PREFIX}/{dag}/{key}/partial_parse.msgpack"

    def container_command(self, job: DbtJob) -> list[str]:
        """The arguments of the image's entrypoint, which runs ``dbt`` with them.

        No --project-dir: the entrypoint builds the project of the run's
        bundle version (:meth:`container_environment`). The profile flags
        are those the DAG or the settings name; without them dbt uses the
        project's own profiles.yml, else the image's profiles folder, and the
        profile's default target. A profiles folder named here is a path in
        the container.
        """
        inv = job.invocation
        profile = job.profile.over(self.config.profile)
        return ["--log-format", "json", "--no-use-colors", inv.command, *profile.args(), *selection_args(inv)]

    def container_environment(self, job: DbtJob) -> list[dict[str, str]]:
        """Where the artifacts and dbt's parse go, the run's place and, for a DAG from a published bundle,
        the run's version."""
        env = {ARTIFACTS_URI_VARIABLE: self.artifacts_uri(job), PARSE_CACHE_URI_VARIABLE: self.parse_cache_uri(job)}
        if job.models_schema:
            env["DATAOPS_MODELS_SCHEMA"] = job.models_schema  # the run's place (dataops.wap)
        if job.bundle:
            env[BUNDLE_VERSION_VARIABLE] = job.bundle.version
            env[BUNDLE_STORE_VARIABLE] = job.bundle.store
        return [{"name": name, "value": value} for name, value in env.items()]

    def run_task_request(self, job: DbtJob) -> dict:
        """The ``ecs:RunTask`` parameters of one dbt run."""
        c = self.config
        network = {"subnets": list(c.subnets), "assignPublicIp": "ENABLED" if c.assign_public_ip else "DISABLED"}
        if c.security_groups:
            network["securityGroups"] = list(c.security_groups)
        request = {
            "cluster": c.cluster,
            "taskDefinition": c.task_definition,
            "count": 1,
            "networkConfiguration": {"awsvpcConfiguration": network},
            "overrides": {
                "containerOverrides": [
                    {
                        "name": c.container_name,
                        "command": self.container_command(job),
                        "environment": self.container_environment(job),
                    }
                ]
            },
            "startedBy": started_by(job),
            "tags": [
                {"key": "dataops:dag_id", "value": _tag_value(job.task.dag_id)},
                {"key": "dataops:run_id", "value": _tag_value(job.task.run_id)},
                {"key": "dataops:task", "value": _tag_value(f"{job.task.task_id}.{job.task.try_number}")},
            ],
        }
        if c.capacity_provider.upper() == "FARGATE":
            request["launchType"] = "FARGATE"
        else:
            request["capacityProviderStrategy"] = [{"capacityProvider": c.capacity_provider, "weight": 1}]
        return request

    # -- the run ---------------------------------------------------------

    def run(self, job: DbtJob, on_event: EventHandler) -> JobResult:
        if job.bundle:
            log.info("dbt builds bundle version %s from %s in ECS", job.bundle.version[:12], job.bundle.store)
        else:
            log.warning(
                "this DAG is not read from a published bundle: the dbt task gets no version and runs the "
                "project its image's DATAOPS_DBT_PROJECT_DIR names, if any (publish with `dataops publish`)"
            )
        reader = LogLineReader(on_event, log)
        started = time.monotonic()
        uri = self.artifacts_uri(job)
        if self._cancelled.is_set():
            return JobResult(-1, None, ("the Airflow task was stopped before dbt started",), 0.0, where="ecs (not started)")
        failure = self._stop_earlier_tasks(job)
        if failure:
            return JobResult(-1, None, (failure,), time.monotonic() - started, where="ecs (not started)")
        task_arn, failure = self._start(job)
        if task_arn is None:
            return JobResult(-1, None, (failure,), time.monotonic() - started, where="ecs (not started)")
        task_id = task_arn.rsplit("/", 1)[-1]
        log.info("dbt runs in ECS task %s; its log is %s in %s", task_id, self.config.log_stream(task_id), self.config.log_group)
        follower = _LogFollower(self.hooks.logs, self.config.log_group, self.config.log_stream(task_id), reader)

        try:
            task = self._wait_until_stopped(task_arn, follower)
        except BaseException:
            # Whatever stops the wait (AWS errors, the Airflow task killed), no dbt task is left running.
            self._stop_quietly()
            raise
        duration = time.monotonic() - started
        returncode, stop_reason = self._exit(task)
        # A container that never ran (no exit code) has no more lines to wait for.
        drain_s = self.config.log_drain_timeout_s if returncode != -1 else 0.0
        if self._cancelled.is_set():
            drain_s = min(drain_s, CANCELLED_DRAIN_S)
        follower.drain(drain_s, min(self.config.poll_interval_s, 1.0))

        run_results = self._artifact(uri, "run_results.json")
        errors = list(reader.errors)
        if stop_reason and (returncode != 0 and not follower.lines):
            errors.append(stop_reason)
        elif stop_reason and returncode != 0:
            log.warning("%s", stop_reason)
        return JobResult(
            returncode,
            run_results,
            tuple(errors),
            duration,
            where=f"ecs task {task_arn}, artifacts {uri}",
            plain_output=tuple(reader.plain_output),
        )

    def cancel(self) -> None:
        self._cancelled.set()
        if self._task_arn:
            log.info("stopping ECS task %s", self._task_arn)
            self.hooks.ecs.conn.stop_task(
                cluster=self.config.cluster, task=self._task_arn, reason="The Airflow task running it was stopped"
            )

    def _stop_quietly(self) -> None:
        try:
            self.cancel()
        except Exception:  # noqa: BLE001  (the original error is the one to report)
            log.exception("could not stop ECS task %s", self._task_arn)

    def _wait_until_stopped(self, task_arn: str, follower: _LogFollower) -> dict:
        """Follow the log until ECS says the task stopped; a few AWS errors in a row are tolerated."""
        from botocore.exceptions import BotoCoreError, ClientError

        errors = 0
        while True:
            try:
                follower.read()
                task = self._stopped(task_arn)
                errors = 0
            except (ClientError, BotoCoreError) as exc:
                errors += 1
                if errors >= _MAX_POLL_ERRORS:
                    raise
                log.warning("could not poll ECS task %s (%s); retrying", task_arn, exc)
                task = None
            if task is not None:
                return task
            self._cancelled.wait(self.config.poll_interval_s * (1 + errors))

    def earlier_tasks(self, job: DbtJob) -> list[dict]:
        """The ECS tasks of earlier tries of this Airflow task that have not stopped yet.

        A task asked to stop (desired STOPPED) may still be running its
        container until Fargate's stopTimeout, so both lists are read.
        """
        conn, arns = self.hooks.ecs.conn, []
        for desired in ("RUNNING", "STOPPED"):
            request = {"cluster": self.config.cluster, "startedBy": started_by(job), "desiredStatus": desired}
            while True:
                page = conn.list_tasks(**request)
                arns += page.get("taskArns") or []
                if not page.get("nextToken"):
                    break
                request["nextToken"] = page["nextToken"]
        tasks = []
        for i in range(0, len(arns), 100):
            page = conn.describe_tasks(cluster=self.config.cluster, tasks=arns[i : i + 100], include=["TAGS"])
            tasks += page.get("tasks") or []
        return [t for t in tasks if t.get("lastStatus") != "STOPPED"]

    def _stop_earlier_tasks(self, job: DbtJob) -> str:
        """Stop what earlier tries left running and wait for it; a message when that could not be done."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            running = self.earlier_tasks(job)
            if not running:
                return ""
            for task in running:
                tags = {t.get("key"): t.get("value") for t in task.get("tags") or ()}
                log.warning(
                    "the dbt ECS task %s of an earlier try (%s, %s) is still running: stopping it before %s "
                    "starts dbt", task["taskArn"], tags.get("dataops:task", "?"), task.get("lastStatus"),
                    job.task.describe(),
                )
                if task.get("desiredStatus") != "STOPPED":
                    self.hooks.ecs.conn.stop_task(
                        cluster=self.config.cluster, task=task["taskArn"],
                        reason=f"A later try ({job.task.describe()}) of the same Airflow task starts",
                    )
            started, arns = time.monotonic(), [t["taskArn"] for t in running]
            while arns:
                if time.monotonic() - started > EARLIER_TASK_STOP_TIMEOUT_S:
                    return (
                        f"the dbt ECS task(s) of an earlier try did not stop within {EARLIER_TASK_STOP_TIMEOUT_S:.0f}s "
                        f"({', '.join(arns)}); not starting a second build beside them"
                    )
                self._cancelled.wait(self.config.poll_interval_s)
                if self._cancelled.is_set():
                    return "the Airflow task was stopped before dbt started"
                described = self.hooks.ecs.conn.describe_tasks(cluster=self.config.cluster, tasks=arns)
                arns = [t["taskArn"] for t in described.get("tasks") or () if t.get("lastStatus") != "STOPPED"]
            log.warning("the earlier try's dbt ECS task stopped after %.1fs; %s starts its own",
                        time.monotonic() - started, job.task.describe())
        except (ClientError, BotoCoreError) as exc:
            return f"could not check for an earlier try's dbt ECS task on {self.config.cluster}: {exc}"
        return ""

    def _start(self, job: DbtJob) -> tuple[str | None, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        request = self.run_task_request(job)
        try:
            response = self.hooks.ecs.conn.run_task(**request)
        except (ClientError, BotoCoreError) as exc:
            return None, f"ECS could not start the dbt task ({self.config.task_definition} on {self.config.cluster}): {exc}"
        failures = response.get("failures") or []
        tasks = response.get("tasks") or []
        if failures or not tasks:
            why = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')} {f.get('detail', '')}".strip() for f in failures)
            return None, f"ECS did not start the dbt task ({self.config.task_definition} on {self.config.cluster}): {why or 'no task returned'}"
        self._task_arn = tasks[0]["taskArn"]
        return self._task_arn, ""

    def _stopped(self, task_arn: str) -> dict | None:
        """The task's description once it has stopped, else None."""
        response = self.hooks.ecs.conn.describe_tasks(cluster=self.config.cluster, tasks=[task_arn])
        tasks = response.get("tasks") or []
        if not tasks:
            reasons = ", ".join(f.get("reason", "?") for f in response.get("failures") or ())
            return {"lastStatus": "STOPPED", "stoppedReason": f"ECS no longer knows the task ({reasons})", "containers": []}
        task = tasks[0]
        return task if task.get("lastStatus") == "STOPPED" else None

    def _exit(self, task: dict) -> tuple[int, str]:
        container = next((c for c in task.get("containers", ()) if c.get("name") == self.config.container_name), {})
        code = container.get("exitCode")
        reason = ", ".join(
            part
            for part in (task.get("stopCode"), task.get("stoppedReason"), container.get("reason"))
            if part
        )
        message = f"ECS task {task.get('taskArn', '')} stopped: {reason}" if reason else ""
        return (int(code) if code is not None else -1), message

    def _artifact(self, uri: str, name: str) -> dict | None:
        from botocore.exceptions import ClientError

        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        try:
            body = self.hooks.s3.conn.get_object(Bucket=bucket, Key=f"{prefix}/{name}")["Body"].read()
        except ClientError as exc:
            log.warning("no %s at %s/%s (%s): the node states come from the log alone", name, uri, name, exc)
            return None
        try:
            return json.loads(body)
        except ValueError:
            log.warning("%s/%s is not JSON; ignored", uri, name)
            return None


class _LogFollower:
    """Reads a CloudWatch stream from where it stopped, joining lines awslogs cut."""

    def __init__(self, logs_hook, group: str, stream: str, reader: LogLineReader):
        from airflow.providers.amazon.aws.hooks.logs import AwsLogsHook

        self.hook, self.group, self.stream, self.reader = logs_hook, group, stream, reader
        self.token = AwsLogsHook.ContinuationToken()
        self.pending: list[str] = []
        self.lines = 0
        # The entrypoint said it is done: every line has been written.
        self.done = False

    def read(self) -> int:
        from botocore.exceptions import ClientError

        count = 0
        try:
            for event in self.hook.get_log_events(self.group, self.stream, continuation_token=self.token):
                self._line(event.get("message", ""))
                count += 1
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            # The stream appears when the container starts.
        self.lines += count
        return count

    def drain(self, timeout_s: float, interval_s: float) -> None:
        """The task has stopped: read until the entrypoint's last line arrives or ``timeout_s``
        (CloudWatch may deliver the last lines a little after the task stopped)."""
        deadline = time.monotonic() + timeout_s
        self.read()
        while not self.done and time.monotonic() < deadline:
            time.sleep(interval_s)
            self.read()
        self._flush()

    def _line(self, message: str) -> None:
        if message.startswith(ENTRYPOINT_DONE):
            self.done = True
        if self.pending and parse_event_line(message) is not None:
            self._flush()  # what was pending was not the start of a cut line
        if self.pending:
            self.pending.append(message)
            joined = "".join(self.pending)
            if parse_event_line(joined) is not None or len(self.pending) >= _MAX_LINE_PARTS:
                self.pending = []
                self.reader.feed(joined)
            return
        if message.startswith("{") and parse_event_line(message) is None:
            self.pending = [message]
            return
        self.reader.feed(message)

    def _flush(self) -> None:
        if self.pending:
            self.reader.feed("".join(self.pending))
            self.pending = []


def started_by(job: DbtJob) -> str:
    """RunTask's startedBy (128 characters at most): finds the tasks of one Airflow task."""
    task = job.task
    digest = hashlib.blake2b(f"{task.dag_id}\0{task.run_id}\0{task.task_id}".encode(), digest_size=8).hexdigest()
    return f"dataops/{digest}"


def _tag_value(value: str) -> str:
    return re.sub(r"[^\w .:/=+@-]", "_", value)[:256]
