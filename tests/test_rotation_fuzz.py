"""A hypothesis fuzz over the provider's answers during rotation, through lambda_handler against moto server.

The fake provider on 127.0.0.1 is scripted with answers drawn here: status codes, damaged bodies
(not JSON, empty, 2 MiB, a list, the key missing or of the wrong type or with a line break, the
current key again, the request's credentials echoed), answers later than the function's timeout, and
whether the provider really did the operation before answering so. Secrets Manager is played as AWS
does ("How rotation works", https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_how.html):
the four steps in order, a failed rotation retried from createSecret with the same token, and a new
rotation (new token) refused while AWSPENDING sits on a version other than AWSCURRENT.

What must hold whatever the answers:
- no credential in any log record (every logger at DEBUG) or in any error the function raises;
- AWSCURRENT only ever moves to a credential the provider really accepted at verify (or the first one);
- no live key beyond the ones the secret's versions hold, except a key the provider made under an
  answer that named no key at all (a JSON list, an echo), which nothing could revoke;
- rotation is never blocked: each token ends in success or gives up AWSPENDING, and once the provider
  behaves again, one rotation leaves exactly the AWSCURRENT and AWSPREVIOUS keys live.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rotation_support.lambda_code  # noqa: F401  (puts rotation/ on sys.path)
from rotation_support.fake_provider import BODY_FORMS, FakeProvider, ScriptedAnswer
from rotation_support.log_capture import capturing_every_log
from rotation_support.moto_fixtures import client, secrets_manager  # noqa: F401  (fixtures)
from rotation_support.provider_fixtures import provider, provider_server  # noqa: F401  (fixtures)
from rotation_support.rotating_secret import JSON_API_KEY, PLAINTEXT_API_KEY, STEPS, RotatingSecret, api_key_tags

from http_api_key import ApiKeyValue

pytestmark = pytest.mark.slow

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
TIMEOUT_SECONDS = 0.3
LATE = TIMEOUT_SECONDS + 0.3
# Secrets Manager retries a failed rotation a few times; the scripts hold at most 7 failures in all.
ATTEMPTS_PER_TOKEN = 9
# Answers under which a made key is announced without an id the function can read.
UNNAMED_KEY_FORMS = {"json-list", "echo", "current-key"}

issue_answers = st.builds(
    ScriptedAnswer,
    status=st.sampled_from([200, 201, 400, 401, 429, 500, 502]),
    body=st.sampled_from(BODY_FORMS),
    acts=st.booleans(),
    delay_seconds=st.sampled_from([0.0, 0.0, 0.0, LATE]),
)


def verify_answers(kind_id: str):
    # A plaintext key is revoked after asking verify-url which key it is; a 401 there would mean "already
    # dead", a lie the function cannot see through, so those scripts draw only failures that say nothing.
    statuses = [429, 500, 503] if kind_id == PLAINTEXT_API_KEY.id else [401, 403, 429, 500, 503]
    return st.builds(
        ScriptedAnswer,
        status=st.sampled_from(statuses),
        body=st.sampled_from(["real", "echo", "huge", "not-json"]),
        delay_seconds=st.sampled_from([0.0, 0.0, LATE]),
    )


# A revocation answered 2xx but not done would be a lie; failures may or may not have been done.
revoke_answers = st.builds(
    ScriptedAnswer,
    status=st.sampled_from([401, 429, 500, 503]),
    body=st.sampled_from(["real", "echo", "empty"]),
    acts=st.booleans(),
)


@st.composite
def scenarios(draw):
    kind = draw(st.sampled_from([JSON_API_KEY, PLAINTEXT_API_KEY]))
    return {
        "kind": kind,
        "issue": draw(st.lists(issue_answers, max_size=3)),
        "verify": draw(st.lists(verify_answers(kind.id), max_size=2)),
        "revoke": draw(st.lists(revoke_answers, max_size=2)),
        "rotations": draw(st.integers(min_value=1, max_value=2)),
    }


class Watch:
    """Runs the handler as Secrets Manager does and checks every invariant as it goes."""

    def __init__(self, secret: RotatingSecret, provider: FakeProvider) -> None:
        self.secret = secret
        self.provider = provider
        self.first_key = self.key_of(secret.value(stage=CURRENT))

    @staticmethod
    def key_of(value: str) -> str:
        return ApiKeyValue.parse(value).api_key

    def invoke(self, step: str, token: str) -> BaseException | None:
        raised = None
        with capturing_every_log() as logs:
            try:
                self.secret.invoke(step, token)
            except Exception as error:  # noqa: BLE001 - inspected here
                raised = error
        secrets_handed_out = self.provider.every_secret()
        assert not [secret for secret in secrets_handed_out if secret in logs.text], f"{step}: credential logged"
        if raised is not None:
            text = f"{raised!s} {raised!r}"
            assert not [secret for secret in secrets_handed_out if secret in text], f"{step}: credential in error"
        if step == "finishSecret":
            current_key = self.key_of(self.secret.value(stage=CURRENT))
            assert current_key in self.provider.verified | {self.first_key}, "AWSCURRENT moved to an untested key"
        return raised

    def rotate(self) -> None:
        """One rotation with Secrets Manager's retries: it ends in success, or the token gives up AWSPENDING."""
        token = self.secret.begin()  # raises RotationInProgress if an earlier token blocked rotation
        for _ in range(ATTEMPTS_PER_TOKEN):
            if all(self.invoke(step, token) is None for step in STEPS):
                return
            if PENDING not in self.secret.all_labels().get(token, []):
                return
        raise AssertionError(f"version {token} kept AWSPENDING through {ATTEMPTS_PER_TOKEN} attempts")

    def held_keys(self) -> set[str]:
        """Keys held by every version with any label (rotation labels or a revocation mark)."""
        held = set()
        for version in self.secret.all_labels():
            try:
                held.add(self.key_of(self.secret.value(version_id=version)))
            except Exception:  # noqa: BLE001 - a version without a value holds no key
                continue
        return held

    def unheld_live_keys(self) -> set[str]:
        live = {key.strip() for key in self.provider.active_keys()}
        return live - self.held_keys()

    def unnameable(self, *, revocations_may_fail: bool) -> set[str]:
        """Keys the function could not revoke: announced without an id (or, if revocations fail, any unusable answer)."""
        return {
            key.strip()
            for key, answer in self.provider.scripted_issues.items()
            if 200 <= answer.status < 300
            and (answer.body in UNNAMED_KEY_FORMS or (revocations_may_fail and answer.body not in ("real",)))
        }


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_no_provider_answer_leaks_blocks_or_leaves_a_stray_key(client, secrets_manager, provider, scenario):
    provider.reset()
    tags = api_key_tags(provider.base_url) | {"rotation-timeout-seconds": str(TIMEOUT_SECONDS)}
    secret = RotatingSecret.create(client, secrets_manager, provider, scenario["kind"], tags=tags)
    watch = Watch(secret, provider)
    for operation in ("issue", "verify", "revoke"):
        provider.script(operation, *scenario[operation])
    revocations_may_fail = bool(scenario["revoke"])

    for _ in range(scenario["rotations"]):
        watch.rotate()
        assert watch.unheld_live_keys() <= watch.unnameable(revocations_may_fail=revocations_may_fail)

    provider.recover()
    watch.rotate()

    labels = secret.labels()
    assert sorted(stage for stages in labels.values() for stage in stages) == [CURRENT, PREVIOUS]
    readable_keys = {watch.key_of(secret.value(stage=stage)) for stage in (CURRENT, PREVIOUS)}
    live = {key.strip() for key in provider.active_keys()}
    assert live - watch.unnameable(revocations_may_fail=revocations_may_fail) == readable_keys, (
        "once the provider behaves, only AWSCURRENT's and AWSPREVIOUS's keys stay live"
    )
