"""ListCertificates answered as ACM answers it.

What moto 5.2.5 does (moto/acm/responses.py and models.py, ``list_certificates``):

- Without ``Includes.keyTypes`` it lists every certificate. ACM then lists only RSA_1024 and
  RSA_2048 certificates that have at least one domain, so an ECDSA certificate is found only
  by a caller that asks for its key type
  (https://docs.aws.amazon.com/acm/latest/APIReference/API_Filters.html, "keyTypes").
- Each summary is DescribeCertificate's CertificateDetail. The serializer drops what
  CertificateSummary does not name (SubjectAlternativeNames), and what the summary names
  but the detail lacks is missing: SubjectAlternativeNameSummaries,
  HasAdditionalSubjectAlternativeNames, ExportOption, KeyUsages; ExtendedKeyUsages is
  always empty, and Exported reads the export *option*, not whether the certificate was
  exported (https://docs.aws.amazon.com/acm/latest/APIReference/API_CertificateSummary.html).
- MaxItems, NextToken, SortBy and SortOrder are ignored: one page holds everything
  (https://docs.aws.amazon.com/acm/latest/APIReference/API_ListCertificates.html).

What this module does instead, replacing only the ListCertificates handler of moto's ACM
responses and wrapping its backend's export (to remember an export):

- keyTypes defaults as on ACM; CertificateStatuses and ``exportOption`` filter as before;
- summaries carry the fields CertificateSummary names, computed from the certificate;
- pages of MaxItems (1 to 1000), with an opaque NextToken; SortBy=CREATED_AT sorts.

Gaps left: the ``keyUsage``, ``extendedKeyUsage`` and ``managedBy`` filters are ignored
(ACM does not document whether several values mean any or all); without MaxItems every
certificate comes in one page (ACM's own page size is not documented); a request without
keyTypes for a certificate without any domain cannot occur here (moto requires a domain).
"""

import base64
from collections.abc import Iterable
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from moto.acm import models as acm
from moto.acm.exceptions import AWSError, AWSValidationException
from moto.acm.responses import AWSCertificateManagerResponse
from moto.core.responses import ActionResult

# API_Filters.html, keyTypes: "Default filtering returns only RSA_1024 and RSA_2048
# certificates that have at least one domain."
DEFAULT_KEY_TYPES = ("RSA_1024", "RSA_2048")
# API_ListCertificates.html, MaxItems: "Valid Range: Minimum value of 1. Maximum value of 1000."
MAX_ITEMS = 1000
# API_CertificateSummary.html, SubjectAlternativeNameSummaries: "When called by
# ListCertificates, this parameter will only return the first 100 subject alternative names".
SAN_SUMMARY_LIMIT = 100
# Statuses of a certificate ACM has not issued: it has no validity period, no IssuedAt.
NOT_ISSUED = {"PENDING_VALIDATION", "VALIDATION_TIMED_OUT", "FAILED"}

# KeyUsage and ExtendedKeyUsage names of API_CertificateSummary.html (KeyUsageName,
# ExtendedKeyUsageName valid values), from the X.509 extensions of the certificate.
_KEY_USAGES = {
    "digital_signature": "DIGITAL_SIGNATURE",
    "content_commitment": "NON_REPUDIATION",
    "key_encipherment": "KEY_ENCIPHERMENT",
    "data_encipherment": "DATA_ENCIPHERMENT",
    "key_agreement": "KEY_AGREEMENT",
    "key_cert_sign": "CERTIFICATE_SIGNING",
    "crl_sign": "CRL_SIGNING",
}
_AGREEMENT_ONLY = {"encipher_only": "ENCIPHER_ONLY", "decipher_only": "DECIPHER_ONLY"}
_EXTENDED_KEY_USAGES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "TLS_WEB_SERVER_AUTHENTICATION",
    ExtendedKeyUsageOID.CLIENT_AUTH: "TLS_WEB_CLIENT_AUTHENTICATION",
    ExtendedKeyUsageOID.CODE_SIGNING: "CODE_SIGNING",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "EMAIL_PROTECTION",
    ExtendedKeyUsageOID.TIME_STAMPING: "TIME_STAMPING",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSP_SIGNING",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "ANY",
}


class InvalidArgsException(AWSError):
    """ACM's error for a request parameter it cannot use (API_ListCertificates.html, Errors)."""

    TYPE = "InvalidArgsException"


def _key_usages(certificate: x509.Certificate) -> list[str]:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return []
    names = [name for attribute, name in _KEY_USAGES.items() if getattr(usage, attribute)]
    if usage.key_agreement:  # encipher_only and decipher_only exist only with key_agreement
        names += [name for attribute, name in _AGREEMENT_ONLY.items() if getattr(usage, attribute)]
    return names


def _extended_key_usages(certificate: x509.Certificate) -> list[str]:
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return []
    return [_EXTENDED_KEY_USAGES.get(oid, "CUSTOM") for oid in usages]


def summary(bundle: acm.CertBundle) -> dict[str, Any]:
    """The CertificateSummary ACM's ListCertificates returns for one certificate."""
    detail = bundle.describe()["Certificate"]
    names = list(bundle.sans) or ([bundle.common_name] if bundle.common_name else [])
    result: dict[str, Any] = {
        "CertificateArn": bundle.arn,
        "DomainName": bundle.common_name,
        "SubjectAlternativeNameSummaries": names[:SAN_SUMMARY_LIMIT],
        "HasAdditionalSubjectAlternativeNames": len(names) > SAN_SUMMARY_LIMIT,
        "Status": bundle.status,
        "Type": bundle.type,
        "KeyAlgorithm": detail["KeyAlgorithm"],
        "KeyUsages": _key_usages(bundle._cert),
        "ExtendedKeyUsages": _extended_key_usages(bundle._cert),
        "ExportOption": bundle.cert_options.get("Export", "DISABLED"),
        "InUse": bool(bundle.in_use_by),
        "Exported": getattr(bundle, "exported", False),
        "RenewalEligibility": detail["RenewalEligibility"],
    }
    issued = not (bundle.type == "AMAZON_ISSUED" and bundle.status in NOT_ISSUED)
    if issued:
        result |= {"NotBefore": detail["NotBefore"], "NotAfter": detail["NotAfter"]}
    for key in ("CreatedAt", "ImportedAt") + (("IssuedAt",) if issued else ()):
        if key in detail:
            result[key] = detail[key]
    return result


def listed(
    bundles: Iterable[acm.CertBundle], statuses: list[str] | None, includes: dict[str, Any]
) -> list[acm.CertBundle]:
    """The certificates ListCertificates lists, with ACM's default for ``keyTypes``."""
    key_types = includes.get("keyTypes") or DEFAULT_KEY_TYPES
    by_default = not includes.get("keyTypes")
    export = includes.get("exportOption")
    found = []
    for bundle in bundles:
        bundle.check()  # an imported certificate past NotAfter becomes EXPIRED
        if statuses and bundle.status not in statuses:
            continue
        if bundle.describe()["Certificate"]["KeyAlgorithm"] not in key_types:
            continue
        if by_default and not (bundle.common_name or bundle.sans):
            continue
        if export and bundle.cert_options.get("Export", "DISABLED") != export:
            continue
        found.append(bundle)
    return found


def _token(arn: str) -> str:
    return base64.urlsafe_b64encode(arn.encode()).decode()


def _start(bundles: list[acm.CertBundle], token: str | None) -> int:
    if token is None:
        return 0
    try:
        arn = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        arn = None
    for index, bundle in enumerate(bundles):
        if bundle.arn == arn:
            return index
    # The emulator's wording: ACM documents the exception, not its text for a bad token.
    raise InvalidArgsException(message=f"The NextToken {token!r} is not valid.")


def list_certificates(self: AWSCertificateManagerResponse) -> ActionResult:
    """ListCertificates: filters, summaries and pages as ACM has them."""
    max_items = self._get_param("MaxItems")
    if max_items is not None and int(max_items) > MAX_ITEMS:
        # The wording of AWS's JSON services for a range violation, as quoted in
        # https://github.com/rebuy-de/aws-nuke/issues/1074 ("1 validation error detected: Value
        # '100' at 'maxResults' failed to satisfy constraint: Member must have value less than
        # or equal to 50"). A value under 1 never leaves botocore, which checks the minimum.
        raise AWSValidationException(
            f"1 validation error detected: Value '{max_items}' at 'maxItems' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_ITEMS}"
        )
    bundles = listed(
        self.acm_backend._certificates.values(),
        self._get_param("CertificateStatuses"),
        self._get_param("Includes") or {},
    )
    if self._get_param("SortBy") == "CREATED_AT":
        descending = self._get_param("SortOrder") == "DESCENDING"
        bundles.sort(key=lambda bundle: bundle.created_at, reverse=descending)
    start = _start(bundles, self._get_param("NextToken"))
    end = len(bundles) if max_items is None else start + int(max_items)
    result: dict[str, Any] = {"CertificateSummaryList": [summary(b) for b in bundles[start:end]]}
    if end < len(bundles):
        result["NextToken"] = _token(bundles[end].arn)
    return ActionResult(result=result)


def _export_certificate(original: Any) -> Any:
    def export_certificate(self: acm.AWSCertificateManagerBackend, **kwargs: Any) -> Any:
        exported = original(self, **kwargs)
        self.get_certificate(kwargs["certificate_arn"]).exported = True
        return exported

    return export_certificate


def install() -> None:
    """Replace moto's ListCertificates handler; note exports on the backend."""
    AWSCertificateManagerResponse.list_certificates = list_certificates  # type: ignore[method-assign]
    backend = acm.AWSCertificateManagerBackend
    if not getattr(backend.export_certificate, "_remembers_exports", False):
        backend.export_certificate = _export_certificate(backend.export_certificate)  # type: ignore[method-assign]
        backend.export_certificate._remembers_exports = True  # type: ignore[attr-defined]
