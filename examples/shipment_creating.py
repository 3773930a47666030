"""Create an air waybill when the merchant creates a shipment (shipment.creating, sync).

Runs before the shipment is stored and blocks the merchant, so it stays fast: one carrier
call with a 2 s timeout. Returning Shipment.error() rejects the shipment with the message.

Settings: carrierApiUrl, carrierApiKey (format: password).
"""

from appfn import Shipment, ShipmentStatus
from appfn.errors import FetchError
from appfn.sdk import ShipmentContext


async def handler(context: ShipmentContext) -> Shipment:
    shipment = context.payload.data
    url = context.settings.get("carrierApiUrl")
    if not url:
        return Shipment.error().set_message("The carrier app is not configured: set carrierApiUrl")
    try:
        response = await context.fetch(
            url,
            method="POST",
            headers={"Authorization": f"Bearer {context.settings.get('carrierApiKey', '')}"},
            json={"order_id": shipment.get("order_id"), "ship_to": shipment.get("ship_to")},
            timeout=2,
        )
        awb = response.raise_for_status().json()
    except FetchError as exc:
        return Shipment.error().set_message(f"The carrier could not create the shipment: {exc}")
    return (
        Shipment.success()
        .set_shipment_number(awb["number"])
        .set_tracking_number(awb.get("tracking_number", awb["number"]))
        .set_tracking_link(awb.get("tracking_url", ""))
        .set_pdf_label(awb.get("label_url", ""))
        .set_status(ShipmentStatus.IN_PROGRESS)
    )
