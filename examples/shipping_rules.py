"""Shipping rules, then an air waybill from the carrier (shipment.creating, sync).

The demo store's "Shipping Rules" app runs this (``appfn serve --demo``): it is
``shipment_creating.py`` adapted to the request inspector, which stands in for the carrier and
answers ``{"ok": true, "id": "req_..."}``, with two rules first. It runs before the shipment is
stored and blocks the merchant, so it stays fast: one carrier call with a 2 s timeout.
Returning Shipment.error() rejects the shipment with the message.

Settings: carrierApiUrl, carrierApiKey (format: password), maxCashOnDelivery (SAR; 0: no limit).
"""

from appfn import Shipment, ShipmentStatus
from appfn.errors import FetchError
from appfn.sdk import ShipmentContext


async def handler(context: ShipmentContext) -> Shipment:
    shipment = context.payload.data
    url = context.settings.get("carrierApiUrl")
    if not url:
        return Shipment.error().set_message("The carrier app is not configured: set carrierApiUrl")
    ship_to = shipment.get("ship_to") or {}
    if not ship_to.get("city"):
        return Shipment.error().set_message("The shipping address has no city")
    limit = float(context.settings.get("maxCashOnDelivery") or 0)
    cod = float((shipment.get("cash_on_delivery") or {}).get("amount") or 0)
    if limit and cod > limit:
        return Shipment.error().set_message(f"Cash on delivery above {limit:g} SAR is not accepted ({cod:g} SAR)")
    try:
        response = await context.fetch(
            url,
            method="POST",
            headers={"Authorization": f"Bearer {context.settings.get('carrierApiKey', '')}"},
            json={"order_id": shipment.get("order_id"), "type": shipment.get("type"), "city": ship_to.get("city"),
                  "packages": len(shipment.get("packages") or [])},
            timeout=2,
        )
        awb = response.raise_for_status().json()
    except FetchError as exc:
        return Shipment.error().set_message(f"The carrier could not create the shipment: {exc}")
    number = str(awb.get("number") or awb.get("id") or "")
    if not number:
        return Shipment.error().set_message("The carrier answered without a shipment number")
    print(f"order {shipment.get('order_id')}: air waybill {number}")
    return (
        Shipment.success()
        .set_shipment_number(number)
        .set_tracking_number(awb.get("tracking_number", number))
        .set_tracking_link(awb.get("tracking_url", f"https://track.appfn.example/{number}"))
        .set_status(ShipmentStatus.IN_PROGRESS)
    )
