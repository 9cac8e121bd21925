"""drift-check: CloudFormation drift of whole StackGroups, as a table, JSON or Markdown.

    drift-check dev prod [--json FILE] [--markdown FILE]

detect.py runs drift detection on every stack through Sceptre's connection managers,
report.py renders the result, notify.py sends it to an environment's SNS topic, cli.py
ties them together and sets the exit code (0 in sync, 1 drift, 2 failed or missing).
"""
