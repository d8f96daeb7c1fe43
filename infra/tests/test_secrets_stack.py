from __future__ import annotations

from tests.helpers import resources, text


def test_every_secret_is_generated_not_written(templates):
    secrets = resources(templates["dataops-secrets"], "AWS::SecretsManager::Secret")
    names = {s["Properties"]["Name"] for s in secrets.values()}
    # Airflow's keys; credentials live beside what they protect (broker, warehouse), or with RDS.
    assert names == {"dataops/airflow/jwt-secret", "dataops/airflow/api-secret-key"}
    for secret in secrets.values():
        props = secret["Properties"]
        assert "SecretString" not in props
        generator = props["GenerateSecretString"]
        # Letters and digits only: safe inside connection URLs without escaping.
        assert generator["ExcludePunctuation"] is True and generator["IncludeSpace"] is False


def test_airflow_keys_rotate_and_every_airflow_service_restarts_onto_them(templates):
    stack = templates["dataops-secrets"]
    schedules = resources(stack, "AWS::SecretsManager::RotationSchedule").values()
    assert len(schedules) == 2
    assert {text(s["Properties"]["RotationRules"]) for s in schedules} == {'{"ScheduleExpression": "rate(30 days)"}'}
    for function in resources(stack, "AWS::Lambda::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["TARGET_KIND"] == "none"
        assert variables["RESTART_SERVICES"].split(",") == [
            f"dataops/airflow-{c}" for c in ("api-server", "scheduler", "dag-processor", "triggerer", "worker")
        ]


def test_fernet_key_is_referenced_not_created(platform):
    # A Fernet key is 32 random bytes in URL-safe base64, which CloudFormation cannot
    # generate: `make generate_fernet STORE=1` (or bootstrap) stores it under this name.
    assert platform.secrets.secrets.fernet_key.secret_name == "dataops/airflow/fernet-key"
