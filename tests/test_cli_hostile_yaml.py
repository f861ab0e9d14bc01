"""Issue 11, command line: hostile YAML gets a located message and exit 1, never a traceback, in
bounded time; values YAML 1.1 reads as something else are refused; credentials are never echoed.

PyYAML behaviour cited: lib/yaml/constructor.py (SafeConstructor.construct_yaml_bool indexes
`bool_values[value.lower()]` -> KeyError; construct_yaml_timestamp calls `.groupdict()` on a failed
match -> AttributeError; construct_yaml_float multiplies base-60 parts as floats -> OverflowError;
construct_yaml_int multiplies base-60 parts as ints -> quadratic time) and lib/yaml/resolver.py
(the YAML 1.1 implicit int/float/bool forms: https://yaml.org/type/int.html, /float.html, /bool.html).
"""

from __future__ import annotations

import json
import time

import pytest

from cli_support import assert_no_traceback, run_main
from declaration_support import VALID_ROTATION, VALID_SECRET, declaration

QUOTE = "quote it to make it text"


def validate(tmp_path, text: str, *options: str):
    file = tmp_path / "prod.yaml"
    file.write_text(text, encoding="utf-8")
    result = run_main("validate", *options, str(file))
    assert_no_traceback(result)
    return result, str(file)


TRACEBACKS_BEFORE = [
    pytest.param("a: &a {<<: *a}\n", "1:4: a: this '<<' merges a mapping into itself (a recursive alias); "
                 "point it at another mapping", id="recursive-merge-key"),
    pytest.param("a: !!bool maybe\n", f"1:4: a: not a valid tag:yaml.org,2002:bool value; {QUOTE}", id="bool-maybe"),
    pytest.param('a: !!bool ""\n', f"1:4: a: not a valid tag:yaml.org,2002:bool value; {QUOTE}", id="bool-empty"),
    pytest.param("a: !!timestamp notatime\n", f"1:4: a: not a valid tag:yaml.org,2002:timestamp value; {QUOTE}",
                 id="timestamp-notatime"),
    pytest.param("a: " + ":".join(["1"] * 175) + ".5\n",
                 "1:4: a: a number longer than 32 characters; no field takes one: shorten it, or quote it to make it text",
                 id="base-60-float-of-175-parts"),
]


@pytest.mark.parametrize(("text", "expected"), TRACEBACKS_BEFORE)
def test_constructor_failures_are_located_messages(tmp_path, text, expected):
    result, file = validate(tmp_path, text)
    assert (result.returncode, result.stdout) == (1, f"{file}:{expected}\n")


def test_a_window_of_5000_digits_is_refused_by_its_form(tmp_path):
    """int() of more than 4,300 digits raises ValueError (Python's integer string conversion limit)."""
    text = declaration(VALID_SECRET.replace("every_days: 30", "every_days: 30, window: " + "9" * 5000 + "h"))
    result, file = validate(tmp_path, text)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{file}:10:") and "secrets[0].rotation.window: is not in the expected form" in result.stdout


def test_a_megabyte_of_base_60_is_refused_in_bounded_time(tmp_path):
    """Before: 36-44 s in construct_yaml_int's base-60 loop (big-int multiplications)."""
    text = "recovery_window_days: " + ":".join(["59"] * (1024 * 1024 // 3 - 20)) + "\n"
    started = time.monotonic()
    result, file = validate(tmp_path, text)
    assert time.monotonic() - started < 10
    assert result.stdout == (f"{file}:1:23: recovery_window_days: a number longer than 32 characters; "
                             "no field takes one: shorten it, or quote it to make it text\n")


SILENTLY_ACCEPTED_BEFORE = [
    pytest.param("every_days: 30", "every_days: 0777", "10:55", "secrets[0].rotation.every_days",
                 "YAML 1.1 reads a number with a leading 0 as octal (PyYAML reads 0777 as 511); "
                 "write a plain decimal number, or quote the value to make it text", id="octal-every-days"),
    pytest.param("every_days: 30", "every_days: 1:30", "10:55", "secrets[0].rotation.every_days",
                 "YAML 1.1 reads numbers with ':' as base 60 (PyYAML reads 1:30 as 90); "
                 "write a plain decimal number, or quote the value to make it text", id="base-60-every-days"),
    pytest.param("every_days: 30", "every_days: yes", "10:55", "secrets[0].rotation.every_days",
                 "must be a whole number — Rotate every N days (1-1000).", id="yes-every-days"),
    pytest.param("value: {from_config: appApiKey}",
                 "value: {generate: {key: password}, template: {port: .nan}}\n    format: json", "9:57",
                 "secrets[0].value.template.port",
                 "not a finite number (.nan and .inf cannot be stored in JSON or sent to AWS); "
                 "write a number, or quote it to make it text", id="nan-port"),
    pytest.param("roles: [AppRole]", "roles: [AppRоle]", "11:43", "secrets[0].readers[0].roles[0]",
                 "is not in the expected form — An IAM role name in the reader account (ASCII letters, digits and "
                 "_+=,.@-), optionally with its path (team/AppRole).", id="cyrillic-o-in-role-name"),
    pytest.param("readers: [{account: prod-app, roles: [AppRole]}]",
                 "readers: !!set {x}", "11:14", "secrets[0].readers",
                 "unsupported YAML tag tag:yaml.org,2002:set on a mapping; remove the tag (this format reads plain "
                 "mappings only and would otherwise drop what the tag means)", id="set-tag-on-mapping"),
    pytest.param("readers: [{account: prod-app, roles: [AppRole]}]",
                 "readers: !!omap [{account: prod-app}]", "11:14", "secrets[0].readers",
                 "unsupported YAML tag tag:yaml.org,2002:omap on a sequence; remove the tag (this format reads plain "
                 "sequences only and would otherwise drop what the tag means)", id="omap-tag-on-sequence"),
    pytest.param("readers: [{account: prod-app, roles: [AppRole]}]",
                 "readers: !custom [{account: prod-app, roles: [AppRole]}]", "11:14", "secrets[0].readers",
                 "unsupported YAML tag !custom on a sequence; remove the tag (this format reads plain "
                 "sequences only and would otherwise drop what the tag means)", id="local-tag-on-sequence"),
]


@pytest.mark.parametrize(("written", "replacement", "position", "path", "message"), SILENTLY_ACCEPTED_BEFORE)
def test_values_read_as_something_else_are_refused(tmp_path, written, replacement, position, path, message):
    result, file = validate(tmp_path, declaration(VALID_SECRET.replace(written, replacement)))
    assert (result.returncode, result.stdout) == (1, f"{file}:{position}: {path}: {message}\n")


@pytest.mark.parametrize("plain", ["every_days: 30", "every_days: +30", "every_days: 7"])
def test_plain_decimal_numbers_still_pass(tmp_path, plain):
    result, file = validate(tmp_path, declaration(VALID_SECRET.replace("every_days: 30", plain)))
    assert (result.returncode, result.stdout) == (0, f"{file}: valid (1 secret, 0 parameters)\n")


@pytest.mark.parametrize(("content", "position"), [
    pytest.param(b"environment: prod\nsecurity_account: \"1\x00\"\n", "2:21", id="nul-byte"),
    pytest.param("environment: prod\n".encode("utf-16-le"), "1:2", id="utf-16-without-bom"),
])
def test_nul_bytes_are_reported_where_they_are(tmp_path, content, position):
    file = tmp_path / "prod.yaml"
    file.write_bytes(content)
    result = run_main("validate", str(file))
    assert (result.returncode, result.stdout) == (1, (
        f"{file}:{position}: (document): a NUL character (U+0000) is not allowed in YAML; "
        "if the file is UTF-16, save it as UTF-8, otherwise remove the character\n"))


# --- credentials -------------------------------------------------------------------------------------

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
GITHUB_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
FIX = "secret values never go into git"


ECHOED_BEFORE = [
    pytest.param("rotation: {function", f"tags: {{{AWS_KEY}: x}}\n    rotation: {{function", "secrets[0].tags.<credential>",
                 id="credential-as-tag-key"),
    pytest.param("value: {from_config: appApiKey}",
                 f"value: {{generate: {{key: password}}, template: {{{GITHUB_TOKEN}: 1}}}}\n    format: json",
                 'secrets[0].value.template.<credential>', id="credential-as-template-key"),
    pytest.param("rotation: {function", f"replicas: [{AWS_KEY}]\n    rotation: {{function", "is not an AWS region",
                 id="credential-as-replica"),
    pytest.param("rotation: {function", f"{GITHUB_TOKEN}: 1\n    rotation: {{function", "unknown field '<credential>'",
                 id="credential-as-unknown-key"),
]


@pytest.mark.parametrize("output", ["text", "json"])
@pytest.mark.parametrize(("written", "replacement", "shown"), ECHOED_BEFORE)
def test_credentials_in_keys_and_values_are_never_echoed(tmp_path, written, replacement, shown, output):
    result, _ = validate(tmp_path, declaration(VALID_SECRET.replace(written, replacement)), "--format", output)
    assert result.returncode == 1
    assert AWS_KEY not in result.stdout and GITHUB_TOKEN not in result.stdout
    assert shown in (result.stdout if output == "text" else json.dumps(json.loads(result.stdout)))


@pytest.mark.parametrize(("header_line", "replacement"), [
    pytest.param("primary_region: us-east-1", f"primary_region: {AWS_KEY}", id="primary-region"),
    pytest.param('  prod-app: "222222222222"', f'  {AWS_KEY}: "222222222222"', id="account-name"),
])
def test_credentials_in_the_header_are_never_echoed(tmp_path, header_line, replacement):
    result, _ = validate(tmp_path, declaration(VALID_SECRET).replace(header_line, replacement))
    assert result.returncode == 1 and result.stdout
    assert AWS_KEY not in result.stdout


def _binary(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


CAUGHT_NOWHERE_BEFORE = [
    pytest.param("kind: api-key", f"kind: api-key\n    description: rotated from {AWS_KEY}", "9:18",
                 "secrets[0].description", "AWS Access Key", id="secret-description"),
    pytest.param(f"rotation: {VALID_ROTATION}",
                 f'rotation: {{enabled: false, reason: "{GITHUB_TOKEN}"}}', "10:40",
                 "secrets[0].rotation.reason", "Base64 High Entropy String, GitHub Token", id="rotation-reason"),
    pytest.param("rotation: {function", f"tags: {{note: !!binary {_binary(GITHUB_TOKEN)}}}\n    rotation: {{function",
                 "10:18", "secrets[0].tags.note", "Base64 High Entropy String, GitHub Token", id="binary-tag-value"),
]


@pytest.mark.parametrize(("written", "replacement", "position", "path", "detectors"), CAUGHT_NOWHERE_BEFORE)
def test_credentials_in_free_text_are_caught(tmp_path, written, replacement, position, path, detectors):
    result, file = validate(tmp_path, declaration(VALID_SECRET.replace(written, replacement)))
    assert result.returncode == 1
    assert f"{file}:{position}: {path}: this looks like a credential ({detectors}); {FIX}" in result.stdout
    assert AWS_KEY not in result.stdout and GITHUB_TOKEN not in result.stdout


def test_a_credential_in_a_parameter_description_is_caught(tmp_path):
    text = declaration(VALID_SECRET + f"parameters:\n  - {{name: /prod/app/mode, value: a, description: \"{AWS_KEY}\"}}\n")
    result, file = validate(tmp_path, text)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{file}:13:51: parameters[0].description: this looks like a credential (AWS Access Key)")


def test_ordinary_descriptions_and_reasons_pass(tmp_path):
    text = declaration(VALID_SECRET.replace("kind: api-key", "kind: api-key\n    description: The payment provider's API key"))
    result, file = validate(tmp_path, text)
    assert (result.returncode, result.stdout) == (0, f"{file}: valid (1 secret, 0 parameters)\n")


def test_a_plaintext_from_config_value_in_the_stack_file_is_refused(tmp_path):
    """`pulumi config set --secret` stores `{secure: v1:...}`; a plain value is the credential in git
    (https://www.pulumi.com/docs/iac/concepts/secrets/)."""
    (tmp_path / "Pulumi.yaml").write_text("name: secrets-layout\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(
        f"config:\n  aws:region: us-east-1\n  secrets-layout:appApiKey: {GITHUB_TOKEN}\n")
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "prod.yaml").write_text(declaration(VALID_SECRET))
    result = run_main("validate", "environments/prod.yaml", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, (
        "Pulumi.prod.yaml:3:29: config[\"secrets-layout:appApiKey\"]: the from_config value appApiKey is stored in "
        "plain text, so the credential is in git; remove the line, rotate the credential, and set it with "
        "pulumi config set --secret --stack prod appApiKey\n"))

    (tmp_path / "Pulumi.prod.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  secrets-layout:appApiKey:\n    secure: v1:AAAABBBB\n")
    result = run_main("validate", "environments/prod.yaml", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "environments/prod.yaml: valid (1 secret, 0 parameters)\n")


@pytest.mark.parametrize("output", ["text", "json", "markdown", "sarif"])
def test_preview_reports_of_an_invalid_declaration_never_echo_a_credential_key(tmp_path, output):
    """SARIF goes to code scanning, markdown to a pull request comment: neither may carry the key."""
    file = tmp_path / "prod.yaml"
    file.write_text(declaration(VALID_SECRET.replace("rotation: {function", f"tags: {{{AWS_KEY}: x}}\n    rotation: {{function")))
    result = run_main("preview", str(file), "--format", output)
    assert_no_traceback(result)
    assert result.returncode == 1
    assert AWS_KEY not in result.stdout + result.stderr
    assert "<credential>" in result.stdout
