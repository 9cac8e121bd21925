"""``!certificate_arn``: the ARN of the issued ACM certificate for a domain name.

CertificateArn: !certificate_arn product-service.example.com
CertificateArn: !certificate_arn arn:aws:acm:us-east-1:123456789012:certificate/...

A certificate covers the domain by its name or by one of its subject alternative names,
exactly or as a wildcard (``*.example.com``). An exact name wins over a wildcard; among
several, the one that expires last. Only ISSUED certificates with a key an Application Load
Balancer takes count. Given an ARN, the resolver checks that the certificate exists, is
issued and has such a key, and returns it. Only certificates in the stack's account and
region count: that is where a load balancer can use them.
"""

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from sceptre.resolvers import Resolver

from resolvers import AwsCall, LookupFailedError, paginate, stack_call

# The keys an Application Load Balancer takes from ACM: "ACM supports RSA certificates with
# 2048, 3072, and 4096-bit key lengths, and all ECDSA certificates"
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/https-listener-certificates.html).
# ListCertificates must ask for them: "Default filtering returns only RSA_1024 and RSA_2048
# certificates" (https://docs.aws.amazon.com/acm/latest/APIReference/API_Filters.html).
ALB_KEY_TYPES = (
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
)
# Every key type ACM has (API_Filters.html, keyTypes valid values): used only to explain why
# no certificate fits.
ACM_KEY_TYPES = ("RSA_1024", *ALB_KEY_TYPES)


def covers(name: str, domain: str) -> bool:
    """Whether a certificate name (subject or alternative name) covers ``domain``.

    A wildcard is leftmost and covers one label: *.example.com covers a.example.com, not
    a.b.example.com nor example.com itself (https-listener-certificates.html, above).
    """
    if name == domain:
        return True
    return name.startswith("*.") and domain.partition(".")[2] == name[2:]


def _normal(name: str) -> str:
    return name.lower().rstrip(".")  # DNS names ignore case and the root's dot


def _certificates(
    call: AwsCall, statuses: list[str] | None, key_types: tuple[str, ...]
) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"Includes": {"keyTypes": list(key_types)}}
    if statuses:
        kwargs["CertificateStatuses"] = statuses
    return paginate(call, "acm", "list_certificates", kwargs, "CertificateSummaryList", "NextToken")


def _names(call: AwsCall, summary: dict[str, Any]) -> set[str]:
    """Every name of a listed certificate: a summary holds only the first 100 alternative
    names (API_CertificateSummary.html), DescribeCertificate all of them."""
    names = [summary.get("DomainName", ""), *summary.get("SubjectAlternativeNameSummaries", [])]
    if summary.get("HasAdditionalSubjectAlternativeNames"):
        detail = _describe(call, summary["CertificateArn"])
        names += detail.get("SubjectAlternativeNames", [])
    return {_normal(name) for name in names if name}


def _describe(call: AwsCall, arn: str) -> dict[str, Any]:
    return call("acm", "describe_certificate", {"CertificateArn": arn})["Certificate"]


def find_certificate_arn(call: AwsCall, domain: str) -> str:
    """Return the ARN of the ISSUED certificate, with a key a load balancer takes, covering
    ``domain`` by name or alternative name.

    Exact names beat wildcards; among equals, the latest expiry wins. Raises
    LookupFailedError when none does, naming any certificate that covers the domain but
    cannot serve it, and why.
    """
    domain = _normal(domain)
    candidates: list[tuple[int, datetime, str]] = []
    for summary in _certificates(call, ["ISSUED"], ALB_KEY_TYPES):
        names = _names(call, summary)
        if not any(covers(name, domain) for name in names):
            continue
        not_after = (
            summary.get("NotAfter") or _describe(call, summary["CertificateArn"])["NotAfter"]
        )
        candidates.append((int(domain in names), not_after, summary["CertificateArn"]))
    if not candidates:
        raise LookupFailedError(_none_found(call, domain))
    return max(candidates)[2]


def _none_found(call: AwsCall, domain: str) -> str:
    message = (
        f"!certificate_arn: no ISSUED ACM certificate for '{domain}' in this account and "
        "region. Request one with DNS validation, set load_balancer.hosted_zone_id in "
        "config/<env>/config.yaml to have the stack create it, or set "
        "load_balancer.domain_name to '' to serve plain HTTP."
    )
    unusable = []
    for summary in _certificates(call, None, ACM_KEY_TYPES):
        if not any(covers(name, domain) for name in _names(call, summary)):
            continue
        arn, status, key = summary["CertificateArn"], summary["Status"], summary["KeyAlgorithm"]
        if status != "ISSUED":
            unusable.append(f"{arn} is {status}")
        elif key not in ALB_KEY_TYPES:
            unusable.append(f"{arn} has a {key} key, which a load balancer does not take")
    if unusable:
        message += " Found but unusable: " + "; ".join(unusable) + "."
    return message


def check_certificate_arn(call: AwsCall, arn: str) -> str:
    """Return ``arn`` if it names an ISSUED certificate with a key a load balancer takes;
    raise LookupFailedError otherwise."""
    try:
        certificate = _describe(call, arn)
    except ClientError as error:
        if error.response["Error"]["Code"] not in (
            "ResourceNotFoundException",
            "ValidationException",
        ):
            raise
        raise LookupFailedError(
            f"!certificate_arn: no ACM certificate {arn} in this account and region; "
            "check load_balancer.certificate_arn in config/<env>/config.yaml."
        ) from None
    if certificate["Status"] != "ISSUED":
        raise LookupFailedError(
            f"!certificate_arn: certificate {arn} is {certificate['Status']}, not ISSUED; "
            "finish its validation or set another load_balancer.certificate_arn."
        )
    if certificate.get("KeyAlgorithm") not in ALB_KEY_TYPES:
        raise LookupFailedError(
            f"!certificate_arn: certificate {arn} has a {certificate.get('KeyAlgorithm')} key; "
            f"a load balancer takes {', '.join(ALB_KEY_TYPES)}. Set another "
            "load_balancer.certificate_arn."
        )
    return arn


class CertificateArn(Resolver):
    """Resolves to the ARN of the issued ACM certificate for a domain, or checks a given ARN."""

    def resolve(self) -> str:
        """The certificate's ARN; raises LookupFailedError when none can serve."""
        if not isinstance(self.argument, str) or not self.argument.strip():
            self.raise_invalid_argument_error(
                "!certificate_arn takes the domain name the certificate is for, or its ARN"
            )
        argument = self.argument.strip()
        if argument.startswith("arn:"):
            return check_certificate_arn(stack_call(self), argument)
        return find_certificate_arn(stack_call(self), argument)
