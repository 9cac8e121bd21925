"""Stand-ins for the `docker` and `aws` commands of CodeBuild's image, for the build test.

No Docker engine runs here and CodeBuild is not emulated, so tests/test_build_step.py puts
these first on PATH (a mock, for what no emulator offers). They do what the real commands
do to the registry, against the emulator's ECR (AWS_ENDPOINT_URL): `docker push` puts an
image (refused by the registry as AWS refuses it, e.g. an immutable tag pushed twice),
`docker inspect` reads its digest back, and `aws ecr describe-images` answers as the AWS
CLI does, including its error line and exit code 254 for a service error
(docs.aws.amazon.com/cli/latest/userguide/cli-chap-retries.html#cli-usage-returncodes).

    python -m tests.codebuild_tools docker push URI:TAG
    python -m tests.codebuild_tools aws ecr describe-images --registry-id A --repository-name R ...

The registry is the image URI's account (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:
docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html), passed as registryId as
docker and the CLI address it: with an account per environment it is the tools account's.

Every invocation is appended to $CODEBUILD_TOOLS_LOG, one line each.
"""

import os
import sys

import boto3
from botocore.exceptions import ClientError

from emulator.seed import fake_manifest


def _ecr():
    return boto3.client("ecr", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def _split(reference: str) -> tuple[str, str, str]:
    """ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG -> (ACCOUNT, REPOSITORY, TAG)."""
    path, tag = reference.rsplit(":", 1)
    host, repository = path.split("/", 1)
    return host.split(".", 1)[0], repository, tag


def _digest(registry: str | None, repository: str, tag: str) -> str:
    """The digest of REPOSITORY:TAG in that account's registry (None: the caller's own)."""
    found = _ecr().describe_images(
        repositoryName=repository,
        imageIds=[{"imageTag": tag}],
        **({"registryId": registry} if registry else {}),
    )
    return found["imageDetails"][0]["imageDigest"]


def docker(args: list[str]) -> int:
    """docker login | build | push | inspect, as far as the build stage uses them."""
    command = args[0]
    if command == "login":
        sys.stdin.read()
        print("Login Succeeded")
    elif command == "build":
        print(f"built {args[args.index('--tag') + 1]}")
    elif command == "push":
        registry, repository, tag = _split(args[1])
        try:
            _ecr().put_image(
                registryId=registry,
                repositoryName=repository,
                imageManifest=fake_manifest(args[1]),
                imageTag=tag,
            )
        except ClientError as error:  # docker prints the registry's refusal and exits 1
            print(f"tag invalid: {error.response['Error']['Message']}", file=sys.stderr)
            return 1
        print(f"{tag}: digest: {_digest(registry, repository, tag)}")
    elif command == "inspect":
        reference = args[-1]
        print(f"{reference.rsplit(':', 1)[0]}@{_digest(*_split(reference))}")
    else:
        print(f"docker {command}: not emulated", file=sys.stderr)
        return 2
    return 0


def aws(args: list[str]) -> int:
    """aws ecr get-login-password | describe-images (with --query imageDetails[0].imageDigest)."""
    if args[:2] == ["ecr", "get-login-password"]:
        print("password")
        return 0
    if args[:2] == ["ecr", "describe-images"]:
        repository = args[args.index("--repository-name") + 1]
        tag = args[args.index("--image-ids") + 1].removeprefix("imageTag=")
        # Without --registry-id the CLI reads the caller's own registry.
        registry = args[args.index("--registry-id") + 1] if "--registry-id" in args else None
        try:
            print(_digest(registry, repository, tag))
        except ClientError as error:
            code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
            print(
                f"\nAn error occurred ({code}) when calling the DescribeImages operation: "
                f"{message}",
                file=sys.stderr,
            )
            return 254
        return 0
    print(f"aws {' '.join(args[:2])}: not emulated", file=sys.stderr)
    return 2


def main() -> int:
    tool, args = sys.argv[1], sys.argv[2:]
    with open(os.environ["CODEBUILD_TOOLS_LOG"], "a") as log:
        log.write(" ".join([tool, *args]) + "\n")
    return {"docker": docker, "aws": aws}[tool](args)


if __name__ == "__main__":
    sys.exit(main())
