from __future__ import annotations

import json

from tests.helpers import resources


def test_every_secret_is_generated_not_written(templates):
    secrets = resources(templates["dataops-secrets"], "AWS::SecretsManager::Secret")
    names = {s["Properties"]["Name"] for s in secrets.values()}
    assert names == {
        "dataops/airflow/jwt-secret",
        "dataops/airflow/api-secret-key",
        "dataops/airflow/admin-password",
        "dataops/metadata-db/credentials",
        "dataops/broker/auth-token",
        "dataops/warehouse/admin",
    }
    for secret in secrets.values():
        props = secret["Properties"]
        assert "SecretString" not in props
        generator = props["GenerateSecretString"]
        # Letters and digits only: safe inside connection URLs without escaping.
        assert generator["ExcludePunctuation"] is True and generator["IncludeSpace"] is False


def test_credentials_carry_their_user_names(templates):
    secrets = resources(templates["dataops-secrets"], "AWS::SecretsManager::Secret").values()
    templates_by_name = {
        s["Properties"]["Name"]: json.loads(s["Properties"]["GenerateSecretString"].get("SecretStringTemplate", "{}"))
        for s in secrets
    }
    assert templates_by_name["dataops/metadata-db/credentials"] == {"username": "airflow"}
    assert templates_by_name["dataops/warehouse/admin"] == {"username": "dataops_admin"}


def test_fernet_key_is_referenced_not_created(platform):
    # A Fernet key is 32 random bytes in URL-safe base64, which CloudFormation cannot
    # generate: `make generate_fernet STORE=1` (or bootstrap) stores it under this name.
    assert platform.secrets.secrets.fernet_key.secret_name == "dataops/airflow/fernet-key"
