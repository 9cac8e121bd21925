#!/usr/bin/env bash
# Build and push the image of one commit, once; print its digest (sha256:...).
#
#   buildspecs/push-image.sh REPOSITORY_URI TAG
#
# The registry's tags are immutable, so pushing a tag twice fails with
# ImageTagAlreadyExistsException: a retried build of the same commit reuses the image the
# first attempt pushed instead of failing at `docker push`.
set -euo pipefail
repository_uri=$1
tag=$2
repository=${repository_uri#*/}
# ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY: the registry may be another account's (the
# tools account, with an account per environment); without it the CLI reads our own.
registry_id=${repository_uri%%.*}
errors=$(mktemp)

if digest=$(aws ecr describe-images --registry-id "$registry_id" --repository-name "$repository" \
    --image-ids "imageTag=$tag" --query 'imageDetails[0].imageDigest' --output text 2>"$errors"); then
  echo "$repository_uri:$tag is already in the registry: reusing it, not pushing again" >&2
elif grep -q ImageNotFoundException "$errors"; then
  docker build --tag "$repository_uri:$tag" app >&2
  docker push "$repository_uri:$tag" >&2
  digest=$(docker inspect --format '{{index .RepoDigests 0}}' "$repository_uri:$tag" | cut -d@ -f2)
else
  cat "$errors" >&2  # credentials, permissions: not a missing image
  exit 1
fi
echo "$digest"
