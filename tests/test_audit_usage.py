"""Hostile input to `secrets-layout audit`, through the CLI: one line, the documented exit code, bounded
time, and a password given in --endpoint-url never printed."""

from __future__ import annotations

import pytest

from audit_support import account, audit, healthy, moto_server, write_declaration  # noqa: F401 - fixtures

PASSWORD = "hunter2-not-for-print"


@pytest.mark.parametrize("url, shown", [
    ("not-a-url", "'not-a-url'"),
    ("http://", "'http://'"),
    ("ftp://127.0.0.1:21", "'ftp://127.0.0.1:21'"),
    ("http://127.0.0.1:99999", "'http://127.0.0.1:99999'"),
    ("http://127.0.0.1:port", "'http://127.0.0.1:port'"),
    ("http://bad host/", "'http://bad host/'"),
    (f"http://auditor:{PASSWORD}@bad host:1", "'http://***@bad host:1'"),
])
def test_an_endpoint_url_that_is_no_url_is_a_usage_error(tmp_path, capsys, url, shown):
    declaration, _ = write_declaration(tmp_path)

    code, out, err = audit(capsys, str(declaration), "--endpoint-url", url)

    assert (code, out) == (2, "")
    assert err == (f"secrets-layout audit: error: --endpoint-url {shown} is not an endpoint URL; "
                   "write http://HOST[:PORT] or https://HOST[:PORT]\n")
    assert PASSWORD not in err


def test_a_password_in_the_endpoint_url_is_never_printed(tmp_path, monkeypatch, capsys):
    """Nothing listens on port 9: botocore's EndpointConnectionError quotes the URL it could not reach.
    (One attempt instead of the audit's five, so the test does not wait through the retries.)"""
    from botocore.config import Config

    from secrets_layout.audit import collect

    monkeypatch.setattr(collect, "CLIENT_CONFIG", Config(retries={"mode": "standard", "max_attempts": 1}))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    declaration, config = write_declaration(tmp_path)

    code, out, err = audit(capsys, str(declaration), "--policy-config", str(config),
                           "--endpoint-url", f"http://auditor:{PASSWORD}@127.0.0.1:9")

    assert (code, out) == (2, "")
    assert err == ("secrets-layout audit: cannot audit: kms DescribeKey alias/secrets/prod in us-east-1: "
                   "Could not connect to the endpoint URL: \"http://***@127.0.0.1:9/\"\n")


@pytest.mark.parametrize("arguments, message", [
    (["--until", "9999-12-31"], "--until '9999-12-31' is out of range; write a date from 1970-01-01 to 9999-12-30"),
    (["--since", "9999-12-31T23:00:00-05:00"],
     "--since '9999-12-31T23:00:00-05:00' is out of range; write a date from 1970-01-01 to 9999-12-30"),
    (["--since", "0001-01-01"], "--since '0001-01-01' is out of range; write a date from 1970-01-01 to 9999-12-30"),
    (["--until", "0001-01-03"], "--until '0001-01-03' is out of range; write a date from 1970-01-01 to 9999-12-30"),
    (["--unread-days", "10000000000"], "--unread-days must be a whole number of days from 1 to 36500"),
    (["--unread-days", "36501"], "--unread-days must be a whole number of days from 1 to 36500"),
    (["--unread-days", "0"], "--unread-days must be a whole number of days from 1 to 36500"),
])
def test_dates_and_day_counts_out_of_range_are_usage_errors(tmp_path, capsys, arguments, message):
    declaration, _ = write_declaration(tmp_path)

    code, out, err = audit(capsys, str(declaration), *arguments)

    assert (code, out) == (2, "")
    assert err == f"secrets-layout audit: error: {message}\n"


@pytest.mark.slow
def test_the_widest_period_and_unread_days_are_accepted(tmp_path, account, capsys):
    declaration, config = write_declaration(tmp_path)
    healthy(account, declaration)

    code, out, err = audit(capsys, str(declaration), "--policy-config", str(config), "--no-lookup-events",
                           "--since", "1970-01-01", "--until", "9999-12-30", "--unread-days", "36500",
                           "--endpoint-url", account.endpoint_url)

    assert (code, err) == (0, ""), out
    assert "access 1970-01-01 .." in out


MOTO_500 = ("<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n"
            "<p>The server encountered an internal error and was unable to complete your request.</p>\n")


@pytest.mark.parametrize("code, message, status, reason", [
    ("AccessDeniedException", "User: arn:aws:sts::1:assumed-role/A/s is not authorized", 400,
     "AccessDeniedException: User: arn:aws:sts::1:assumed-role/A/s is not authorized"),
    ("500", MOTO_500, 500,
     "HTTP 500 and an HTML page (500 Internal Server Error) instead of an AWS answer: the endpoint may not implement "
     "this operation"),
    ("InternalFailure", "first line\nsecond line", 500, "InternalFailure: first line second line"),
    ("ValidationException", f"see http://auditor:{PASSWORD}@proxy.example:3128/", 400,
     "ValidationException: see http://***@proxy.example:3128/"),
    ("ValidationException", "x" * 1000, 400, "ValidationException: " + "x" * 376 + "..."),
])
def test_a_service_error_is_one_line_without_a_page_or_a_password(code, message, status, reason):
    from botocore.exceptions import ClientError

    from secrets_layout.audit.collect import error_reason

    error = ClientError({"Error": {"Code": code, "Message": message},
                         "ResponseMetadata": {"HTTPStatusCode": status}}, "LookupEvents")

    assert error_reason(error) == reason
