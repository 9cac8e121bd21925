"""Tests for the !certificate_arn resolver against the seeded emulator."""

import subprocess
import uuid
from types import SimpleNamespace

import pytest
from sceptre.connection_manager import ConnectionManager
from sceptre.exceptions import InvalidResolverArgumentError

from emulator.process import EMULATOR_PYTHON, ROOT
from emulator.seed import PROD_DOMAIN
from resolvers import LookupFailedError
from resolvers.certificate_arn import CertificateArn


@pytest.fixture
def stack(aws_env):
    cm = ConnectionManager(region="us-east-1")
    return SimpleNamespace(connection_manager=cm, name="prod/lb", external_name="prod-lb")


def import_certificate(aws, domain: str, days: int = 365) -> str:
    """Import a self-signed certificate for domain (made by the emulator's own Python)."""
    script = (
        "import sys; from seed import self_signed_certificate; "
        f"cert, key = self_signed_certificate({domain!r}, {days}); "
        "sys.stdout.write(cert.decode() + '\\x00' + key.decode())"
    )
    made = subprocess.run(
        [str(EMULATOR_PYTHON), "-c", script],
        cwd=ROOT / "emulator",
        capture_output=True,
        text=True,
        check=True,
    )
    cert, key = made.stdout.split("\x00")
    return aws("acm").import_certificate(Certificate=cert.encode(), PrivateKey=key.encode())[
        "CertificateArn"
    ]


def resolve(stack, domain: str) -> str:
    return CertificateArn(argument=domain, stack=stack).resolve()


def test_the_seeded_certificate_is_found_for_prods_domain(stack, aws):
    issued = aws("acm").list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"]
    seeded = [c["CertificateArn"] for c in issued if c["DomainName"] == PROD_DOMAIN]

    assert resolve(stack, PROD_DOMAIN) == seeded[0]
    assert resolve(stack, PROD_DOMAIN.upper() + ".") == seeded[0]  # DNS names ignore case


def test_an_exact_name_beats_a_wildcard(stack, aws):
    zone = f"z{uuid.uuid4().hex[:8]}.example.org"
    wildcard = import_certificate(aws, f"*.{zone}")
    exact = import_certificate(aws, f"api.{zone}")

    assert resolve(stack, f"api.{zone}") == exact
    assert resolve(stack, f"web.{zone}") == wildcard
    with pytest.raises(LookupFailedError):
        resolve(stack, f"deep.web.{zone}")  # a wildcard covers one label only


def test_of_two_certificates_the_one_expiring_last_wins(stack, aws):
    domain = f"api.z{uuid.uuid4().hex[:8]}.example.org"
    import_certificate(aws, domain, days=30)
    later = import_certificate(aws, domain, days=300)

    assert resolve(stack, domain) == later


def test_a_certificate_still_pending_validation_is_not_used(stack, aws):
    domain = f"api.z{uuid.uuid4().hex[:8]}.example.org"
    aws("acm").request_certificate(DomainName=domain, ValidationMethod="DNS")

    with pytest.raises(LookupFailedError) as error:
        resolve(stack, domain)

    message = str(error.value)
    assert f"no ISSUED ACM certificate for '{domain}'" in message
    assert "load_balancer.hosted_zone_id" in message and "domain_name" in message


@pytest.mark.parametrize("argument", [None, "", ["a.example.org"]], ids=["none", "empty", "list"])
def test_bad_argument_is_rejected(stack, argument):
    with pytest.raises(InvalidResolverArgumentError, match="!certificate_arn"):
        CertificateArn(argument=argument, stack=stack).resolve()


def test_a_given_arn_of_an_issued_certificate_is_returned(stack, aws):
    arn = import_certificate(aws, f"api.z{uuid.uuid4().hex[:8]}.example.org")

    assert resolve(stack, arn) == arn


def test_a_given_arn_still_pending_validation_is_refused(stack, aws):
    domain = f"api.z{uuid.uuid4().hex[:8]}.example.org"
    arn = aws("acm").request_certificate(DomainName=domain, ValidationMethod="DNS")[
        "CertificateArn"
    ]

    with pytest.raises(LookupFailedError, match="is PENDING_VALIDATION, not ISSUED"):
        resolve(stack, arn)


def test_a_given_arn_that_does_not_exist_is_refused(stack):
    arn = f"arn:aws:acm:us-east-1:123456789012:certificate/{uuid.uuid4()}"

    with pytest.raises(LookupFailedError, match="load_balancer.certificate_arn"):
        resolve(stack, arn)
