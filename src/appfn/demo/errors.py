"""Errors of the Admin API, in the original's format:
``{"status": 422, "success": false, "error": {"code", "message", "fields": {"name": ["..."]}}}``.

Anything in ``appfn.demo`` raises ``AdminError``; ``appfn.demo.api.app`` turns it (and the
framework's own errors) into that body, so the platform API's ``{error, detail}`` format is
untouched."""

from __future__ import annotations

from typing import Any


class AdminError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "success": False,
            "error": {"code": self.code, "message": self.message, "fields": self.fields},
        }


def not_found(kind: str, ident: object) -> AdminError:
    return AdminError(404, "not_found", f"The {kind} {ident} was not found in this store")


def invalid(fields: dict[str, list[str]]) -> AdminError:
    names = ", ".join(fields)
    return AdminError(422, "invalid_fields", f"The given data was invalid: {names}", fields)


def invalid_field(field: str, message: str) -> AdminError:
    return invalid({field: [message]})
