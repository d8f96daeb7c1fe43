#!/usr/bin/env bash
# Build the Airflow and dbt images from the repository root and push them to ECR.
# Used by `make -C infra push_images` (variables from `python -m dataops_infra.tools.stacks images`)
# and by the CodeBuild images project (variables from the project's environment).
set -euo pipefail

: "${AWS_REGION:?}" "${AIRFLOW_REPOSITORY:?}" "${DBT_REPOSITORY:?}" "${IMAGE_TAG:?}"
# Tags are immutable commits (the repositories refuse a second push of a tag): a moving tag
# such as `latest` would make a deploy ship whatever was pushed last.
if [[ ! "$IMAGE_TAG" =~ ^[0-9a-f]{7,40}$ ]]; then
  echo "IMAGE_TAG must be the commit the images are built from (got '$IMAGE_TAG')" >&2
  exit 2
fi
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  echo "push_images needs a running Docker engine. Without one, build in CodeBuild: push to main" >&2
  echo "(the infra-images GitHub workflow) or start the '<prefix>-images' CodeBuild project." >&2
  exit 1
fi

registry="${AIRFLOW_REPOSITORY%%/*}"
aws_password() {
  if command -v aws >/dev/null; then
    aws ecr get-login-password --region "$AWS_REGION"
  else
    python3 -c 'import base64, boto3, sys; t = boto3.client("ecr", region_name=sys.argv[1]).get_authorization_token()["authorizationData"][0]["authorizationToken"]; print(base64.b64decode(t).decode().split(":", 1)[1])' "$AWS_REGION"
  fi
}
aws_password | docker login --username AWS --password-stdin "$registry"

build_and_push() {
  local dockerfile="$1" repository="$2"
  echo "==> ${repository}:${IMAGE_TAG}"
  docker build --file "$repo_root/$dockerfile" --tag "$repository:$IMAGE_TAG" "$repo_root"
  docker push "$repository:$IMAGE_TAG"
}
build_and_push infra/images/airflow/Dockerfile "$AIRFLOW_REPOSITORY"
build_and_push infra/images/dbt/Dockerfile "$DBT_REPOSITORY"
