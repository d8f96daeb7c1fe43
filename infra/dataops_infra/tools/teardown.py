"""Before `cdk destroy`: refuse when protection is on, then empty the buckets.

CloudFormation cannot delete a bucket that still holds objects (every version
counts), so this deletes all versions and delete markers of the storage stack's
buckets. ECR repositories empty themselves (EmptyOnDelete) when unprotected.
"""

from __future__ import annotations

import sys

from dataops_infra.platform import stack_names
from dataops_infra.tools.aws_session import AwsError, session, settings_or_exit

PROTECTED = """\
INFRA_DELETION_PROTECTION is true: the database, warehouse, load balancer and buckets are protected.
To tear everything down, set INFRA_DELETION_PROTECTION=false in infra/.env, apply it with
`make -C infra bootstrap deploy`, then run `make -C infra destroy` again."""


def main() -> None:
    settings = settings_or_exit()
    if settings.deletion_protection:
        sys.exit(PROTECTED)
    try:
        boto = session(settings)
    except AwsError as error:
        sys.exit(str(error))
    storage = stack_names(settings.prefix)["storage"]
    cloudformation, s3 = boto.client("cloudformation"), boto.resource("s3")
    try:
        resources = cloudformation.describe_stack_resources(StackName=storage)["StackResources"]
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" in str(error):
            print(f"{storage} is not deployed: no buckets to empty.")
            return
        raise
    for resource in resources:
        if resource["ResourceType"] == "AWS::S3::Bucket" and resource.get("PhysicalResourceId"):
            bucket = s3.Bucket(resource["PhysicalResourceId"])
            print(f"Emptying s3://{bucket.name} (all versions)")
            try:
                bucket.object_versions.delete()
            except s3.meta.client.exceptions.NoSuchBucket:
                print(f"  s3://{bucket.name} is already gone")


if __name__ == "__main__":
    main()
