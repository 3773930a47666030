export default async (context: Shipments): Promise<Shipment> => {
  // Create an air waybill when the merchant creates a shipment (shipment.creating, sync: the
  // merchant waits, so the carrier call is bounded to 2 s). Shipment.error() rejects the shipment
  // with its message; a success must carry the shipment number. Settings: carrierApiUrl, carrierApiKey.
  const shipment = context.payload.data;
  const settings = context.settings ?? {};
  if (!settings.carrierApiUrl) {
    return Shipment.error().setMessage("The carrier app is not configured: set carrierApiUrl");
  }
  try {
    const response = await fetch(settings.carrierApiUrl, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${settings.carrierApiKey ?? ""}`,
      },
      body: JSON.stringify({ order_id: shipment.order_id, ship_to: shipment.ship_to }),
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) {
      return Shipment.error().setMessage(`The carrier could not create the shipment: HTTP ${response.status}`);
    }
    const awb = await response.json();
    return Shipment.success()
      .setShipmentNumber(awb.number)
      .setTrackingNumber(awb.tracking_number ?? awb.number)
      .setTrackingLink(awb.tracking_url ?? "")
      .setPdfLabel(awb.label_url ?? "")
      .setStatus(ShipmentStatusEnum.IN_PROGRESS);
  } catch (error) {
    return Shipment.error().setMessage(`The carrier could not be reached: ${error.message}`);
  }
};
