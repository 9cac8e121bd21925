"""``!certificate_arn``: the ARN of the issued ACM certificate for a domain name.

CertificateArn: !certificate_arn product-service.example.com
CertificateArn: !certificate_arn arn:aws:acm:us-east-1:123456789012:certificate/...

An exact match wins over a wildcard (``*.example.com``); among several, the one that
expires last. Given an ARN, the resolver checks that the certificate exists and is issued,
and returns it. Only certificates in the stack's account and region count: that is where
a load balancer can use them.
"""

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from sceptre.resolvers import Resolver

from resolvers import AwsCall, LookupFailedError, paginate, stack_call


def _covers(certificate_name: str, domain: str) -> bool:
    if certificate_name == domain:
        return True
    # A wildcard covers exactly one label: *.example.com covers a.example.com, not a.b.example.com.
    return certificate_name.startswith("*.") and domain.partition(".")[2] == certificate_name[2:]


def _issued(call: AwsCall) -> list[dict[str, Any]]:
    kwargs = {"CertificateStatuses": ["ISSUED"]}
    return paginate(call, "acm", "list_certificates", kwargs, "CertificateSummaryList", "NextToken")


def find_certificate_arn(call: AwsCall, domain: str) -> str:
    """Return the ARN of the ISSUED certificate covering ``domain``.

    Exact names beat wildcards; among equals, the latest expiry wins. Raises
    LookupFailedError when no issued certificate covers the domain.
    """
    domain = domain.lower().rstrip(".")
    candidates = []
    for summary in _issued(call):
        names = {summary["DomainName"], *summary.get("SubjectAlternativeNameSummaries", [])}
        names = {name.lower() for name in names}
        if domain in names:
            candidates.append((1, summary["CertificateArn"]))
        elif any(_covers(name, domain) for name in names):
            candidates.append((0, summary["CertificateArn"]))
    if not candidates:
        raise LookupFailedError(
            f"!certificate_arn: no ISSUED ACM certificate for '{domain}' in this account and "
            "region. Request one with DNS validation, set load_balancer.hosted_zone_id in "
            "config/<env>/config.yaml to have the stack create it, or set "
            "load_balancer.domain_name to '' to serve plain HTTP."
        )
    best = max(exact for exact, _ in candidates)
    arns = [arn for exact, arn in candidates if exact == best]
    return max(arns, key=lambda arn: _not_after(call, arn))


def check_certificate_arn(call: AwsCall, arn: str) -> str:
    """Return ``arn`` if it names an ISSUED certificate; raise LookupFailedError otherwise."""
    try:
        certificate = call("acm", "describe_certificate", {"CertificateArn": arn})["Certificate"]
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
    return arn


def _not_after(call: AwsCall, arn: str) -> datetime:
    certificate = call("acm", "describe_certificate", {"CertificateArn": arn})["Certificate"]
    return certificate["NotAfter"]


class CertificateArn(Resolver):
    """Resolves to the ARN of the issued ACM certificate for a domain, or checks a given ARN."""

    def resolve(self) -> str:
        if not isinstance(self.argument, str) or not self.argument.strip():
            self.raise_invalid_argument_error(
                "!certificate_arn takes the domain name the certificate is for, or its ARN"
            )
        argument = self.argument.strip()
        if argument.startswith("arn:"):
            return check_certificate_arn(stack_call(self), argument)
        return find_certificate_arn(stack_call(self), argument)
