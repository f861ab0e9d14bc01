"""`secrets-layout audit`: the live security account against the declaration (day 2).

    options.py    the command line's inputs, checked before any AWS call
    collect.py    read-only boto3 calls (Secrets Manager, KMS); GetSecretValue is never called
    trail.py      CloudTrail records from LookupEvents, the trail's log files in S3, Athena -> events
    sources.py    the access history's sources, each read whole or named as not read
    analysis.py   pure functions: rotation discipline, drift, usage -> findings
    access.py     pure functions: whose secret a read names, reads and failures per principal -> findings
    messages.py   one-line messages, user:password of a URL masked
    findings.py   the report's data
    run.py        ties them together for the CLI; a Secrets Manager or KMS error becomes an AuditError

The expected state is computed with the same pure functions the components deploy with
(components.policy_documents.secret_policy_for, components.secret_settings.secret_tags,
components.rotation_settings.rotation_rules), so "drift" means "differs from what `pulumi up`
would write".
"""
