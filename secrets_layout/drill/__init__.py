"""`secrets-layout rotate`: a rotation drill, the step before enabling rotation in production.

    targets.py   which secrets: the declaration's rotating ones, or those named with --secret
    aws.py       the AWS calls: DescribeSecret, ListSecretVersionIds, RotateSecret (never a value read);
                 CloudTrail LookupEvents and CloudWatch Logs FilterLogEvents for the reasons
    evidence.py  pure: the function's log lines and RotationFailed records -> what they say of one rotation
    waiting.py   the waiting loop, its clock and pace injected
    run.py       plan (read-only), then each rotation started, followed and its replicas checked
    advice.py    what to do after each outcome
    model.py     the report's data
    cli.py       arguments -> confirmation -> run -> report and exit code

The report's renderers are secrets_layout.reports.rotate; the AWS clients, endpoint checks, CloudTrail
reading and one-line errors are the audit's (secrets_layout.audit).
"""
