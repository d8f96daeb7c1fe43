"""The warehouse's least-privilege users, created at deploy time through the Redshift Data API.

``users_sql`` is the exact SQL; ``WarehouseUsers`` runs it as a custom resource
(``dataops_infra/functions/warehouse_sql``) with the admin secret, which nothing
else reads. The users have no password (``PASSWORD DISABLE``): dbt and the loader
sign in with temporary IAM credentials for their own user only.

- the loader (Airflow workers) owns the sources schema and its staging schema, where
  it creates and COPYs the TICKIT tables;
- dbt reads the sources (now and tables created later) and owns the models' schema;
  ``CREATE ON DATABASE`` lets each create further schemas of its own (dbt's custom
  schemas), which it then owns, and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from dataops_infra.constructs.log_group import named_log_group
from dataops_infra.constructs.secret_rotation import FUNCTION_RUNTIME, FUNCTIONS
from dataops_infra.nag import acknowledge, policy_of, wildcard_resource

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$|^IAMR:[A-Za-z0-9+=,.@_-]{1,64}$")
DESCRIBE_STATEMENT_REASON = (
    "redshift-data:DescribeStatement supports no resource-level permission, so AWS accepts only Resource "
    "'*'; it reads the status of the statements this function started (ExecuteStatement names the warehouse)."
)


def quoted(name: str) -> str:
    """A Redshift identifier, double-quoted (IAMR:<role> users need it); refuses anything unexpected."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a user or schema name this platform creates")
    return f'"{name}"'


def users_sql(*, database: str, dbt_user: str, loader_user: str, sources_schema: str, models_schema: str) -> list[str]:
    """The statements, in order; each is safe to run again."""
    dbt, loader, db = quoted(dbt_user), quoted(loader_user), quoted(database)
    sources, staging, models = quoted(sources_schema), quoted(f"{sources_schema}_staging"), quoted(models_schema)
    return [
        f"CREATE USER {dbt} PASSWORD DISABLE",
        f"CREATE USER {loader} PASSWORD DISABLE",
        f"GRANT CREATE ON DATABASE {db} TO {loader}, {dbt}",
        f"CREATE SCHEMA IF NOT EXISTS {sources} AUTHORIZATION {loader}",
        f"ALTER SCHEMA {sources} OWNER TO {loader}",
        f"CREATE SCHEMA IF NOT EXISTS {staging} AUTHORIZATION {loader}",
        f"ALTER SCHEMA {staging} OWNER TO {loader}",
        f"GRANT USAGE ON SCHEMA {sources} TO {dbt}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {sources} TO {dbt}",
        f"ALTER DEFAULT PRIVILEGES FOR USER {loader} IN SCHEMA {sources} GRANT SELECT ON TABLES TO {dbt}",
        f"CREATE SCHEMA IF NOT EXISTS {models} AUTHORIZATION {dbt}",
        f"ALTER SCHEMA {models} OWNER TO {dbt}",
    ]


@dataclass(frozen=True)
class WarehouseUsersProps:
    admin_secret: sm.ISecret
    database: str
    statements: list[str]
    log_retention: logs.RetentionDays
    # The warehouse's ARN (cluster or workgroup), which ExecuteStatement is granted on.
    warehouse_arn: str
    # One of the two: the provisioned cluster or the Serverless workgroup.
    cluster_identifier: str | None = None
    workgroup_name: str | None = None


class WarehouseUsers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: WarehouseUsersProps) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        name = f"{stack.stack_name}-{construct_id}"[:64]
        log_group = named_log_group(self, "Logs", name=f"/aws/lambda/{name}", retention=props.log_retention)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Creates the warehouse users at deploy time: Data API on the warehouse, the admin secret",
        )
        log_group.grant_write(role)
        props.admin_secret.grant_read(role)
        role.add_to_policy(
            iam.PolicyStatement(actions=["redshift-data:ExecuteStatement"], resources=[props.warehouse_arn])
        )
        role.add_to_policy(iam.PolicyStatement(actions=["redshift-data:DescribeStatement"], resources=["*"]))
        acknowledge(policy_of(role), wildcard_resource("*"), DESCRIBE_STATEMENT_REASON)
        function = lambda_.Function(
            self,
            "Function",
            function_name=name,
            description="Creates the platform's least-privilege Redshift users (deploy time)",
            runtime=FUNCTION_RUNTIME,
            code=lambda_.Code.from_asset(str(FUNCTIONS / "warehouse_sql")),
            handler="handler.handler",
            role=role,
            log_group=log_group,
            timeout=Duration.minutes(10),
        )
        target = (
            {"WorkgroupName": props.workgroup_name}
            if props.workgroup_name
            else {"ClusterIdentifier": props.cluster_identifier}
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=function.function_arn,
            resource_type="Custom::WarehouseUsers",
            properties={
                "Database": props.database,
                "SecretArn": props.admin_secret.secret_arn,
                "Statements": props.statements,
                **target,
            },
        )
