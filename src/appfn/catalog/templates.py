"""The code a new function starts from, per trigger and language (``py``, ``ts``, ``js``).

TypeScript and JavaScript use the original editor's template form: a fixed first line
``export default async (context: <ContextType>): Promise<Resp> => {`` (``Promise<Shipment>`` for
``shipment.creating``; no types in JavaScript), the body, and a fixed last line ``};``. Saving
checks those two lines (``appfn.runtime.checks``); ``first_line``/``LAST_LINE`` are what it
compares with. Python starts from ``async def handler(context)``.

The catalog gives no context type for 21 triggers; ``context_type_name`` names them (``Product``
for the merchant product events, ``<Trigger>Event`` for storefront ones, as the documented
storefront types are named). The generated ``.d.ts`` (``appfn.catalog.typescript``) declares the same names.
"""

from __future__ import annotations

from appfn.catalog.model import Trigger, load_catalog

LANGS = ("py", "ts", "js")
FILENAMES = {"py": "handler.py", "ts": "handler.ts", "js": "handler.js"}
LAST_LINE = "};"
_LANG_ALIASES = {"python": "py", "typescript": "ts", "javascript": "js"}


def normalize_lang(lang: str) -> str:
    """``py``, ``ts`` or ``js`` for a short or long language name; ValueError otherwise."""
    short = _LANG_ALIASES.get(str(lang).lower(), str(lang).lower())
    if short not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    return short


def _trigger(trigger: Trigger | str) -> Trigger:
    return trigger if isinstance(trigger, Trigger) else load_catalog().get(trigger)


def context_type_name(trigger: Trigger | str) -> str:
    """The TypeScript type of the handler's ``context`` for a trigger (e.g. ``Customer``)."""
    spec = _trigger(trigger)
    if spec.context_type:
        return spec.context_type
    if spec.category == "merchant_events" and spec.name.startswith("product."):
        return "Product"
    return "".join(part[:1].upper() + part[1:] for part in spec.name.split(".")) + "Event"


def return_type_name(trigger: Trigger | str) -> str:
    return _trigger(trigger).return_type


def first_line(trigger: Trigger | str, lang: str) -> str:
    """The fixed first line of a TypeScript (``ts``) or JavaScript (``js``) function for ``trigger``."""
    lang = normalize_lang(lang)
    if lang == "py":
        raise ValueError("Python functions have no fixed first line")
    if lang == "js":
        return "export default async (context) => {"
    spec = _trigger(trigger)
    return f"export default async (context: {context_type_name(spec)}): Promise<{spec.return_type}> => {{"


def template(trigger: Trigger | str, lang: str = "ts") -> str:
    """A runnable starting point for ``trigger`` in ``lang`` (``py``, ``ts`` or ``js``)."""
    spec = _trigger(trigger)
    lang = normalize_lang(lang)
    if lang == "py":
        return _python(spec)
    body = _JS_SHIPMENT_BODY if spec.return_type == "Shipment" else _JS_RESP_BODY
    return f"{first_line(spec, lang)}\n  // {_about(spec)}\n{body}\n{LAST_LINE}\n"


def _about(spec: Trigger) -> str:
    when = (
        "runs before the operation and can reject it (sync, 5 s limit)."
        if spec.is_sync
        else "runs in the background after the operation (async, 30 s limit)."
    )
    return f"{spec.title} ({spec.name}): {when}"


_JS_RESP_BODY = """\
  const data = context.payload.data;
  const settings = context.settings ?? {}; // this merchant's values of your app's settings
  console.log(`${context.payload.event} for store ${context.merchant?.id}`);
  // Call your own backend with a bounded timeout, e.g.:
  // const response = await fetch(settings.apiUrl, {
  //   method: "POST",
  //   headers: { "Content-Type": "application/json" },
  //   body: JSON.stringify(data),
  //   signal: AbortSignal.timeout(5000),
  // });
  return Resp.success().setData({});"""

_JS_SHIPMENT_BODY = """\
  const shipment = context.payload.data;
  const settings = context.settings ?? {}; // this merchant's values of your app's settings
  if (!settings.accountNumber) {
    return Shipment.error().setMessage("Set your carrier account number in the app settings");
  }
  // Ask the carrier for an air waybill here (await fetch(..., { signal: AbortSignal.timeout(2000) })), then:
  return Shipment.success()
    .setShipmentNumber(`AWB-${shipment.id}`)
    .setTrackingNumber(String(shipment.id))
    .setStatus(ShipmentStatusEnum.IN_PROGRESS);"""

# ---------------------------------------------------------------------------------------- Python

_PY_CONTEXT_TYPES = {
    "Customer": "CustomerContext",
    "Shipments": "ShipmentContext",
    "CommunicationEvent": "CommunicationContext",
}

_PY_HANDLER = '''"""{about}"""

from appfn import {imports}
from appfn.sdk import {context_type}


async def handler(context: {context_type}) -> {returns}:
    data = context.payload.data
    settings = context.settings  # this merchant's values of your app's settings
    print(f"{{context.payload.event}} for store {{context.merchant.id}}")
{body}
'''

_PY_RESP_BODY = """    # Call your own backend with a bounded timeout, e.g.:
    # response = await context.fetch(settings["apiUrl"], method="POST", json=data, timeout=5)
    return Resp.success().set_data({"id": data.get("id")})"""

_PY_SHIPMENT_BODY = """    if not settings.get("accountNumber"):
        return Shipment.error().set_message("Set your carrier account number in the app settings")
    # Ask the carrier for an air waybill here (await context.fetch(...)), then:
    return (
        Shipment.success()
        .set_shipment_number(f"AWB-{data.get('id')}")
        .set_tracking_number(str(data.get("id")))
        .set_status(ShipmentStatus.IN_PROGRESS)
    )"""


def _python(spec: Trigger) -> str:
    is_shipment = spec.return_type == "Shipment"
    return _PY_HANDLER.format(
        about=_about(spec),
        imports="Shipment, ShipmentStatus" if is_shipment else "Resp",
        context_type=_PY_CONTEXT_TYPES.get(spec.context_type or "", "AnyContext"),
        returns="Shipment" if is_shipment else "Resp",
        body=_PY_SHIPMENT_BODY if is_shipment else _PY_RESP_BODY,
    )
