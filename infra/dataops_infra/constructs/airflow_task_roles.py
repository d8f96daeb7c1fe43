"""The IAM roles of the Airflow containers, written statement by statement (no wildcard actions).

The control plane (API server, scheduler, DAG processor, triggerer) reads and
writes task logs, reads the published analytics bundles and the metadata database's
rotating password. Workers also upload the TICKIT files under ``tickit/`` of the data
bucket (no read, no delete), sign in to the warehouse as the loader user (temporary
IAM credentials), read dbt's artifacts, and start, watch and stop dbt tasks on ECS:
RunTask names the exact task definition revision of the same deploy.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops_infra.constructs.dbt_task import ARTIFACTS_PREFIX as DBT_ARTIFACTS_PREFIX
from dataops_infra.constructs.fargate import ECS_TASKS_SERVICE, task_role
from dataops_infra.contract import allow_reading_bundles
from dataops_infra.nag import allow_pattern

TASK_LOGS_PREFIX = "airflow-logs"


# Where the TICKIT loader uploads the files Redshift COPYs (DATAOPS_S3_PREFIX's default).
DATA_UPLOAD_PREFIX = "tickit"


@dataclass(frozen=True)
class DbtRunPermissions:
    """What a worker needs to run the dbt task definition on the cluster."""

    cluster_name: str
    # The revision ARN of this deploy's dbt task definition.
    task_definition_arn: str
    task_role: iam.IRole
    execution_role: iam.IRole
    log_group_name: str
    log_stream_prefix: str


@dataclass(frozen=True)
class AirflowTaskRolesProps:
    artifacts_bucket: s3.IBucket
    data_bucket: s3.IBucket
    dbt: DbtRunPermissions
    # The secret RDS rotates the metadata database's password in (the control plane reads it).
    metadata_db_secret_arn: str
    # Fixed, because the warehouse names the loader's database user after it (Serverless).
    worker_role_name: str


class AirflowTaskRoles(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: AirflowTaskRolesProps) -> None:
        super().__init__(scope, construct_id)
        artifacts, data = props.artifacts_bucket, props.data_bucket

        self.control_plane = task_role(
            self,
            "ControlPlane",
            description="Airflow API server, scheduler, DAG processor, triggerer: task logs, bundles (read)",
        )
        self.control_plane.add_to_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[props.metadata_db_secret_arn])
        )
        self.worker = task_role(
            self,
            "Worker",
            description="Airflow Celery workers: task logs, bundles (read), TICKIT uploads, dbt runs on ECS",
            role_name=props.worker_role_name,
        )
        for role in (self.control_plane, self.worker):
            allow_pattern(
                role,
                ["s3:GetObject", "s3:PutObject"],
                artifacts.arn_for_objects(f"{TASK_LOGS_PREFIX}/*"),
                "Airflow writes one S3 object per task try under airflow-logs/; Get/PutObject need a key "
                "pattern and are limited to that prefix of the artifacts bucket.",
            )
            # HeadObject on a missing log needs ListBucket to answer 404 rather than 403.
            role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[artifacts.bucket_arn]))
            # The DAG processor and the tasks read the DAG files of a run's bundle version.
            allow_reading_bundles(role, artifacts)

        allow_pattern(
            self.worker,
            ["s3:GetObject"],
            artifacts.arn_for_objects(f"{DBT_ARTIFACTS_PREFIX}/*"),
            "Workers read the artifacts each dbt run writes under dbt/<run id>/ (read-only, that prefix only).",
        )
        allow_pattern(
            self.worker,
            ["s3:PutObject"],
            data.arn_for_objects(f"{DATA_UPLOAD_PREFIX}/*"),
            "The TICKIT loader uploads (and replaces) the sample files and COPY manifests under tickit/ of the "
            "data bucket, whose keys it names at run time; it cannot read or delete anything there.",
        )
        self._allow_dbt_runs(props.dbt)

    def _allow_dbt_runs(self, dbt: DbtRunPermissions) -> None:
        stack = Stack.of(self)
        cluster_arn = stack.format_arn(service="ecs", resource="cluster", resource_name=dbt.cluster_name)
        in_cluster = {"ArnEquals": {"ecs:cluster": cluster_arn}}
        tasks_in_cluster = stack.format_arn(service="ecs", resource="task", resource_name=f"{dbt.cluster_name}/*")
        # The one revision this deploy registered, on the platform's cluster only.
        self.worker.add_to_policy(
            iam.PolicyStatement(actions=["ecs:RunTask"], resources=[dbt.task_definition_arn], conditions=in_cluster)
        )
        allow_pattern(
            self.worker,
            ["ecs:DescribeTasks", "ecs:StopTask"],
            tasks_in_cluster,
            "Task ids are generated by RunTask, so Describe/Stop/Tag name the tasks of the platform's cluster; "
            "tagging is further limited to RunTask calls.",
            conditions=in_cluster,
        )
        allow_pattern(
            self.worker,
            ["ecs:ListTasks"],
            stack.format_arn(service="ecs", resource="container-instance", resource_name=f"{dbt.cluster_name}/*"),
            "A retry lists the dbt tasks an earlier try of the same Airflow task left running (by startedBy) "
            "to stop them first; ListTasks authorizes on container instances, here those of the platform's "
            "cluster only (ecs:cluster condition).",
            conditions=in_cluster,
        )
        # Tags passed to RunTask (run ids) are applied by a separate authorization.
        self.worker.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:TagResource"],
                resources=[tasks_in_cluster],
                conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}},
            )
        )
        self.worker.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[dbt.task_role.role_arn, dbt.execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": ECS_TASKS_SERVICE}},
            )
        )
        allow_pattern(
            self.worker,
            ["logs:GetLogEvents"],
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"{dbt.log_group_name}:log-stream:{dbt.log_stream_prefix}/*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            "Workers stream the logs of the dbt tasks they started; stream names end in the task id, so the "
            "read is limited to the dbt log group's dbt/ streams.",
        )
