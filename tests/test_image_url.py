"""Tests for the !image_url resolver against the seeded ECR repository."""

import logging
import time
import uuid
from types import SimpleNamespace

import pytest
from sceptre.connection_manager import ConnectionManager
from sceptre.exceptions import InvalidResolverArgumentError

from emulator.seed import fake_manifest
from resolvers import LookupFailedError, connection_call
from resolvers.image_url import ImageUrl, find_image

SEEDED = "product-service"  # tags 1.0.0, then 1.1.0


@pytest.fixture
def stack(aws_env):
    cm = ConnectionManager(region="us-east-1")
    return SimpleNamespace(connection_manager=cm, name="dev/service", external_name="dev-service")


@pytest.fixture
def own_repo(aws):
    """An empty repository of this test's own."""
    name = f"image-url-test-{uuid.uuid4().hex[:8]}"
    aws("ecr").create_repository(repositoryName=name)
    return name


def expected_url(ecr, repository, tag):
    uri = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]
    image = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    return f"{uri['repositoryUri']}@{image['imageDetails'][0]['imageDigest']}"


def resolve(stack, **argument):
    return ImageUrl(argument=argument, stack=stack).resolve()


def test_explicit_tag_is_pinned_by_digest(stack, aws):
    url = resolve(stack, repository=SEEDED, tag="1.0.0")

    assert url == expected_url(aws("ecr"), SEEDED, "1.0.0")
    assert url != expected_url(aws("ecr"), SEEDED, "1.1.0")


def test_no_tag_takes_the_newest_image_and_warns(stack, aws, own_repo, caplog):
    ecr = aws("ecr")
    older, newer = f"z-older-{uuid.uuid4().hex[:8]}", f"a-newer-{uuid.uuid4().hex[:8]}"
    ecr.put_image(repositoryName=own_repo, imageManifest=fake_manifest(older), imageTag=older)
    time.sleep(1.1)  # push times are kept to the second
    ecr.put_image(repositoryName=own_repo, imageManifest=fake_manifest(newer), imageTag=newer)
    caplog.set_level(logging.WARNING)

    url = resolve(stack, repository=own_repo, tag="", require_tag=False)

    assert url == expected_url(ecr, own_repo, newer)
    (record,) = [r for r in caplog.records if r.name == "sceptre.resolvers.image_url"]
    assert record.levelno == logging.WARNING
    assert own_repo in record.getMessage()
    assert url.split("@")[1] in record.getMessage()
    assert newer in record.getMessage()


def test_require_tag_without_tag_fails(stack):
    with pytest.raises(LookupFailedError) as error:
        resolve(stack, repository=SEEDED, tag="", require_tag=True)

    assert "--var image_tag" in str(error.value)


def test_image_tag_env_var_is_used_when_tag_is_empty(stack, aws, monkeypatch):
    monkeypatch.setenv("IMAGE_TAG", "1.0.0")  # not the newest

    assert resolve(stack, repository=SEEDED, tag="") == expected_url(aws("ecr"), SEEDED, "1.0.0")
    assert resolve(stack, repository=SEEDED, tag="", require_tag=True) == expected_url(
        aws("ecr"), SEEDED, "1.0.0"
    )


def test_explicit_tag_wins_over_env_var(stack, aws, monkeypatch):
    monkeypatch.setenv("IMAGE_TAG", "1.0.0")

    assert resolve(stack, repository=SEEDED, tag="1.1.0") == expected_url(
        aws("ecr"), SEEDED, "1.1.0"
    )


def test_missing_repository_is_named(stack):
    name = f"no-such-repo-{uuid.uuid4().hex[:8]}"
    with pytest.raises(LookupFailedError) as error:
        resolve(stack, repository=name, tag="1.0.0")

    assert f"no ECR repository named '{name}'" in str(error.value)
    assert "sceptre launch -y shared" in str(error.value)  # the stack that creates it


def test_missing_tag_lists_recent_tags(stack):
    with pytest.raises(LookupFailedError) as error:
        resolve(stack, repository=SEEDED, tag="9.9.9")

    message = str(error.value)
    assert "no image tagged '9.9.9'" in message
    assert "recent tags: 1.1.0, 1.0.0" in message


@pytest.mark.parametrize(
    ("tag", "says"),
    [("", "has no images"), ("1.0.0", "the repository is empty")],
    ids=["newest", "tagged"],
)
def test_empty_repository_fails(stack, own_repo, tag, says):
    with pytest.raises(LookupFailedError) as error:
        resolve(stack, repository=own_repo, tag=tag)

    assert own_repo in str(error.value)
    assert says in str(error.value)


def test_an_empty_repository_says_how_the_first_image_gets_there(stack, aws, own_repo):
    """On a new account the repository is empty until the pipeline's first build pushes."""
    with pytest.raises(LookupFailedError) as error:
        resolve(stack, repository=own_repo, tag="")

    message = str(error.value)
    uri = aws("ecr").describe_repositories(repositoryNames=[own_repo])["repositories"][0]
    # The stack is dev/service: the pipeline of its own environment is the one named.
    assert "sceptre --ignore-dependencies launch -y dev/pipeline.yaml" in message
    assert f"docker push {uri['repositoryUri']}:TAG" in message


@pytest.mark.parametrize(
    "argument",
    [None, {"tag": "1.0.0"}, {"repository": ""}, ["product-service"]],
    ids=["none", "no-repository", "empty-repository", "list"],
)
def test_repository_argument_is_required(stack, argument):
    with pytest.raises(InvalidResolverArgumentError) as error:
        ImageUrl(argument=argument, stack=stack).resolve()

    assert "'repository'" in str(error.value)


def test_require_tag_refuses_a_repository_whose_tags_can_move(stack, aws):
    name = f"mutable-{uuid.uuid4().hex[:8]}"
    ecr = aws("ecr")
    ecr.create_repository(repositoryName=name, imageTagMutability="MUTABLE")
    ecr.put_image(repositoryName=name, imageManifest=fake_manifest("v1"), imageTag="v1")
    with pytest.raises(LookupFailedError, match="lets a tag be pushed again"):
        resolve(stack, repository=name, tag="v1", require_tag=True)
    # dev, which does not require a tag, may still use it
    assert resolve(stack, repository=name, tag="v1") == expected_url(ecr, name, "v1")


# --- an account per environment: the repository in the tools account's registry ---

# The emulator's account (moto's default), so the registry of these calls is the caller's own:
# the emulator serving another account's registry is tested with the emulator itself.
ACCOUNT = "123456789012"


def spy(call):
    """The AWS call the resolver makes, recorded on its way to the emulator."""
    seen = []

    def recorded(service, method, kwargs):
        seen.append((service, method, dict(kwargs)))
        return call(service, method, kwargs)

    return recorded, seen


@pytest.mark.parametrize("tag", ["1.0.0", ""], ids=["tagged", "newest"])
def test_registry_id_is_passed_to_every_ecr_call(stack, aws, tag):
    """ECR's DescribeRepositories and DescribeImages take registryId, the account whose registry
    is read; without it, the caller's own (docs.aws.amazon.com/AmazonECR/latest/APIReference/
    API_DescribeImages.html)."""
    call, seen = spy(connection_call(stack.connection_manager))

    image = find_image(call, SEEDED, tag=tag, registry_id=ACCOUNT)

    if tag:  # the newest image depends on what other tests pushed to the seeded repository
        assert image.url == expected_url(aws("ecr"), SEEDED, tag)
    assert {method for _, method, _ in seen} >= {"describe_repositories", "describe_images"}
    assert all(kwargs.get("registryId") == ACCOUNT for _, _, kwargs in seen)


def test_no_registry_id_reads_the_callers_own_registry(stack):
    call, seen = spy(connection_call(stack.connection_manager))

    find_image(call, SEEDED, tag="1.0.0")

    assert seen and all("registryId" not in kwargs for _, _, kwargs in seen)


def test_the_resolver_takes_registry_id(stack, aws):
    url = resolve(stack, repository=SEEDED, tag="1.0.0", registry_id=ACCOUNT)

    assert url == expected_url(aws("ecr"), SEEDED, "1.0.0")
    # A repository URI begins with the registry's account: ACCOUNT.dkr.ecr.REGION.amazonaws.com
    # (docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html).
    assert url.startswith(f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{SEEDED}@sha256:")


def test_a_missing_repository_names_the_registry_account(stack):
    name = f"no-such-repo-{uuid.uuid4().hex[:8]}"
    with pytest.raises(LookupFailedError) as error:
        resolve(stack, repository=name, tag="1.0.0", registry_id=ACCOUNT)

    assert f"no ECR repository named '{name}' in the registry of account {ACCOUNT}" in str(
        error.value
    )
