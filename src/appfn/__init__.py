"""appfn: a self-hostable App Functions platform.

Function authors import from here::

    from appfn import Resp, Shipment, ShipmentStatus, Context

Only the authoring SDK is re-exported; the platform's own packages (catalog, runtime, cli)
are imported from their modules so that a sandbox worker stays small.
"""

from appfn.sdk import (
    Context,
    FetchResponse,
    Merchant,
    Payload,
    Resp,
    Shipment,
    ShipmentStatus,
)

__version__ = "0.1.0"

__all__ = [
    "Context",
    "FetchResponse",
    "Merchant",
    "Payload",
    "Resp",
    "Shipment",
    "ShipmentStatus",
    "__version__",
]
