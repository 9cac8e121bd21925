"""Render drift results: a plain-text table for people, JSON for tools, Markdown for CI.

All three show the same rows: one per stack (status and detail) and one per difference
(stack, resource, property, expected, actual).
"""

from typing import Any

from drift.detect import DRIFTED, FAILED, IN_SYNC, MISSING, Difference, StackDrift

STACK_COLUMNS = ("STACK", "STATUS", "DETAIL")
DIFFERENCE_COLUMNS = ("STACK", "RESOURCE", "PROPERTY", "EXPECTED", "ACTUAL")


def exit_code(results: list[StackDrift]) -> int:
    """0 when every stack is in sync, 1 when one drifted, 2 when one is missing or failed."""
    statuses = {r.status for r in results}
    if statuses & {MISSING, FAILED}:
        return 2
    return 1 if DRIFTED in statuses else 0


def overall(results: list[StackDrift]) -> str:
    """One word for the whole check: IN_SYNC, DRIFTED or FAILED."""
    return {0: IN_SYNC, 1: DRIFTED, 2: FAILED}[exit_code(results)]


def count(number: int, noun: str) -> str:
    """ "1 stack", "2 stacks"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def headline(groups: list[str], results: list[StackDrift]) -> str:
    """A sentence saying what was checked and what was found."""
    differences = sum(len(r.differences) for r in results)
    drifted = sum(1 for r in results if r.status == DRIFTED)
    unknown = sum(1 for r in results if r.status in (MISSING, FAILED))
    parts = [f"{count(len(results), 'stack')} of {', '.join(groups)}"]
    if differences:
        parts.append(f"{count(differences, 'difference')} in {count(drifted, 'stack')}")
    if unknown:
        parts.append(f"{count(unknown, 'stack')} not checked")
    return f"{overall(results)}: " + "; ".join(parts)


def stack_rows(results: list[StackDrift]) -> list[tuple[str, str, str]]:
    """(stack, status, detail) per stack."""
    rows = []
    for r in results:
        if r.error:
            detail = r.error
        else:
            detail = f"{count(r.checked, 'resource')} checked"
            if r.not_checked:  # named in the JSON report
                detail += f", {len(r.not_checked)} not checkable"
        rows.append((r.stack, r.status, detail))
    return rows


def difference_rows(results: list[StackDrift]) -> list[tuple[str, str, str, str, str]]:
    """(stack, resource, property, expected, actual) per difference."""
    return [
        (d.stack, d.resource, d.property, d.expected, d.actual)
        for r in results
        for d in r.differences
    ]


def columns(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Rows under a header, as aligned plain-text columns."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def table(groups: list[str], results: list[StackDrift]) -> str:
    """The report as aligned plain text."""
    text = f"{headline(groups, results)}\n\n{columns(STACK_COLUMNS, stack_rows(results))}\n"
    differences = difference_rows(results)
    if differences:
        text += f"\n{columns(DIFFERENCE_COLUMNS, differences)}\n"
    return text


def _difference_json(d: Difference) -> dict[str, str]:
    return {
        "stack": d.stack,
        "resource": d.resource,
        "resource_type": d.resource_type,
        "property": d.property,
        "expected": d.expected,
        "actual": d.actual,
        "difference": d.kind,
    }


def to_json(groups: list[str], results: list[StackDrift]) -> dict[str, Any]:
    """The report as a JSON-serialisable dict."""
    return {
        "groups": groups,
        "status": overall(results),
        "exit_code": exit_code(results),
        "stacks": [
            {
                "stack": r.stack,
                "stack_name": r.stack_name,
                "status": r.status,
                "resources_checked": r.checked,
                "not_checked": r.not_checked,
                "error": r.error or None,
            }
            for r in results
        ],
        "differences": [_difference_json(d) for r in results for d in r.differences],
    }


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]], code: set[int]) -> str:
    lines = ["| " + " | ".join(h.capitalize() for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    for row in rows:
        cells = [f"`{_cell(c)}`" if i in code else _cell(c) for i, c in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_markdown(groups: list[str], results: list[StackDrift]) -> str:
    """The report as Markdown: a CI job summary or an issue body."""
    text = f"## Drift check: {', '.join(groups)}\n\n**{headline(groups, results)}**\n\n"
    text += _markdown_table(STACK_COLUMNS, stack_rows(results), code=set()) + "\n"
    differences = difference_rows(results)
    if differences:
        text += "\n" + _markdown_table(DIFFERENCE_COLUMNS, differences, code={3, 4}) + "\n"
    return text
