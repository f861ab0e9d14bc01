"""Pytest fixtures for the fake provider; test modules import them by name to use them."""

import pytest

from rotation_support.fake_provider import FakeProvider


@pytest.fixture(scope="module")
def provider_server():
    provider = FakeProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def provider(provider_server):
    """The module's provider, emptied of every key, client, token, failure and count of the test before."""
    provider_server.reset()
    return provider_server
