"""`secrets-layout audit`: the live security account against the declaration (day 2).

    collect.py    read-only boto3 calls (Secrets Manager, KMS); GetSecretValue is never called
    trail.py      access history from CloudTrail: LookupEvents, trail log files in S3, Athena
    analysis.py   pure functions: rotation discipline, drift, usage, access summaries -> findings
    findings.py   the report's data
    run.py        ties them together for the CLI; every AWS error becomes an AuditError

The expected state is computed with the same pure functions the components deploy with
(components.policy_documents.secret_policy_for, components.secret_settings.secret_tags,
components.rotation_settings.rotation_rules), so "drift" means "differs from what `pulumi up`
would write".
"""
