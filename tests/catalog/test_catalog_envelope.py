"""make_context builds the envelope a real event carries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from appfn.catalog import DEMO_MERCHANT_ID, Catalog, js_date_string, make_context
from appfn.errors import UnknownTriggerError

JS_DATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4}$"
)


def test_shape_and_defaults(catalog: Catalog) -> None:
    context = make_context("customer.otp.request", {"code": "5331", "contact": "+96652318526"})
    assert set(context) == {"payload", "settings", "merchant"}
    assert set(context["payload"]) == {"event", "merchant", "created_at", "data"}
    assert context["payload"]["event"] == "customer.otp.request"
    assert context["payload"]["merchant"] == DEMO_MERCHANT_ID
    assert context["merchant"] == {"id": DEMO_MERCHANT_ID}
    assert context["settings"] == {}
    assert JS_DATE.match(context["payload"]["created_at"])
    assert catalog.validate_context("customer.otp.request", context) == []


def test_given_values_are_used() -> None:
    context = make_context(
        "customer.login",
        {"id": 1},
        settings={"crmApiUrl": "https://api.crm.com"},
        merchant="1029864349",
        created_at="Wed Jun 30 2021 12:09:11 GMT+0300",
    )
    assert context["payload"]["merchant"] == "1029864349"
    assert context["merchant"] == {"id": "1029864349"}
    assert context["settings"] == {"crmApiUrl": "https://api.crm.com"}
    assert context["payload"]["created_at"] == "Wed Jun 30 2021 12:09:11 GMT+0300"


def test_data_and_settings_are_copied(catalog: Catalog) -> None:
    data = {"code": "1", "contact": "x", "nested": {"a": 1}}
    settings = {"key": {"deep": True}}
    context = make_context("customer.otp.request", data, settings=settings)
    context["payload"]["data"]["nested"]["a"] = 2
    context["settings"]["key"]["deep"] = False
    assert data["nested"]["a"] == 1
    assert settings["key"]["deep"] is True

    from_example = make_context("customer.login", None)
    from_example["payload"]["data"]["email"] = "changed"
    assert catalog.get("customer.login").example_data["email"] == "test@gmail.com"  # type: ignore[index]


def test_no_data_uses_the_example_or_an_empty_object(catalog: Catalog) -> None:
    assert (
        make_context("customer.login", None)["payload"]["data"] == catalog.get("customer.login").example_data
    )
    assert make_context("order.deleted", None)["payload"]["data"] == {}


def test_unknown_trigger() -> None:
    with pytest.raises(UnknownTriggerError, match=r"customer\.login"):
        make_context("customer.logn", {})


def test_js_date_string_matches_the_real_samples() -> None:
    riyadh = timezone(timedelta(hours=3))
    assert (
        js_date_string(datetime(2022, 1, 25, 12, 36, 49, tzinfo=riyadh))
        == "Tue Jan 25 2022 12:36:49 GMT+0300"
    )
    assert (
        js_date_string(datetime(2021, 6, 30, 12, 9, 11, tzinfo=riyadh)) == "Wed Jun 30 2021 12:09:11 GMT+0300"
    )
    assert js_date_string(datetime(2022, 1, 5, 0, 0, 0, tzinfo=UTC)) == "Wed Jan 05 2022 00:00:00 GMT+0000"
    west = timezone(-timedelta(hours=5, minutes=30))
    assert (
        js_date_string(datetime(2024, 12, 31, 23, 59, 59, tzinfo=west)) == "Tue Dec 31 2024 23:59:59 GMT-0530"
    )


def test_js_date_string_local_time_and_now() -> None:
    assert JS_DATE.match(js_date_string())
    assert JS_DATE.match(js_date_string(datetime(2022, 1, 25, 12, 36, 49)))  # naive: local time
    aware = datetime(2022, 1, 25, 9, 36, 49, tzinfo=UTC)
    context = make_context("customer.login", None, created_at=aware)
    assert context["payload"]["created_at"] == "Tue Jan 25 2022 09:36:49 GMT+0000"
