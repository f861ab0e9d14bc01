"""A table of invalid declarations: each is rejected with the exact line, field path and message."""

from __future__ import annotations

import pytest

from declaration_support import HEADER, VALID_SECRET, declaration, issues_of

INVALID_DECLARATIONS = [
    pytest.param(
        HEADER + "secret:\n  - name: prod/a/b\n",
        6, 'secret',
        "unknown field 'secret'; did you mean 'secrets'? allowed fields: accounts, alerts, defaults, environment, kms, lower_environments, organization_id, parameters, primary_region, secrets, security_account",
        id='unknown-top-level-key',
    ),
    pytest.param(
        declaration(VALID_SECRET + "    rotaton: {every_days: 30}\n"),
        12, 'secrets[0].rotaton',
        "unknown field 'rotaton'; did you mean 'rotation'? allowed fields: adopt, description, format, import_id, kind, name, protect, readers, recovery_window_days, replicas, rotation, tags, value",
        id='unknown-secret-key',
    ),
    pytest.param(
        declaration(VALID_SECRET + "    kind: generic\n"),
        12, 'secrets[0].kind',
        "duplicate key 'kind' (first at line 8); YAML would silently keep only the last one: remove or rename one of them",
        id='duplicate-mapping-key',
    ),
    pytest.param(
        HEADER + "environment: dev\n",
        6, 'environment',
        "duplicate key 'environment' (first at line 1); YAML would silently keep only the last one: remove or rename one of them",
        id='duplicate-top-level-key',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("every_days: 30", "every_days: monthly")),
        10, 'secrets[0].rotation.every_days',
        'must be a whole number — Rotate every N days (1-1000).',
        id='wrong-type-every-days',
    ),
    pytest.param(
        HEADER.replace('"222222222222"', "222222222222"),
        5, 'accounts.prod-app',
        'an account ID must be quoted ("111111111111") so YAML keeps it a 12-digit string',
        id='unquoted-account-id',
    ),
    pytest.param(
        HEADER.replace('"111111111111"', '"1111"'),
        2, 'security_account',
        'is not in the expected form — The 12-digit ID of the account that holds the secrets, quoted: "111111111111".',
        id='short-account-id',
    ),
    pytest.param(
        HEADER.replace("environment: prod\n", "") + "secrets: []\n",
        1, 'environment',
        "required field 'environment' is missing; add it — Lowercase slug (dev, prod, shared-services); the first segment of every secret name.",
        id='missing-environment',
    ),
    pytest.param(
        HEADER.replace("environment: prod", "environment: Prod_1"),
        1, 'environment',
        'is not in the expected form — Lowercase slug (dev, prod, shared-services); the first segment of every secret name.',
        id='environment-not-a-slug',
    ),
    pytest.param(
        HEADER.replace("us-east-1", "us-east-9"),
        3, 'primary_region',
        "'us-east-9' is not an AWS region; use a region code such as us-east-1",
        id='unknown-region',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("    value: {from_config: appApiKey}\n", "")),
        7, 'secrets[0].value',
        "required field 'value' is missing; add it — Where the value comes from. Never a literal secret.",
        id='missing-value',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("{from_config: appApiKey}", "{from_config: appApiKey, external: true}")),
        9, 'secrets[0].value',
        'value needs exactly one of generate, from_config or external (it gives from_config and external); a literal value is never allowed',
        id='two-value-sources',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("{from_config: appApiKey}", "hunter2")),
        9, 'secrets[0].value',
        'a literal value is never allowed (it would be committed to git); write value: {generate: {...}}, value: {from_config: NAME} or value: {external: true}',
        id='literal-value',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("{from_config: appApiKey}", "{external: false}")),
        9, 'secrets[0].value.external',
        'external is either true or absent; remove it or write external: true',
        id='external-false',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("prod/app/api-key", "dev/app/api-key")),
        7, 'secrets[0].name',
        "secret names start with the environment ('prod/...') so that a role's access can be scoped by name; rename it to prod/<service>/<name>",
        id='name-outside-environment',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("prod/app/api-key", "prod/app/api key!")),
        7, 'secrets[0].name',
        'a secret name may only contain letters, digits and / _ + = . @ -; rename it',
        id='name-bad-characters',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("prod/app/api-key", "prod/app/key-AbCdEf")),
        7, 'secrets[0].name',
        "a secret name must not end with '-' and six characters: AWS appends such a suffix to every ARN, so partial-ARN lookups become ambiguous; rename it",
        id='name-arn-suffix',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("prod/app/api-key", "prod/" + "a" * 510)),
        7, 'secrets[0].name',
        "must be at most 512 characters — The secret's name: <environment>/<service>/<name>, 1-512 of A-Za-z0-9/_+=.@-.",
        id='name-too-long',
    ),
    pytest.param(
        declaration(VALID_SECRET + VALID_SECRET.split("\n", 1)[1]),
        12, 'secrets[1].name',
        "duplicate secret name 'prod/app/api-key' (also secrets[0]); every secret needs its own name: rename or remove one",
        id='duplicate-secret-names',
    ),
    pytest.param(
        declaration(VALID_SECRET + "    description: " + "d" * 2049 + "\n"),
        12, 'secrets[0].description',
        'must be at most 2048 characters — Up to 2048 characters.',
        id='description-too-long',
    ),
    pytest.param(
        declaration(VALID_SECRET + "    recovery_window_days: 3\n"),
        12, 'secrets[0].recovery_window_days',
        'must be at least 7 — Days a deleted secret can be restored (7-30).',
        id='recovery-window-too-short',
    ),
    pytest.param(
        declaration(VALID_SECRET + "    recovery_window_days: 31\n"),
        12, 'secrets[0].recovery_window_days',
        'must be at most 30 — Days a deleted secret can be restored (7-30).',
        id='recovery-window-too-long',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("every_days: 30", "every_days: 0")),
        10, 'secrets[0].rotation.every_days',
        'must be at least 1 — Rotate every N days (1-1000).',
        id='every-days-zero',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("every_days: 30", "every_days: 1001")),
        10, 'secrets[0].rotation.every_days',
        'must be at most 1000 — Rotate every N days (1-1000).',
        id='every-days-too-many',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("every_days: 30", "every_days: 30, schedule: \"rate(10 days)\"")),
        10, 'secrets[0].rotation.schedule',
        'give either every_days or schedule, not both; remove this or every_days:',
        id='every-days-and-schedule',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("every_days: 30", "schedule: \"rate(2 hours)\"")),
        10, 'secrets[0].rotation.schedule',
        'Secrets Manager rotates at most every 4 hours',
        id='rate-too-frequent',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("every_days: 30", "schedule: \"cron(0 4 * * * *)\"")),
        10, 'secrets[0].rotation.schedule',
        "exactly one of day-of-month and day-of-week must be '?' (AWS does not allow both or neither); write rate(N hours|days) (at least 4 hours) or cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 4 ? * SUN *)",
        id='cron-invalid',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("every_days: 30", "every_days: 30, window: 3d")),
        10, 'secrets[0].rotation.window',
        'is not in the expected form — Rotation window, e.g. 3h; shorter than the interval between rotations.',
        id='window-not-hours',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("every_days: 30", "schedule: \"rate(4 hours)\", window: 5h")),
        10, 'secrets[0].rotation.window',
        'the window (5h) must be shorter than the time between rotations (4h), or one rotation would still run when the next starts; shorten the window',
        id='window-longer-than-interval',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("every_days: 30", "schedule: \"cron(0 22 ? * SUN *)\", window: 3h")),
        10, 'secrets[0].rotation.window',
        'Secrets Manager refuses this window: the 3-hour window opening at 22:00 UTC runs past the end of the UTC '
        'day; shorten the window',
        id='window-past-the-end-of-the-utc-day',  # RotationRulesType.Duration, Secrets Manager API reference
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("function: api-key-rotator, ", "")),
        10, 'secrets[0].rotation',
        'rotation needs exactly one function: managed:, function: or lambda_arn: (it gives none)',
        id='no-rotation-function',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace(VALID_SECRET.split("rotation: ", 1)[1].split("\n", 1)[0], "{enabled: false}")),
        10, 'secrets[0].rotation.reason',
        'an exemption from rotation needs a reason (it becomes the rotation-exempt tag); add reason: "..."',
        id='exemption-without-reason',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("function: api-key-rotator", "managed: rds-mysql-single-user")),
        10, 'secrets[0].rotation.managed',
        'AWS-managed rotation rotates database credentials stored as JSON; use it with kind: database and format: json, or rotate with function: api-key-rotator or lambda_arn:',
        id='managed-rotation-for-api-key',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("function: api-key-rotator", "managed: rds-postgres-single-user")),
        10, 'secrets[0].rotation.managed',
        "must be one of: rds-postgresql-single-user, rds-postgresql-multi-user, rds-mysql-single-user, rds-mysql-multi-user, rds-mariadb-single-user, rds-mariadb-multi-user, rds-oracle-single-user, rds-oracle-multi-user, rds-sqlserver-single-user, rds-sqlserver-multi-user, redshift-single-user, redshift-multi-user, documentdb-single-user, documentdb-multi-user; did you mean 'rds-postgresql-single-user'?",
        id='unknown-managed-engine',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("function: api-key-rotator", 'lambda_arn: "arn:aws:lambda:eu-west-1:111111111111:function:rotator"')),
        10, 'secrets[0].rotation.lambda_arn',
        "the rotation function is in eu-west-1 but the secret is in us-east-1; Secrets Manager only invokes a function in the secret's own region",
        id='lambda-in-other-region',
    ),
    pytest.param(
        declaration(VALID_SECRET + "    replicas: [us-west-2, us-east-1]\n"),
        12, 'secrets[0].replicas[1]',
        'us-east-1 is the primary region; a replica must be another region: remove it',
        id='replica-is-primary',
    ),
    pytest.param(
        declaration(VALID_SECRET + "    replicas: [mars-north-1]\n"),
        12, 'secrets[0].replicas[0]',
        "'mars-north-1' is not an AWS region; use a region code such as us-east-1",
        id='replica-unknown-region',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("account: prod-app", "account: prod-web")),
        11, 'secrets[0].readers[0].account',
        "account 'prod-web' is not in accounts: (prod-app); add it there or fix the name",
        id='reader-unknown-account',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("roles: [AppRole]", "roles: []")),
        11, 'secrets[0].readers[0].roles',
        'must have at least 1 item(s) — Role names in that account.',
        id='reader-without-roles',
    ),
    pytest.param(
        HEADER + '  security: "111111111111"\n' + VALID_SECRET,
        6, 'accounts.security',
        "this is the security account itself; accounts: lists consumer accounts, and readers never get the security account's own root: remove it",
        id='security-account-as-consumer',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("kind: api-key", "kind: database").replace("{from_config: appApiKey}", "{generate: {key: password}, template: {username: admin, password: hunter2}}").replace("function: api-key-rotator", "managed: rds-mysql-single-user")),
        9, 'secrets[0].value.template.password',
        'this looks like a credential (credential field name, Secret Keyword); secret values never go into git: use value.generate, value.from_config (pulumi config set --secret) or value.external',
        id='template-with-password',
    ),
    pytest.param(
        declaration(VALID_SECRET + "parameters:\n  - {name: /prod/app/stripe, value: sk_live_4eC39HqLyjWDarjtT1zdp7dc}\n"),
        13, 'parameters[0].value',
        'this looks like a credential (Base64 High Entropy String, Stripe Access Key); secret values never go into git: use value.generate, value.from_config (pulumi config set --secret) or value.external',
        id='parameter-holding-a-stripe-key',
    ),
    pytest.param(
        declaration(VALID_SECRET + "parameters:\n  - {name: /dev/app/log-level, value: info}\n"),
        13, 'parameters[0].name',
        "parameter names start with '/prod/' like the secrets of this environment; rename it",
        id='parameter-outside-environment',
    ),
    pytest.param(
        declaration(VALID_SECRET + "    tags: {managed-by: me}\n"),
        12, 'secrets[0].tags.managed-by',
        'the layout sets the managed-by tag itself; remove it',
        id='reserved-tag',
    ),
    pytest.param(
        declaration(VALID_SECRET + "    tags: {owner: " + "o" * 257 + "}\n"),
        12, 'secrets[0].tags.owner',
        'must be at most 256 characters — Tag value: up to 256 letters, digits, spaces or _.:/=+-@.',
        id='tag-value-too-long',
    ),
    pytest.param(
        declaration(VALID_SECRET + "    tags: {environment: dev}\n"),
        12, 'secrets[0].tags.environment',
        "the environment tag must be 'prod' (policies and cost reports rely on it); fix or remove it",
        id='environment-tag-mismatch',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("kind: api-key", "kind: database").replace("{from_config: appApiKey}", "{generate: {key: password, length: 4096}, template: {notes: " + "n" * 62000 + "}}").replace("function: api-key-rotator", "managed: rds-mysql-single-user")),
        9, 'secrets[0].value',
        'the rendered value would be 66125 bytes; Secrets Manager stores at most 65536: shorten the template or the generated length',
        id='template-too-large',
    ),
    pytest.param(
        declaration("defaults:\n  recovery_window_days: 2\n" + VALID_SECRET),
        7, 'defaults.recovery_window_days',
        'must be at least 7 — Days a deleted secret can be restored (7-30).',
        id='defaults-bad-window',
    ),
    pytest.param(
        declaration('kms:\n  keys: {us-west-2: "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}\n' + VALID_SECRET),
        7, 'kms.keys.us-west-2',
        'this key is in us-east-1, not us-west-2; a secret and its replicas need a key in their own region',
        id='kms-key-in-wrong-region',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("roles: [AppRole]}]", "roles: [AppRole}]")),
        11, '(document)',
        "YAML syntax error: did not find expected ',' or ']'; fix the YAML at this position",
        id='yaml-syntax-error',
    ),
    pytest.param(
        HEADER + "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
        6, 'd[7][9][0]',
        'aliases expand to more than 10000 extra values; write the repeated part out or use fewer nested aliases',
        id='alias-bomb',
    ),
    pytest.param(
        declaration(VALID_SECRET + '    import_id: "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/app/other-AbCdEf"\n'),
        12, 'secrets[0].import_id',
        'import_id adopts an existing secret of the same name; this ARN names another secret: use the ARN of prod/app/api-key or rename the secret',
        id='import-id-of-another-secret',
    ),
    pytest.param(
        declaration(VALID_SECRET.replace("{from_config: appApiKey}", "{generate: {length: 40}, template: {username: admin}}")),
        9, 'secrets[0].value.template',
        'template builds a JSON value; set format: json or remove template',
        id='template-without-json',
    ),    pytest.param(
        declaration(VALID_SECRET.replace("kind: api-key", "kind: database").replace("{from_config: appApiKey}", "{generate: {key: password}, template: {username: app}}").replace("function: api-key-rotator", "managed: rds-postgresql-multi-user")),
        10, 'secrets[0].rotation.managed',
        "multi-user rotation signs in with a superuser secret to create the alternating user; add masterarn: <ARN of that secret> to value.template (or use the -single-user function)",
        id='multi-user-without-master-secret',
    ),    pytest.param(
        declaration('kms:\n  keys: {us-east-1: "arn:aws:kms:us-east-1:111111111111:alias/secrets/prod"}\n' + VALID_SECRET),
        7, 'kms.keys.us-east-1',
        "is not in the expected form — The key ARN (arn:aws:kms:<region>:<account>:key/<id>) of an existing customer managed key in that region; not an alias: IAM grants and key policies match keys by key ARN only.",
        id='kms-alias-instead-of-key',
    ),
]


def test_the_base_declaration_of_the_table_is_valid():
    assert issues_of(declaration(VALID_SECRET)) == []


@pytest.mark.parametrize(("text", "line", "path", "message"), INVALID_DECLARATIONS)
def test_invalid_declaration_is_rejected_at_its_line(text, line, path, message):
    found = [(issue.file, issue.line, issue.path, issue.message) for issue in issues_of(text)]
    assert ("env.yaml", line, path, message) in found


def test_the_table_covers_at_least_thirty_distinct_rules():
    assert len({param.id for param in INVALID_DECLARATIONS}) >= 30
