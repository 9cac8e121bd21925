"""make bench: the rollout, cost and launch figures, printed as one table.

    .venv/bin/python -m bench.run

Rollout and cost are computed from the rendered templates in a second; the launch figures
start an emulator per environment count and take about a minute and a half.
"""

from bench import cost, launch, rollout
from bench.report import format_table


def main() -> int:
    """Compute, measure and print every figure."""
    rows = rollout.rows() + cost.rows() + launch.rows()
    print(format_table(rows, rollout.NOTES + cost.notes() + launch.NOTES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
