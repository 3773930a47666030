"""Fixtures for the catalog tests: the real packaged catalog, never a mock."""

from __future__ import annotations

from typing import Any

import pytest

from appfn.catalog import Catalog, load_catalog, make_context
from appfn.catalog.model import read_events_json

# A fixed event time so contexts built in tests are reproducible.
CREATED_AT = "Tue Jan 25 2022 12:36:49 GMT+0300"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def events() -> dict[str, Any]:
    """A fresh parse of the packaged events.json (tests may change it)."""
    return read_events_json()


@pytest.fixture
def login_context() -> dict[str, Any]:
    """A valid customer.login context around the documented example (a fresh copy)."""
    return make_context(
        "customer.login", None, settings={"crmApiUrl": "https://api.crm.com"}, created_at=CREATED_AT
    )


@pytest.fixture
def login_data(login_context: dict[str, Any]) -> dict[str, Any]:
    return login_context["payload"]["data"]
