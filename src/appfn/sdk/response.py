"""The response contract and its builders: ``Resp`` for every trigger, ``Shipment`` for
``shipment.creating``.

A handler returns ``{success, data, error, status, message}``; the builders make that
shape with chainable setters, as the original platform's globals do. snake_case is the
Python name; the camelCase names of the original are kept as aliases so that code ported
line by line keeps working.
"""

from __future__ import annotations

import enum
from typing import Any, Self

from appfn.errors import ResponseContractError

DEFAULT_SUCCESS_STATUS = 200
# The original leaves the error status unspecified; 400 keeps logs honest ("error, 200" misleads).
DEFAULT_ERROR_STATUS = 400


class Resp:
    """A function's answer. Start with ``Resp.success()`` or ``Resp.error(message)``."""

    def __init__(self, success: bool, message: str | None = None) -> None:
        self._success = success
        self._data: dict[str, Any] = {}
        self._status = DEFAULT_SUCCESS_STATUS if success else DEFAULT_ERROR_STATUS
        self._message = message
        self._fields: dict[str, list[str]] | None = None

    @classmethod
    def success(cls) -> Self:
        return cls(True)

    @classmethod
    def error(cls, message: str | None = None) -> Self:
        return cls(False, message)

    def set_data(self, data: dict[str, Any]) -> Self:
        if not isinstance(data, dict):
            raise TypeError(f"set_data expects a dict, got {type(data).__name__}")
        self._data = data
        return self

    def set_status(self, status: int) -> Self:
        self._status = _http_status(status)
        return self

    def set_message(self, message: str) -> Self:
        self._message = str(message)
        return self

    def set_fields(self, message: str, fields: dict[str, list[str]]) -> Self:
        """Onboarding steps: a message plus per-field error lists shown under the form fields."""
        self._message = str(message)
        self._fields = {str(k): [str(m) for m in v] for k, v in fields.items()}
        return self

    @property
    def is_success(self) -> bool:
        return self._success

    def to_dict(self) -> dict[str, Any]:
        """The wire form of the contract; raises ResponseContractError when it is incomplete."""
        body: dict[str, Any] = {
            "success": self._success,
            "data": self._data,
            "error": None if self._success else (self._message or "the function returned an error"),
            "status": self._status,
            "message": self._message,
        }
        if self._fields is not None:
            body["fields"] = self._fields
        return body

    def __repr__(self) -> str:
        kind = "success" if self._success else "error"
        return f"<{type(self).__name__}.{kind} status={self._status} message={self._message!r}>"

    # camelCase aliases of the original runtime
    setData = set_data
    setStatus = set_status
    setMessage = set_message
    setFields = set_fields


class ShipmentStatus(enum.StrEnum):
    """Shipment states a carrier can report (``ShipmentStatusEnum`` in the original)."""

    IN_PROGRESS = "in_progress"
    IN_TRANSIT = "in_transit"
    RECEIVED_AT_FINAL_HUB = "received_at_final_hub"
    TO_BE_REATTEMPTED = "to_be_reattempted"
    REATTEMPTED = "reattempted"
    UNABLE_TO_DELIVER = "unable_to_deliver"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    PARTIALLY_DELIVERED = "partially_delivered"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURN_TO_ORIGIN = "return_to_origin"
    RETURN_IN_PROGRESS = "return_in_progress"


class Shipment(Resp):
    """The answer of a ``shipment.creating`` function.

    ``Shipment.success().set_shipment_number("AWB123")`` is the least a success carries;
    tracking number and link, PDF label, status, status note and cost are optional.
    ``set_status`` takes a :class:`ShipmentStatus`; the HTTP-like status is ``set_http_status``.
    """

    def __init__(self, success: bool, message: str | None = None) -> None:
        super().__init__(success, message)
        self._shipment: dict[str, Any] = {}

    def set_shipment_number(self, number: str | int) -> Self:
        self._shipment["shipment_number"] = str(number)
        return self

    def set_tracking_number(self, number: str | int) -> Self:
        self._shipment["tracking_number"] = str(number)
        return self

    def set_tracking_link(self, url: str) -> Self:
        self._shipment["tracking_link"] = str(url)
        return self

    def set_pdf_label(self, url: str) -> Self:
        self._shipment["label"] = {"format": "pdf", "url": str(url)}
        return self

    def set_status(self, status: ShipmentStatus | str) -> Self:  # type: ignore[override]
        self._shipment["status"] = _shipment_status(status).value
        return self

    def set_http_status(self, status: int) -> Self:
        return super().set_status(status)

    def set_status_note(self, note: str) -> Self:
        self._shipment["status_note"] = str(note)
        return self

    def set_cost(self, amount: float | int) -> Self:
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            raise ValueError(f"set_cost expects a non-negative number (VAT included), got {amount!r}")
        self._shipment["cost"] = amount
        return self

    def to_dict(self) -> dict[str, Any]:
        if self._success and "shipment_number" not in self._shipment:
            raise ResponseContractError(
                "Shipment.success() needs set_shipment_number(...) before it is returned"
            )
        body = super().to_dict()
        body["data"] = {**self._data, **self._shipment}
        return body

    setShipmentNumber = set_shipment_number
    setTrackingNumber = set_tracking_number
    setTrackingLink = set_tracking_link
    setPdfLabel = set_pdf_label
    setLabel = set_pdf_label
    setStatusNote = set_status_note
    setCost = set_cost


def _http_status(status: int) -> int:
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code between 100 and 599, got {status!r}")
    return status


def _shipment_status(status: ShipmentStatus | str) -> ShipmentStatus:
    if isinstance(status, ShipmentStatus):
        return status
    if isinstance(status, str):
        for member in ShipmentStatus:
            if status in (member.name, member.value):
                return member
    if isinstance(status, int):
        raise TypeError(
            "Shipment.set_status takes a ShipmentStatus (e.g. ShipmentStatus.SHIPPED); "
            "use set_http_status for the HTTP-like status code"
        )
    names = ", ".join(m.name for m in ShipmentStatus)
    raise ValueError(f"unknown shipment status {status!r}; expected one of {names}")
