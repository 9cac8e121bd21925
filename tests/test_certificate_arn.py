"""Tests for the !certificate_arn resolver against the seeded emulator.

What ACM and the load balancer do, from AWS's documentation:
- ListCertificates without Includes.keyTypes lists only RSA_1024 and RSA_2048 certificates
  (https://docs.aws.amazon.com/acm/latest/APIReference/API_Filters.html, keyTypes);
- an Application Load Balancer takes "RSA certificates with 2048, 3072, and 4096-bit key
  lengths, and all ECDSA certificates"; a wildcard "can protect only one subdomain level" and
  "does not protect the bare or apex domain"
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/https-listener-certificates.html);
- a summary holds "only the first 100 subject alternative names"
  (https://docs.aws.amazon.com/acm/latest/APIReference/API_CertificateSummary.html).
"""

import time
import uuid
from types import SimpleNamespace

import pytest
from sceptre.connection_manager import ConnectionManager
from sceptre.exceptions import InvalidResolverArgumentError

from emulator.seed import PROD_DOMAIN
from emulator.tests.test_acm_listing import import_certificates
from resolvers import LookupFailedError
from resolvers.certificate_arn import CertificateArn


@pytest.fixture
def stack(aws_env):
    cm = ConnectionManager(region="us-east-1")
    return SimpleNamespace(connection_manager=cm, name="prod/lb", external_name="prod-lb")


def import_certificate(aws, domain: str, days: float = 365, **spec) -> str:
    """Import a self-signed certificate for domain (ECDSA P-256 unless key_algorithm says)."""
    return import_certificates(aws("acm"), {"domain": domain, "days": days, **spec})[0]


def zone() -> str:
    return f"z{uuid.uuid4().hex[:8]}.example.org"


def resolve(stack, domain: str) -> str:
    return CertificateArn(argument=domain, stack=stack).resolve()


def test_the_seeded_ecdsa_certificate_is_found_though_acm_lists_only_rsa_by_default(stack, aws):
    acm = aws("acm")
    ecdsa = acm.list_certificates(
        CertificateStatuses=["ISSUED"], Includes={"keyTypes": ["EC_prime256v1"]}
    )["CertificateSummaryList"]
    seeded = [c["CertificateArn"] for c in ecdsa if c["DomainName"] == PROD_DOMAIN]
    by_default = acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"]

    assert len(seeded) == 1
    assert seeded[0] not in {c["CertificateArn"] for c in by_default}  # hidden by default
    assert resolve(stack, PROD_DOMAIN) == seeded[0]
    assert resolve(stack, PROD_DOMAIN.upper() + ".") == seeded[0]  # DNS names ignore case


@pytest.mark.parametrize("key_algorithm", ["EC_prime256v1", "EC_secp384r1", "RSA_2048"])
def test_every_key_type_a_load_balancer_takes_is_found(stack, aws, key_algorithm):
    domain = f"api.{zone()}"
    arn = import_certificate(aws, domain, key_algorithm=key_algorithm)

    assert resolve(stack, domain) == arn


def test_a_certificate_is_found_by_its_alternative_name_alone(stack, aws):
    z = zone()
    arn = import_certificate(aws, f"www.{z}", sans=(f"api.{z}",))

    assert resolve(stack, f"api.{z}") == arn


def test_a_wildcard_alternative_name_covers_one_level_below_it(stack, aws):
    z = zone()
    arn = import_certificate(aws, f"www.{z}", sans=(f"*.{z}",))

    assert resolve(stack, f"shop.{z}") == arn
    with pytest.raises(LookupFailedError):
        resolve(stack, f"deep.shop.{z}")  # one subdomain level only
    with pytest.raises(LookupFailedError):
        resolve(stack, z)  # not the apex


def test_a_name_past_the_summarys_first_100_is_found(stack, aws):
    z = zone()
    names = tuple(f"n{i}.{z}" for i in range(101))  # with the subject, 102 names
    arn = import_certificate(aws, f"www.{z}", sans=names)

    assert resolve(stack, f"n100.{z}") == arn


def test_an_exact_name_beats_a_wildcard(stack, aws):
    z = zone()
    wildcard = import_certificate(aws, f"*.{z}")
    exact = import_certificate(aws, f"api.{z}")

    assert resolve(stack, f"api.{z}") == exact
    assert resolve(stack, f"web.{z}") == wildcard
    with pytest.raises(LookupFailedError):
        resolve(stack, f"deep.web.{z}")  # a wildcard covers one label only


def test_of_two_certificates_the_one_expiring_last_wins(stack, aws):
    domain = f"api.{zone()}"
    import_certificate(aws, domain, days=30)
    later = import_certificate(aws, domain, days=300)

    assert resolve(stack, domain) == later


def test_an_expired_certificate_is_not_used(stack, aws):
    z = zone()
    expired = import_certificate(aws, f"api.{z}", days=3 / 86400)  # valid for 3 s
    wildcard = import_certificate(aws, f"*.{z}")
    time.sleep(4)

    assert resolve(stack, f"api.{z}") == wildcard  # the exact name has expired
    aws("acm").delete_certificate(CertificateArn=wildcard)
    with pytest.raises(LookupFailedError) as error:
        resolve(stack, f"api.{z}")
    assert f"{expired} is EXPIRED" in str(error.value)


def test_a_certificate_still_pending_validation_is_not_used(stack, aws):
    domain = f"api.{zone()}"
    arn = aws("acm").request_certificate(DomainName=domain, ValidationMethod="DNS")[
        "CertificateArn"
    ]

    with pytest.raises(LookupFailedError) as error:
        resolve(stack, domain)

    message = str(error.value)
    assert f"no ISSUED ACM certificate for '{domain}'" in message
    assert "load_balancer.hosted_zone_id" in message and "domain_name" in message
    assert f"{arn} is PENDING_VALIDATION" in message


def test_an_rsa_1024_certificate_is_not_used(stack, aws):
    domain = f"api.{zone()}"
    arn = import_certificate(aws, domain, key_algorithm="RSA_1024")

    with pytest.raises(LookupFailedError) as error:
        resolve(stack, domain)
    assert f"{arn} has a RSA_1024 key, which a load balancer does not take" in str(error.value)
    with pytest.raises(LookupFailedError, match="has a RSA_1024 key"):
        resolve(stack, arn)


@pytest.mark.parametrize("argument", [None, "", ["a.example.org"]], ids=["none", "empty", "list"])
def test_bad_argument_is_rejected(stack, argument):
    with pytest.raises(InvalidResolverArgumentError, match="!certificate_arn"):
        CertificateArn(argument=argument, stack=stack).resolve()


def test_a_given_arn_of_an_issued_certificate_is_returned(stack, aws):
    arn = import_certificate(aws, f"api.{zone()}")

    assert resolve(stack, arn) == arn


def test_a_given_arn_still_pending_validation_is_refused(stack, aws):
    domain = f"api.{zone()}"
    arn = aws("acm").request_certificate(DomainName=domain, ValidationMethod="DNS")[
        "CertificateArn"
    ]

    with pytest.raises(LookupFailedError, match="is PENDING_VALIDATION, not ISSUED"):
        resolve(stack, arn)


def test_a_given_arn_that_does_not_exist_is_refused(stack):
    arn = f"arn:aws:acm:us-east-1:123456789012:certificate/{uuid.uuid4()}"

    with pytest.raises(LookupFailedError, match="load_balancer.certificate_arn"):
        resolve(stack, arn)
