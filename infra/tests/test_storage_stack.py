from __future__ import annotations

from tests.helpers import resources, text

BUCKETS = {
    "dataops-access-logs-123456789012-us-east-1",
    "dataops-artifacts-123456789012-us-east-1",
    "dataops-data-123456789012-us-east-1",
}


def buckets(templates) -> dict[str, dict]:
    return {
        b["Properties"]["BucketName"]: b for b in resources(templates["dataops-storage"], "AWS::S3::Bucket").values()
    }


def test_buckets_are_encrypted_versioned_private_and_kept(templates):
    found = buckets(templates)
    assert set(found) == BUCKETS
    for name, bucket in found.items():
        props = bucket["Properties"]
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert sse == {"SSEAlgorithm": "AES256"}, name
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        # Deletion protection is on by default: stack deletion keeps the buckets.
        assert bucket["DeletionPolicy"] == "Retain", name
        rules = props["LifecycleConfiguration"]["Rules"]
        assert any(rule.get("NoncurrentVersionExpiration") for rule in rules), name
        assert any(rule.get("AbortIncompleteMultipartUpload") for rule in rules), name


def test_access_logs_of_artifacts_and_data(templates):
    for name, bucket in buckets(templates).items():
        if "access-logs" in name:
            continue
        logging = bucket["Properties"]["LoggingConfiguration"]
        assert "AccessLogs" in text(logging["DestinationBucketName"])
        assert logging["LogFilePrefix"].startswith("s3/")


def test_bucket_policies_require_tls_and_admit_only_log_delivery(templates):
    policies = resources(templates["dataops-storage"], "AWS::S3::BucketPolicy").values()
    assert len(policies) == 3
    for policy in policies:
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        deny = [s for s in statements if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    logs_policy = next(p for p in policies if "AccessLogs" in text(p["Properties"]["Bucket"]))
    allowed = [s for s in logs_policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    principals = {text(s["Principal"]) for s in allowed}
    assert any("logging.s3.amazonaws.com" in p for p in principals)
    # us-east-1 delivers load balancer logs from the regional ELB account.
    assert any("127311923021" in p for p in principals)
    assert all(s["Action"] == "s3:PutObject" for s in allowed)
