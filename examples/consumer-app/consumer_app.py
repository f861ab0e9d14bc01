"""A payments service that calls its provider with an API key read from the layout, by name.

Run it in the reader account (credentials of a role that has the policy
`secrets-layout consumer-policy prod/payments/stripe-api-key --account prod-app` prints):

    SECURITY_ACCOUNT=111111111111 AWS_REGION=us-east-1 \\
    python consumer_app.py prod/payments/stripe-api-key https://api.payments-provider.example/v1/api_keys/self

It prints whether the provider accepted the key, never the key.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request

import boto3

from secret_reader import SecretReader


class PaymentsClient:
    """Calls the provider with the key the reader gives; asks the reader on every call, so a
    rotated key is used as soon as the cache has refreshed."""

    def __init__(self, reader: SecretReader, secret_name: str, verify_url: str) -> None:
        self._reader = reader
        self._secret_name = secret_name
        self._verify_url = verify_url

    def key_is_accepted(self) -> bool:
        key = self._reader.get_secret_string(self._secret_name, "api-key")
        request = urllib.request.Request(self._verify_url, headers={"Authorization": f"Bearer {key}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return 200 <= answer.status < 300
        except urllib.error.HTTPError as error:
            if error.code in (401, 403):
                return False
            raise RuntimeError(f"the provider answered HTTP {error.code}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("secret", help="the secret's name, e.g. prod/payments/stripe-api-key")
    parser.add_argument("verify_url", help="an https URL of the provider that answers 2xx for a valid key")
    arguments = parser.parse_args(argv)
    security_account = os.environ.get("SECURITY_ACCOUNT", "")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
    if not security_account or not region:
        sys.stderr.write("consumer_app: set SECURITY_ACCOUNT (the layout's security_account) and AWS_REGION\n")
        return 2
    reader = SecretReader(boto3.client("secretsmanager", region_name=region),
                          security_account=security_account, region=region)
    accepted = PaymentsClient(reader, arguments.secret, arguments.verify_url).key_is_accepted()
    print(f"{arguments.secret}: the provider {'accepted' if accepted else 'refused'} the key")
    return 0 if accepted else 1


if __name__ == "__main__":
    sys.exit(main())
