"""The one table ``make bench`` prints, and the rows each bench script contributes."""

from collections.abc import Iterable
from dataclasses import dataclass

from tests.templates import render


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, its value and what to read it against."""

    section: str
    figure: str
    value: str
    against: str = ""


def rendered_templates(env: str) -> dict[str, dict]:
    """The environment's templates as rendered through Sceptre, keyed by stack ("service")."""
    return {name.split("/")[1]: found["template"] for name, found in render(env).items()}


def only_resource(template: dict, resource_type: str) -> dict:
    """The template's one resource of a type, or an error naming the template's types."""
    found = [r for r in template["Resources"].values() if r["Type"] == resource_type]
    if len(found) != 1:
        types = sorted({r["Type"] for r in template["Resources"].values()})
        raise ValueError(f"expected one {resource_type} in the template, found {types}")
    return found[0]


def format_table(rows: Iterable[Row], notes: Iterable[str] = ()) -> str:
    """Rows as an aligned text table, notes underneath."""
    header = Row("bench", "figure", "value", "compared with")
    rows = [header, *rows]
    widths = [max(len(getattr(r, f)) for r in rows) for f in ("section", "figure", "value")]
    lines = []
    for i, row in enumerate(rows):
        cells = (row.section, row.figure)
        line = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False))
        line += "  " + row.value.rjust(widths[2]) + "  " + row.against
        lines.append(line.rstrip())
        if i == 0:
            lines.append("-" * max(len(x) for x in lines))
    lines += ["", *notes] if notes else []
    return "\n".join(lines)
