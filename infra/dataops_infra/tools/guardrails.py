"""Create or update the guardrail policies (``dataops_infra.guardrails``) before `cdk bootstrap`.

  python -m dataops_infra.tools.guardrails ensure     create or update both; print the execution policy's ARN

Run by `make bootstrap` with the operator's credentials (an administrator, once per change
of the guardrails): the deploy pipeline's roles cannot change them.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from dataops_infra.guardrails import execution_policy, permissions_boundary, policy_arn, policy_names
from dataops_infra.tools.aws_session import AwsError, session, settings_or_exit

# IAM keeps at most five versions of a managed policy.
MAX_VERSIONS = 5


def ensure_policy(iam: Any, account: str, name: str, document: dict) -> str:
    """Create ``name`` with ``document``, or make ``document`` its default version; return the ARN."""
    arn = policy_arn(account, name)
    text = json.dumps(document, sort_keys=True)
    try:
        iam.get_policy(PolicyArn=arn)
    except iam.exceptions.NoSuchEntityException:
        iam.create_policy(PolicyName=name, PolicyDocument=text, Description="DataOps platform guardrail")
        return arn
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    current = next(v for v in versions if v["IsDefaultVersion"])
    stored = iam.get_policy_version(PolicyArn=arn, VersionId=current["VersionId"])["PolicyVersion"]["Document"]
    if (json.loads(stored) if isinstance(stored, str) else stored) == document:
        return arn
    if len(versions) >= MAX_VERSIONS:
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=True)
    return arn


def ensure(iam: Any, prefix: str, account: str) -> str:
    names = policy_names(prefix)
    ensure_policy(iam, account, names["boundary"], permissions_boundary(prefix, account))
    return ensure_policy(iam, account, names["execution"], execution_policy(prefix, account))


def main(argv: list[str]) -> None:
    if argv != ["ensure"]:
        sys.exit("usage: python -m dataops_infra.tools.guardrails ensure")
    settings = settings_or_exit()
    try:
        iam = session(settings).client("iam")
    except AwsError as error:
        sys.exit(str(error))
    print(ensure(iam, settings.prefix, settings.account))


if __name__ == "__main__":
    main(sys.argv[1:])
