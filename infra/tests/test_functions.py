"""The Lambda handlers the stacks deploy: secret rotation and the deploy-time warehouse SQL."""

from __future__ import annotations

import json

import pytest

from dataops_infra.functions.rotation.handler import Rotation
from dataops_infra.functions.warehouse_sql.handler import run_statements

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dataops/broker/auth-token"


class NotFound(Exception):
    pass


class FakeSecrets:
    """Secrets Manager with one secret: versions, stages, values."""

    class exceptions:  # noqa: N801 (boto3's shape)
        ResourceNotFoundException = NotFound

    def __init__(self, value: str) -> None:
        self.values = {"v1": value}
        self.stages = {"v1": ["AWSCURRENT"]}

    def describe_secret(self, SecretId):  # noqa: N803
        return {"RotationEnabled": True, "VersionIdsToStages": {k: list(v) for k, v in self.stages.items()}}

    def get_secret_value(self, SecretId, VersionStage, VersionId=None):  # noqa: N803
        for version, stages in self.stages.items():
            if VersionStage in stages and (VersionId is None or VersionId == version) and version in self.values:
                return {"SecretString": self.values[version]}
        raise NotFound(VersionStage)

    def get_random_password(self, **options):
        assert options["ExcludePunctuation"] is True
        return {"RandomPassword": "N3wValue"}

    def put_secret_value(self, SecretId, ClientRequestToken, SecretString, VersionStages):  # noqa: N803
        self.values[ClientRequestToken] = SecretString
        self.stages[ClientRequestToken] = list(VersionStages)

    def update_secret_version_stage(self, SecretId, VersionStage, MoveToVersionId, RemoveFromVersionId):  # noqa: N803
        self.stages[RemoveFromVersionId].remove(VersionStage)
        self.stages[MoveToVersionId].append(VersionStage)


class FakeClients:
    def __init__(self) -> None:
        self.calls = []

    def __call__(self, service):
        outer = self

        class Client:
            def __getattr__(self, operation):
                return lambda **kwargs: outer.calls.append((service, operation, kwargs))

        return Client()


def test_the_broker_token_rotates_with_both_tokens_valid_then_readers_restart():
    secrets, clients = FakeSecrets("old"), FakeClients()
    environment = {
        "TARGET_KIND": "elasticache-auth",
        "TARGET_ID": "dataops-broker",
        "RESTART_SERVICES": "dataops/airflow-scheduler,dataops/airflow-worker",
    }
    secrets.stages["v2"] = ["AWSPENDING"]
    rotation = Rotation(secrets, clients, environment)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        rotation.run(step, ARN, "v2")
    assert clients.calls == [
        (
            "elasticache",
            "modify_replication_group",
            {
                "ReplicationGroupId": "dataops-broker",
                "AuthToken": "N3wValue",
                "AuthTokenUpdateStrategy": "ROTATE",
                "ApplyImmediately": True,
            },
        ),
        ("ecs", "update_service", {"cluster": "dataops", "service": "airflow-scheduler", "forceNewDeployment": True}),
        ("ecs", "update_service", {"cluster": "dataops", "service": "airflow-worker", "forceNewDeployment": True}),
    ]
    assert secrets.stages == {"v1": [], "v2": ["AWSPENDING", "AWSCURRENT"]}
    assert secrets.values["v2"] == "N3wValue"


def test_the_warehouse_admin_password_is_set_through_the_api_keeping_its_user():
    secrets, clients = FakeSecrets(json.dumps({"username": "dataops_admin", "password": "old"})), FakeClients()
    secrets.stages["v2"] = ["AWSPENDING"]
    rotation = Rotation(
        secrets,
        clients,
        {"TARGET_KIND": "redshift-serverless", "TARGET_ID": "dataops-warehouse", "PASSWORD_FIELD": "password"},
    )
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        rotation.run(step, ARN, "v2")
    assert json.loads(secrets.values["v2"]) == {"username": "dataops_admin", "password": "N3wValue"}
    assert clients.calls == [
        (
            "redshift-serverless",
            "update_namespace",
            {"namespaceName": "dataops-warehouse", "adminUsername": "dataops_admin", "adminUserPassword": "N3wValue"},
        )
    ]


def test_a_repeated_step_changes_nothing_and_an_unknown_version_is_refused():
    secrets, clients = FakeSecrets("old"), FakeClients()
    secrets.stages["v2"] = ["AWSPENDING"]
    rotation = Rotation(secrets, clients, {})
    rotation.run("createSecret", ARN, "v2")
    rotation.run("createSecret", ARN, "v2")  # a retry keeps the value created first
    assert secrets.values["v2"] == "N3wValue"
    with pytest.raises(ValueError, match="not being rotated"):
        rotation.run("setSecret", ARN, "v9")


class FakeDataApi:
    def __init__(self, outcomes: dict[str, tuple[str, str]]) -> None:
        self.outcomes, self.ran, self.targets = outcomes, [], []

    def execute_statement(self, Sql, **target):  # noqa: N803
        self.ran.append(Sql)
        self.targets.append(target)
        return {"Id": Sql}

    def describe_statement(self, Id):  # noqa: N803
        status, error = self.outcomes.get(Id, ("FINISHED", ""))
        return {"Status": status, "Error": error}


PROPS = {"Database": "dataops", "SecretArn": "arn:secret", "ClusterIdentifier": "dataops-warehouse"}


def test_statements_run_in_order_and_existing_users_count_as_done():
    api = FakeDataApi({'CREATE USER "dbt" PASSWORD DISABLE': ("FAILED", 'user "dbt" already exists')})
    statements = ['CREATE USER "dbt" PASSWORD DISABLE', 'GRANT USAGE ON SCHEMA "tickit" TO "dbt"']
    assert run_statements(api, {**PROPS, "Statements": statements}, sleep=lambda s: None) == 2
    assert api.ran == statements
    assert api.targets[0] == {
        "Database": "dataops",
        "SecretArn": "arn:secret",
        "ClusterIdentifier": "dataops-warehouse",
    }


def test_a_failed_grant_fails_the_deploy_with_its_sql_and_error():
    api = FakeDataApi({'GRANT USAGE ON SCHEMA "x" TO "dbt"': ("FAILED", 'schema "x" does not exist')})
    with pytest.raises(RuntimeError, match='GRANT USAGE.*schema "x" does not exist'):
        run_statements(api, {**PROPS, "Statements": ['GRANT USAGE ON SCHEMA "x" TO "dbt"']}, sleep=lambda s: None)
