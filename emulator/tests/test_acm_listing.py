"""emulator/acm_listing.py: ListCertificates filters, summarizes and pages as ACM does.

Each expected value comes from ACM's API reference, cited where it is used. The module
runs its own unseeded emulator, so every certificate listed is one a test imported.
"""

import datetime
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.process import EMULATOR_PYTHON, ROOT, Emulator

LIST_CERTIFICATES = "https://docs.aws.amazon.com/acm/latest/APIReference/API_ListCertificates.html"


def make_certificates(*specs: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """Self-signed certificates and keys, one per spec of emulator.seed.self_signed_certificate's
    keyword arguments (domain, days, sans, key_algorithm), made in one run of the emulator's
    Python (the project's has no cryptography)."""
    script = (
        "import json, sys\n"
        "from emulator.seed import self_signed_certificate\n"
        "specs = json.load(sys.stdin)\n"
        "pairs = [self_signed_certificate(**spec) for spec in specs]\n"
        "json.dump([[c.decode(), k.decode()] for c, k in pairs], sys.stdout)\n"
    )
    made = subprocess.run(
        [str(EMULATOR_PYTHON), "-c", script],
        cwd=ROOT,
        input=json.dumps(list(specs)),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [(cert.encode(), key.encode()) for cert, key in json.loads(made.stdout)]


def import_certificates(acm: Any, *specs: dict[str, Any]) -> list[str]:
    """Import one certificate per spec (see make_certificates); return their ARNs."""
    return [
        acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
        for cert, key in make_certificates(*specs)
    ]


def zone() -> str:
    return f"z{uuid.uuid4().hex[:8]}.example.org"


def listed(acm: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every summary ListCertificates returns for kwargs, following NextToken."""
    summaries: list[dict[str, Any]] = []
    while True:
        page = acm.list_certificates(**kwargs)
        summaries += page["CertificateSummaryList"]
        if "NextToken" not in page:
            return summaries
        kwargs["NextToken"] = page["NextToken"]


def arns(summaries: list[dict[str, Any]], among: list[str]) -> set[str]:
    return {s["CertificateArn"] for s in summaries} & set(among)


@pytest.fixture(scope="module")
def acm() -> Iterator[Any]:
    with Emulator(seed=False) as running:
        yield running.client("acm")


def test_by_default_only_rsa_1024_and_2048_are_listed(acm):
    # API_Filters.html, keyTypes: "Default filtering returns only RSA_1024 and RSA_2048
    # certificates that have at least one domain."
    # https://docs.aws.amazon.com/acm/latest/APIReference/API_Filters.html
    z = zone()
    algorithms = ["RSA_1024", "RSA_2048", "RSA_4096", "EC_prime256v1", "EC_secp384r1"]
    imported = import_certificates(
        acm, *({"domain": f"{a.lower()}.{z}", "key_algorithm": a} for a in algorithms)
    )
    by_algorithm = dict(zip(algorithms, imported, strict=True))

    assert arns(listed(acm), imported) == {by_algorithm["RSA_1024"], by_algorithm["RSA_2048"]}
    ecdsa = listed(acm, Includes={"keyTypes": ["EC_prime256v1", "EC_secp384r1"]})
    assert arns(ecdsa, imported) == {by_algorithm["EC_prime256v1"], by_algorithm["EC_secp384r1"]}
    everything = listed(acm, Includes={"keyTypes": algorithms})
    assert arns(everything, imported) == set(imported)


def test_a_summary_has_the_fields_acm_returns(acm):
    # API_CertificateSummary.html: SubjectAlternativeNameSummaries "include the canonical
    # domain name (CN) of the certificate and additional domain names"; KeyAlgorithm,
    # Status, Type, InUse, NotBefore, NotAfter, ImportedAt ("The date and time when the
    # certificate was imported. This value exists only when the certificate type is IMPORTED").
    # https://docs.aws.amazon.com/acm/latest/APIReference/API_CertificateSummary.html
    z = zone()
    before = datetime.datetime.now(datetime.UTC)
    [arn] = import_certificates(
        acm,
        {"domain": f"api.{z}", "sans": [f"www.{z}", f"*.{z}"], "key_algorithm": "EC_prime256v1"},
    )
    [summary] = [
        s
        for s in listed(acm, Includes={"keyTypes": ["EC_prime256v1"]})
        if s["CertificateArn"] == arn
    ]

    assert summary["DomainName"] == f"api.{z}"
    assert summary["SubjectAlternativeNameSummaries"] == [f"api.{z}", f"www.{z}", f"*.{z}"]
    assert summary["HasAdditionalSubjectAlternativeNames"] is False
    assert (summary["KeyAlgorithm"], summary["Status"], summary["Type"]) == (
        "EC_prime256v1",
        "ISSUED",
        "IMPORTED",
    )
    assert summary["InUse"] is False and summary["Exported"] is False
    assert summary["ExportOption"] == "DISABLED"  # an imported certificate cannot be exported
    # The certificate was made valid from a day ago for 365 days (seed.self_signed_certificate).
    year = datetime.timedelta(days=365)
    assert abs(summary["NotAfter"] - (before + year)) < datetime.timedelta(minutes=5)
    assert summary["NotBefore"] < before < summary["ImportedAt"] + datetime.timedelta(seconds=5)
    assert "CreatedAt" not in summary  # "the time at which the certificate was requested"


def test_statuses_filter_pending_issued_and_expired(acm):
    # API_ListCertificates.html, CertificateStatuses: "Filter the certificate list by status
    # value"; a certificate past its NotAfter is EXPIRED, one requested and not yet validated
    # PENDING_VALIDATION (API_CertificateDetail.html, Status). RequestCertificate's key
    # defaults to RSA_2048 (API_RequestCertificate.html, KeyAlgorithm: "Default: RSA_2048"),
    # so the default filter lists it.
    z = zone()
    expiring, lasting = import_certificates(
        acm,
        {"domain": f"short.{z}", "days": 3 / 86400, "key_algorithm": "RSA_2048"},
        {"domain": f"long.{z}", "key_algorithm": "RSA_2048"},
    )
    pending = acm.request_certificate(DomainName=f"new.{z}", ValidationMethod="DNS")[
        "CertificateArn"
    ]
    mine = [expiring, lasting, pending]
    time.sleep(4)  # the short certificate is now past its NotAfter

    assert arns(listed(acm, CertificateStatuses=["ISSUED"]), mine) == {lasting}
    assert arns(listed(acm, CertificateStatuses=["EXPIRED"]), mine) == {expiring}
    assert arns(listed(acm, CertificateStatuses=["PENDING_VALIDATION"]), mine) == {pending}
    assert arns(listed(acm), mine) == set(mine)  # no status filter: all of them


def test_max_items_pages_with_next_token(acm):
    # API_ListCertificates.html, MaxItems: "If additional items exist beyond the number you
    # specify, the NextToken element is sent in the response. Use this NextToken value in a
    # subsequent request to retrieve additional items."
    z = zone()
    mine = import_certificates(
        acm, *({"domain": f"p{i}.{z}", "key_algorithm": "RSA_2048"} for i in range(3))
    )
    everything = [s["CertificateArn"] for s in listed(acm)]

    pages = []
    kwargs: dict[str, Any] = {"MaxItems": 2}
    while True:
        page = acm.list_certificates(**kwargs)
        pages.append([s["CertificateArn"] for s in page["CertificateSummaryList"]])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]

    assert all(len(page) == 2 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 2
    assert [arn for page in pages for arn in page] == everything  # each once, in order
    assert set(mine) <= set(everything)


def test_max_items_above_1000_is_refused(acm):
    # API_ListCertificates.html, MaxItems: "Valid Range: Minimum value of 1. Maximum value of
    # 1000." The wording is that of AWS's JSON services for a range violation ("1 validation
    # error detected: Value '100' at 'maxResults' failed to satisfy constraint: Member must
    # have value less than or equal to 50", https://github.com/rebuy-de/aws-nuke/issues/1074).
    with pytest.raises(ClientError) as raised:
        acm.list_certificates(MaxItems=1001)

    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000"
    )


def test_a_token_acm_did_not_give_is_refused(acm):
    # API_ListCertificates.html, Errors: InvalidArgsException, "One or more of request
    # parameters specified is not valid." (400)
    with pytest.raises(ClientError) as raised:
        acm.list_certificates(NextToken="not-a-token")

    assert raised.value.response["Error"]["Code"] == "InvalidArgsException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
