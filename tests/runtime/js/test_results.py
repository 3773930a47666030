"""What a JS handler returns becomes the contract exactly as the Python SDK would make it."""

from __future__ import annotations

from typing import Any

import pytest

from appfn.sdk import Resp, Shipment, normalize_response
from appfn.sdk.contract import ResponseContractError


def ok(out: dict[str, Any]) -> dict[str, Any]:
    assert out["error"] is None and out["error_kind"] is None, out
    return out["response"]


def test_resp_success_with_data(js) -> None:
    out = js.body("return Resp.success().setData({ customer_id: context.payload.data.id });", context={
        "payload": {"data": {"id": 5}}
    })  # fmt: skip
    assert ok(out) == {"success": True, "data": {"customer_id": 5}, "error": None, "status": 200, "message": None}


def test_resp_error_defaults_match_the_python_sdk(js) -> None:
    out = js.body('return Resp.error().setMessage("Upstream timeout").setStatus(504);')
    assert ok(out) == Resp.error().set_message("Upstream timeout").set_status(504).to_dict()
    assert ok(js.body("return Resp.error();")) == Resp.error().to_dict()
    assert ok(js.body('return Resp.error("no stock");'))["error"] == "no stock"
    assert ok(js.body("return Resp.error();"))["status"] == 400


def test_set_fields_for_onboarding_steps(js) -> None:
    out = js.body('return Resp.error().setFields("check the form", { store_url: ["must be https"] });')
    expected = Resp.error().set_fields("check the form", {"store_url": ["must be https"]}).to_dict()
    assert ok(out) == expected


def test_plain_object_returns_are_normalised(js) -> None:
    assert ok(js.body("return { success: true };")) == normalize_response({"success": True})
    out = js.body('return { success: false, error: "declined", status: 409 };')
    assert ok(out) == normalize_response({"success": False, "error": "declined", "status": 409})
    assert ok(js.body('return { success: false, message: "why" };'))["error"] == "why"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("return;", None),
        ("return null;", None),
        ("return 42;", 42),
        ('return "done";', "done"),
        ("return { data: {} };", {"data": {}}),
        ('return { success: "yes" };', {"success": "yes"}),
        ("return { success: true, data: [1, 2] };", {"success": True, "data": [1, 2]}),
        ('return { success: true, status: "ok" };', {"success": True, "status": "ok"}),
    ],
)
def test_invalid_returns_fail_with_the_sdk_message(js, body: str, expected: Any) -> None:
    out = js.body(body)
    with pytest.raises(ResponseContractError) as info:
        normalize_response(expected)
    assert out["error_kind"] == "invalid_return"
    assert out["response"] is None
    assert out["error"] == str(info.value)


def test_returning_nothing_says_so(js) -> None:
    assert js.body("console.log('no return');")["error"].startswith("the handler returned nothing")


def test_unserialisable_return(js) -> None:
    out = js.body("const a: any = { success: true, data: {} }; a.data.self = a; return a;")
    assert out["error_kind"] == "invalid_return"
    assert "cannot be turned into JSON" in out["error"] and "circular" in out["error"]
    out = js.body("return Resp.success().setData({ big: 10n });")
    assert out["error_kind"] == "invalid_return" and "BigInt" in out["error"]


def test_shipment_builder(js) -> None:
    out = js.body(
        "return Shipment.success().setShipmentNumber('AWB-1').setPdfLabel('https://l/1.pdf')"
        ".setTrackingNumber(99).setTrackingLink('https://t/99').setStatus(ShipmentStatusEnum.IN_TRANSIT)"
        ".setStatusNote('picked up').setCost(12.5);",
        return_type="Shipment",
    )
    expected = (
        Shipment.success().set_shipment_number("AWB-1").set_pdf_label("https://l/1.pdf").set_tracking_number(99)
        .set_tracking_link("https://t/99").set_status("in_transit").set_status_note("picked up").set_cost(12.5)
    )  # fmt: skip
    assert ok(out) == normalize_response(expected, "Shipment")
    assert ok(out)["data"]["status"] == "in_transit"


def test_shipment_set_label_alias_and_error(js) -> None:
    out = js.body("return Shipment.success().setShipmentNumber(7).setLabel('https://l/7.pdf');", return_type="Shipment")
    assert ok(out)["data"]["label"] == {"format": "pdf", "url": "https://l/7.pdf"}
    out = js.body("return Shipment.error('carrier down');", return_type="Shipment")
    assert ok(out) == Shipment.error("carrier down").to_dict()
    out = js.body("return Shipment.error().setMessage('no pickup');", return_type="Shipment")
    assert ok(out)["error"] == "no pickup"


def test_shipment_creating_requires_a_shipment_with_a_number(js) -> None:
    out = js.body("return Shipment.success();", return_type="Shipment")
    assert out["error_kind"] == "invalid_return"
    assert out["error"] == "Shipment.success() needs set_shipment_number(...) before it is returned"
    out = js.body("return Resp.success();", return_type="Shipment")
    assert out["error"] == "this trigger needs a Shipment: Shipment.success().set_shipment_number(...)"
    out = js.body("return { success: true, data: {} };", return_type="Shipment")
    assert out["error"].startswith("a successful shipment needs data.shipment_number")
    out = js.body("return { success: true, data: { shipment_number: 'A1' } };", return_type="Shipment")
    assert ok(out)["data"] == {"shipment_number": "A1"}


def test_shipment_status_enum_matches_python(js) -> None:
    out = js.body("return Resp.success().setData({ e: ShipmentStatusEnum });")
    from appfn.sdk import ShipmentStatus

    assert ok(out)["data"]["e"] == {m.name: m.value for m in ShipmentStatus}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("Resp.success().setStatus(99)", "RangeError: status must be an HTTP status code between 100 and 599, got 99"),
        ("Resp.success().setData([1])", "TypeError: setData expects an object, got array"),
        ("Shipment.success().setStatus(200)", "TypeError: Shipment.setStatus takes a ShipmentStatusEnum value"),
        ("Shipment.success().setStatus('flying')", "RangeError: unknown shipment status 'flying'"),
        ("Shipment.success().setCost(-1)", "RangeError: setCost expects a non-negative number (VAT included), got -1"),
    ],
)
def test_builder_misuse_throws_where_it_happens(js, call: str, message: str) -> None:
    out = js.body(f"  return {call};")
    assert out["error_kind"] == "exception"
    assert out["error"].startswith(message)
    assert "(handler.ts:2)" in out["error"]


def test_exception_reports_message_and_user_stack_lines(js) -> None:
    source = (
        "export default async (context: any): Promise<Resp> => {\n"
        "  const helper = (x: any) => {\n"
        "    return x.missing.field;\n"
        "  };\n"
        "  return Resp.success().setData({ v: helper(context) });\n"
        "};\n"
    )
    out = js.run(source)
    assert out["error_kind"] == "exception" and out["response"] is None
    lines = out["error"].split("\n")
    assert lines[0] == "TypeError: Cannot read properties of undefined (reading 'field')"
    assert lines[1].strip() == "at helper (handler.ts:3)"
    assert "handler.ts:5" in lines[2]
    assert all("handler.ts:" in line for line in lines[1:])


def test_thrown_non_errors_and_custom_errors(js) -> None:
    assert js.body('throw "plain";')["error"] == "'plain'"
    assert js.body("throw { code: 7 };")["error"] == "{ code: 7 }"
    out = js.body("class MyErr extends Error { name = 'MyErr' }\nthrow new MyErr('bad');")
    assert out["error"].startswith("MyErr: bad\n    at ")


def test_load_errors(js) -> None:
    out = js.run("const x = 1;\n")
    assert out["error_kind"] == "load"
    assert "no default export function" in out["error"]
    out = js.run("throw new Error('at load');\nexport default async () => Resp.success();\n")
    assert out["error_kind"] == "load"
    assert out["error"] == "Error: at load\n    at handler.ts:1"


def test_commonjs_module_exports_function_is_accepted(js) -> None:
    out = js.run("module.exports = async (ctx) => ({ success: true, data: { ok: 1 } });\n", filename="h.js")
    assert ok(out)["data"] == {"ok": 1}


def test_sync_handler_and_non_async_return_values(js) -> None:
    out = js.run("export default (context: any) => Resp.success().setMessage('sync');\n")
    assert ok(out)["message"] == "sync"


def test_set_error_from_get_started_is_accepted(js) -> None:
    out = js.body("return Resp.error().setError({ message: 'Invalid coupon' }).setStatus(422);")
    assert ok(out)["error"] == "Invalid coupon" and ok(out)["status"] == 422
    out = js.body("return Resp.error().setError({ message: 'Check form', fields: { code: ['required'] } });")
    assert ok(out)["fields"] == {"code": ["required"]}


def test_function_declaration_export(js) -> None:
    source = (
        "export default async function handler(context: any): Promise<Resp> {\n"
        "  return Resp.success().setData({ event: context.payload.event });\n"
        "}\n"
    )
    assert ok(js.run(source))["data"] == {"event": "customer.created"}
