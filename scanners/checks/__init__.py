"""checkov custom checks for what checkov checks only on Terraform, not on CloudFormation.

Run by tests/test_scanners.py with --external-checks-dir checks. One check per module; a
justified exception is a checkov skip with a comment in the resource's Metadata.
"""
