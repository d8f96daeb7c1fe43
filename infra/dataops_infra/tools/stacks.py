"""What the Makefile needs to know about the deployment, one answer per line.

core | application | all   stack names (bootstrap, deploy, destroy)
environment                 aws://ACCOUNT/REGION (cdk bootstrap)
images                      shell assignments for scripts/push_images.sh
"""

from __future__ import annotations

import sys

from dataops_infra.platform import APPLICATION_STACKS, CORE_STACKS, STACKS, stack_names
from dataops_infra.stacks.registries_stack import repository_name
from dataops_infra.tools.aws_session import settings_or_exit

PARTS = {"core": CORE_STACKS, "application": APPLICATION_STACKS, "all": STACKS}


def main(argv: list[str]) -> None:
    settings = settings_or_exit()
    names = stack_names(settings.prefix)
    question = argv[0] if argv else "all"
    if question in PARTS:
        print(" ".join(names[part] for part in PARTS[question]))
    elif question == "environment":
        print(f"aws://{settings.account}/{settings.region}")
    elif question == "images":
        registry = f"{settings.account}.dkr.ecr.{settings.region}.amazonaws.com"
        print(f"export AWS_REGION={settings.region}")
        print(f"export AIRFLOW_REPOSITORY={registry}/{repository_name(settings.prefix, 'airflow')}")
        print(f"export DBT_REPOSITORY={registry}/{repository_name(settings.prefix, 'dbt')}")
        print(f"export IMAGE_TAG={settings.image_tag}")
    else:
        sys.exit(f"unknown question {question!r}: core, application, all, environment or images")


if __name__ == "__main__":
    main(sys.argv[1:])
