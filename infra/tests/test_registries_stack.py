from __future__ import annotations

from tests.helpers import resources


def test_two_repositories_scanned_with_lifecycle(templates):
    repositories = resources(templates["dataops-registries"], "AWS::ECR::Repository").values()
    assert {r["Properties"]["RepositoryName"] for r in repositories} == {"dataops/airflow", "dataops/dbt"}
    for repository in repositories:
        props = repository["Properties"]
        assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
        # AES-256 at rest (ECR's default, so CloudFormation may leave it implicit).
        assert props.get("EncryptionConfiguration", {"EncryptionType": "AES256"}) == {"EncryptionType": "AES256"}
        assert "untagged" in props["LifecyclePolicy"]["LifecyclePolicyText"]
        assert '"countNumber":30' in props["LifecyclePolicy"]["LifecyclePolicyText"]
        # Protected: kept with their images when the stack is deleted.
        assert repository["DeletionPolicy"] == "Retain" and props.get("EmptyOnDelete") in (None, False)


def test_unprotected_repositories_empty_themselves_on_delete(serverless_platform):
    from aws_cdk.assertions import Template

    for repository in resources(Template.from_stack(serverless_platform.registries), "AWS::ECR::Repository").values():
        assert repository["Properties"]["EmptyOnDelete"] is True
        assert repository["DeletionPolicy"] == "Delete"
