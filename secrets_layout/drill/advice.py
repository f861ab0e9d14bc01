"""What to do after each outcome of a drill, in one line each, with the command that helps."""

from __future__ import annotations


def _describe(name: str, region: str) -> str:
    return f"`aws secretsmanager describe-secret --secret-id {name} --region {region}`"


def _read_log(log_group: str | None, region: str) -> str:
    if log_group is None:
        return "the rotation's own log"
    return f"`aws logs tail {log_group} --since 1h --region {region}`"


def failed(name: str, region: str, version: str, *, given_up: bool, log_group: str | None) -> str:
    if given_up:
        return (f"readers keep the current value (AWSCURRENT did not move) and the function gave the version up: "
                f"fix the cause ({_read_log(log_group, region)}), then run the drill again")
    return (f"readers keep the current value (AWSCURRENT did not move); fix the cause "
            f"({_read_log(log_group, region)}): "
            f"Secrets Manager retries the rotation of version {version}, or give it up with `aws secretsmanager "
            f"update-secret-version-stage --secret-id {name} --version-stage AWSPENDING --remove-from-version-id "
            f"{version} --region {region}` and run the drill again")


def not_finished(name: str, region: str, version: str, *, waiting: bool, log_group: str | None) -> str:
    why = ("the function waits for the provider to accept the new credential (verify-grace-seconds, "
           "rotation/README.md); " if waiting else "")
    return (f"{why}nothing was cancelled, the rotation goes on in AWS: see it finish with {_describe(name, region)} "
            f"(done when {version} holds AWSCURRENT), or run the drill again with a longer --wait; if it never "
            f"finishes, read {_read_log(log_group, region)}")


def replicas_behind(name: str, regions: list[str]) -> str:
    where = ", ".join(regions)
    return (f"the primary rotated; the replicas in {where} have not caught up within --wait: check them with "
            f"`aws secretsmanager describe-secret --secret-id {name} --region REGION`; readers there get the "
            "previous value until they do")


def replicas_failed(name: str, regions: list[str]) -> str:
    where = ", ".join(regions)
    return (f"the primary rotated but replication to {where} failed (the status message says why, often the "
            "replica's KMS key): fix it, then `aws secretsmanager replicate-secret-to-regions` or `pulumi up`; "
            "readers there get the previous value until then")


def already_rotating(name: str, region: str, version: str | None) -> str:
    give_up = (f"`aws secretsmanager update-secret-version-stage --secret-id {name} --version-stage AWSPENDING "
               f"--remove-from-version-id {version} --region {region}`" if version else
               "remove AWSPENDING from that version (`aws secretsmanager update-secret-version-stage`)")
    return (f"run the drill again once it has finished ({_describe(name, region)}); if it is stuck (`secrets-layout "
            f"audit` says rotation-stuck after a day), fix the function, then {give_up}")


MISSING = "deploy it (`pulumi up`), or check the declaration's security account and region"
SCHEDULED_FOR_DELETION = ("restore it (`aws secretsmanager restore-secret`) if it is still in use, or remove it "
                          "from the declaration")
ROTATION_OFF = ("deploy the declared rotation first (`pulumi up`; `secrets-layout preview` shows it): the drill "
                "rotates what AWS has, and starting one now would switch rotation on with whatever the secret "
                "last had")
NOT_ANSWERED = ("RotateSecret got no answer, so the rotation may have started: see {describe} and run the drill "
                "again when no version holds AWSPENDING without AWSCURRENT")
REFUSED = "use credentials allowed to call secretsmanager:RotateSecret on this secret, or fix what AWS names"


def not_answered(name: str, region: str) -> str:
    return NOT_ANSWERED.format(describe=_describe(name, region))
