"""Resp and Shipment builders, and the normalisation of whatever a handler returns."""

from __future__ import annotations

import pytest

import appfn
from appfn import Resp, Shipment, ShipmentStatus
from appfn.errors import ResponseContractError
from appfn.sdk import normalize_response


def test_success_defaults_to_status_200_and_empty_data() -> None:
    assert Resp.success().to_dict() == {
        "success": True, "data": {}, "error": None, "status": 200, "message": None,
    }  # fmt: skip


def test_setters_chain_and_camel_case_aliases_match() -> None:
    snake = Resp.success().set_data({"order_id": 1}).set_status(201).set_message("made")
    camel = Resp.success().setData({"order_id": 1}).setStatus(201).setMessage("made")
    assert snake.to_dict() == camel.to_dict()
    assert snake.to_dict()["status"] == 201


def test_error_carries_its_message_as_the_error_text() -> None:
    body = Resp.error().set_message("Upstream timeout").set_status(504).to_dict()
    assert body == {
        "success": False, "data": {}, "error": "Upstream timeout", "status": 504, "message": "Upstream timeout",
    }  # fmt: skip
    assert Resp.error().to_dict()["status"] == 400
    assert Resp.error().to_dict()["error"] == "the function returned an error"


def test_onboarding_fields() -> None:
    body = Resp.error().set_fields("Fix the form", {"email": ["is invalid"]}).to_dict()
    assert body["fields"] == {"email": ["is invalid"]} and body["error"] == "Fix the form"


@pytest.mark.parametrize("status", [99, 600, "200", True, 200.0])
def test_bad_status_codes_are_refused(status: object) -> None:
    with pytest.raises(ValueError, match="HTTP status code"):
        Resp.success().set_status(status)  # type: ignore[arg-type]


def test_set_data_needs_a_dict() -> None:
    with pytest.raises(TypeError, match="set_data expects a dict, got list"):
        Resp.success().set_data([1])  # type: ignore[arg-type]


def test_shipment_success_with_every_setter() -> None:
    body = (
        Shipment.success()
        .set_shipment_number("AWB-1")
        .set_tracking_number(12345)
        .set_tracking_link("https://carrier.example/t/12345")
        .set_pdf_label("https://carrier.example/l/12345.pdf")
        .set_status(ShipmentStatus.IN_TRANSIT)
        .set_status_note("picked up")
        .set_cost(25.5)
        .to_dict()
    )
    assert body["success"] is True and body["status"] == 200
    assert body["data"] == {
        "shipment_number": "AWB-1",
        "tracking_number": "12345",
        "tracking_link": "https://carrier.example/t/12345",
        "label": {"format": "pdf", "url": "https://carrier.example/l/12345.pdf"},
        "status": "in_transit",
        "status_note": "picked up",
        "cost": 25.5,
    }


def test_shipment_success_needs_a_number() -> None:
    with pytest.raises(ResponseContractError, match="set_shipment_number"):
        Shipment.success().set_tracking_number("1").to_dict()


def test_shipment_status_takes_the_enum_or_its_name_not_an_http_code() -> None:
    assert Shipment.success().set_shipment_number(1).set_status("DELIVERED").to_dict()["data"]["status"] == "delivered"
    with pytest.raises(TypeError, match="set_http_status"):
        Shipment.success().set_status(200)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown shipment status 'LOST_AT_SEA'"):
        Shipment.success().set_status("LOST_AT_SEA")


def test_shipment_error_blocks_with_its_message() -> None:
    body = Shipment.error().set_message("Carrier is down").to_dict()
    assert body["success"] is False and body["error"] == "Carrier is down"


def test_the_enum_has_every_documented_status() -> None:
    assert [m.name for m in ShipmentStatus] == [
        "IN_PROGRESS", "IN_TRANSIT", "RECEIVED_AT_FINAL_HUB", "TO_BE_REATTEMPTED", "REATTEMPTED",
        "UNABLE_TO_DELIVER", "DELIVERING", "DELIVERED", "PARTIALLY_DELIVERED", "SHIPPED", "CANCELLED",
        "LOST", "DAMAGED", "RETURN_TO_ORIGIN", "RETURN_IN_PROGRESS",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "the handler returned nothing (None)"),
        (42, "the handler returned int (42)"),
        ({"data": {}}, "needs a boolean 'success', got None"),
        ({"success": "yes"}, "needs a boolean 'success', got 'yes'"),
        ({"success": True, "data": [1]}, "'data' must be an object (dict), got list"),
        ({"success": True, "status": 9000}, "'status' must be an HTTP status code, got 9000"),
        ({"success": True, "data": {"s": {1, 2}}}, "data.s is not JSON-serialisable"),
        ({"success": True, "data": {"x": [1, float("nan")]}}, "data.x[1] is not JSON-serialisable"),
    ],
)
def test_invalid_returns_say_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(ResponseContractError, match=None) as info:
        normalize_response(value)
    assert message in str(info.value)


def test_plain_dicts_are_completed_to_the_contract() -> None:
    assert normalize_response({"success": True}) == {
        "success": True, "data": {}, "error": None, "status": 200, "message": None,
    }  # fmt: skip
    failed = normalize_response({"success": False, "message": "no"})
    assert failed["error"] == "no" and failed["status"] == 400


def test_shipment_triggers_need_a_shipment() -> None:
    with pytest.raises(ResponseContractError, match="needs a Shipment"):
        normalize_response(Resp.success(), "Shipment")
    with pytest.raises(ResponseContractError, match=r"data\.shipment_number"):
        normalize_response({"success": True, "data": {}}, "Shipment")
    assert normalize_response({"success": True, "data": {"shipment_number": "1"}}, "Shipment")["success"]
    assert normalize_response(Resp.error("rejected"), "Shipment")["error"] == "rejected"


def test_public_names() -> None:
    assert set(appfn.__all__) == {
        "Context", "FetchResponse", "Merchant", "Payload", "Resp", "Shipment", "ShipmentStatus", "__version__",
    }  # fmt: skip
