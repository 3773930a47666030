"""The authoring SDK: what a function's code imports (re-exported from ``appfn``)."""

from appfn.sdk.context import Context, Merchant, Payload
from appfn.sdk.contract import normalize_response
from appfn.sdk.fetch import FetchResponse
from appfn.sdk.response import Resp, Shipment, ShipmentStatus
from appfn.sdk.types import (
    AnyContext,
    CommunicationContext,
    CustomerContext,
    OtpRequestContext,
    ShipmentContext,
)

__all__ = [
    "AnyContext",
    "CommunicationContext",
    "Context",
    "CustomerContext",
    "FetchResponse",
    "Merchant",
    "OtpRequestContext",
    "Payload",
    "Resp",
    "Shipment",
    "ShipmentContext",
    "ShipmentStatus",
    "normalize_response",
]
