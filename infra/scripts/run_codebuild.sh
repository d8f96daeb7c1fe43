#!/usr/bin/env bash
# Upload this checkout as the CodeBuild source and run one build to completion.
#   run_codebuild.sh PROJECT IMAGE_TAG
# Needs AWS credentials (GitHub Actions: OIDC role), the AWS CLI, and
# ARTIFACTS_BUCKET (the stack output dataops-storage.ArtifactsBucket).
set -euo pipefail

project="${1:?usage: run_codebuild.sh PROJECT IMAGE_TAG}"
image_tag="${2:?usage: run_codebuild.sh PROJECT IMAGE_TAG}"
: "${ARTIFACTS_BUCKET:?set it to the artifacts bucket (stack output ArtifactsBucket)}"
source_key="source/dataops.zip"   # the key the CodeBuild projects read (infra/dataops_infra/constructs/delivery.py)

archive="$(mktemp -d)/dataops.zip"
git archive --format=zip --output "$archive" HEAD
version="$(aws s3api put-object --bucket "$ARTIFACTS_BUCKET" --key "$source_key" --body "$archive" --query VersionId --output text)"
echo "Uploaded $(git rev-parse --short HEAD) as s3://$ARTIFACTS_BUCKET/$source_key (version $version)"

build_id="$(aws codebuild start-build --project-name "$project" --source-version "$version" \
  --environment-variables-override "name=IMAGE_TAG,value=$image_tag,type=PLAINTEXT" \
  --query build.id --output text)"
echo "Started $build_id"

while true; do
  status="$(aws codebuild batch-get-builds --ids "$build_id" --query 'builds[0].buildStatus' --output text)"
  case "$status" in
    IN_PROGRESS) sleep 20 ;;
    SUCCEEDED) echo "$build_id succeeded"; exit 0 ;;
    *) echo "$build_id ended with $status; logs: CloudWatch log group /aws/codebuild/$project" >&2; exit 1 ;;
  esac
done
