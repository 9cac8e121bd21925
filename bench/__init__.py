"""Figures about the project, computed or measured; not tests. ``make bench`` runs them all.

- rollout.py: how long a deploy takes, from the rendered templates' health checks.
- cost.py: what each environment costs a month, from the rendered templates and prices.yaml.
- launch.py: how long launching 1, 2, 4 and 8 environments takes on the emulator.
- run.py: all three, printed as one table.
"""
