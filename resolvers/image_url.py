"""``!image_url``: the container image to run, pinned by digest.

    Image: !image_url
      repository: product-service   # ECR repository in the stack's account and region
      tag: "{{ var.image_tag | default('') }}"  # empty: the IMAGE_TAG environment variable
      require_tag: true             # prod: refuse to guess; dev: take the newest image
      registry_id: "123456789012"   # the account holding the repository; "" = the stack's own

Returns ``REPOSITORY_URI@sha256:...`` so a task definition names exactly one image:
re-pushing a tag cannot change what is running without a new deployment. With an account per
environment the repository lives in the tools account (``accounts.tools``): ECR's calls take
that account as ``registryId`` (its repository policy must let this account describe images).
"""

import logging
import os
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from sceptre.resolvers import Resolver

from resolvers import AwsCall, LookupFailedError, paginate, stack_call

logger = logging.getLogger(f"sceptre.{__name__}")


@dataclass(frozen=True)
class Image:
    """One image in an ECR repository."""

    repository_uri: str
    digest: str
    tags: tuple[str, ...]
    chosen_because: str

    @property
    def url(self) -> str:
        """The digest-pinned reference a task definition should use."""
        return f"{self.repository_uri}@{self.digest}"


def find_image(
    call: AwsCall,
    repository: str,
    tag: str | None = None,
    require_tag: bool = False,
    pipeline: str = "dev/pipeline.yaml",
    registry_id: str = "",
) -> Image:
    """Return the image tagged ``tag`` in ``repository``, or the newest one when tag is empty.

    Raises LookupFailedError when the repository or tag does not exist, the repository is
    empty, or, with ``require_tag``, no tag is given or the repository's tags are mutable.
    ``pipeline`` is the stack file of the pipeline that builds images, named when the
    repository is empty. ``registry_id``: the account whose registry holds the repository,
    "" for the caller's own.
    """
    registry = {"registryId": registry_id} if registry_id else {}
    repo = _repository(call, repository, registry)
    uri = repo["repositoryUri"]
    if require_tag and repo.get("imageTagMutability") != "IMMUTABLE":
        raise LookupFailedError(
            f"!image_url: ECR repository '{repository}' lets a tag be pushed again, so the tag "
            "this environment names could come to mean another image; make its tags IMMUTABLE "
            "(templates/registry.yaml does)."
        )
    if tag:
        try:
            found = call(
                "ecr",
                "describe_images",
                {"repositoryName": repository, "imageIds": [{"imageTag": tag}], **registry},
            )["imageDetails"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ImageNotFoundException":
                raise
            found = []
        if not found:
            known = _recent_tags(call, repository, registry)
            raise LookupFailedError(
                f"!image_url: no image tagged '{tag}' in ECR repository '{repository}'"
                + (f"; recent tags: {', '.join(known)}" if known else "; the repository is empty")
                + ". Push it first or pass another --var image_tag."
            )
        return _image(uri, found[0], f"tag {tag}")
    if require_tag:
        raise LookupFailedError(
            f"!image_url: this environment needs an explicit image tag from '{repository}'; "
            "run with --var image_tag=TAG or set IMAGE_TAG."
        )
    images = _all_images(call, repository, registry)
    if not images:
        raise LookupFailedError(
            f"!image_url: ECR repository '{repository}' has no images yet. Launch the pipeline "
            f"that builds them (sceptre --ignore-dependencies launch -y {pipeline}): its first "
            f'build pushes the first image (README: "From an empty account"). Or push one by '
            f"hand (docker push {uri}:TAG) and launch again."
        )
    newest = max(images, key=lambda d: d["imagePushedAt"])
    image = _image(uri, newest, "no tag was given, so the most recently pushed image")
    logger.warning(
        "!image_url: no image tag given; using the most recently pushed image in %s: %s (tags: %s)",
        repository,
        image.digest,
        ", ".join(image.tags) or "none",
    )
    return image


def _repository(call: AwsCall, repository: str, registry: dict[str, str]) -> dict[str, Any]:
    try:
        repos = call("ecr", "describe_repositories", {"repositoryNames": [repository], **registry})
    except ClientError as error:
        if error.response["Error"]["Code"] != "RepositoryNotFoundException":
            raise
        where = (
            f"the registry of account {registry['registryId']} (accounts.tools)"
            if registry
            else "this account"
        )
        raise LookupFailedError(
            f"!image_url: no ECR repository named '{repository}' in {where} and region; "
            "create it with sceptre launch -y shared (the account's registry), or set "
            "image_repository in config/config.yaml."
        ) from None
    return repos["repositories"][0]


def _all_images(call: AwsCall, repository: str, registry: dict[str, str]) -> list[dict[str, Any]]:
    kwargs = {"repositoryName": repository, **registry}
    return paginate(call, "ecr", "describe_images", kwargs, "imageDetails", "nextToken")


def _recent_tags(
    call: AwsCall, repository: str, registry: dict[str, str], limit: int = 5
) -> list[str]:
    found = _all_images(call, repository, registry)
    images = sorted(found, key=lambda d: d["imagePushedAt"], reverse=True)
    return [tag for image in images for tag in image.get("imageTags", [])][:limit]


def _image(uri: str, detail: dict[str, Any], because: str) -> Image:
    return Image(uri, detail["imageDigest"], tuple(detail.get("imageTags", [])), because)


class ImageUrl(Resolver):
    """Resolves to ``REPOSITORY_URI@sha256:...`` for the configured repository and tag."""

    def resolve(self) -> str:
        options: dict[str, Any] = self.argument or {}
        if not isinstance(options, dict) or not options.get("repository"):
            self.raise_invalid_argument_error(
                "!image_url needs a mapping with at least 'repository'"
            )
        tag = options.get("tag") or os.environ.get("IMAGE_TAG") or None
        group = self.stack.name.rpartition("/")[0] or "dev"
        image = find_image(
            stack_call(self),
            options["repository"],
            tag=tag,
            require_tag=bool(options.get("require_tag", False)),
            pipeline=f"{group}/pipeline.yaml",
            registry_id=str(options.get("registry_id") or ""),
        )
        return image.url
