"""Request bodies checked field by field: every problem is collected under its field name and
reported at once (``AdminError`` 422 with ``fields``), so bad input is never a 500.

    form = Form(body, partial=False)          # partial=True for updates: absent fields stay
    form.string("first_name", required=True, max_len=100)
    form.integer("quantity", minimum=0, nullable=True)
    values = form.done()                      # only the fields given (or defaulted)

Unknown fields are ignored, as the original API does; an update that would change nothing is
refused (422 naming the fields it takes), since it is most likely a misspelt field.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from appfn.demo.errors import AdminError, invalid

INT64_MAX = 2**63 - 1

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MISSING = object()


class Form:
    def __init__(self, body: Any, *, partial: bool = False) -> None:
        if not isinstance(body, dict):
            raise AdminError(
                422, "invalid_fields", "The request body must be a JSON object", {"body": ["must be a JSON object"]}
            )
        self.body = body
        self.partial = partial
        self.values: dict[str, Any] = {}
        self.errors: dict[str, list[str]] = {}
        self.known: list[str] = []  # every field asked for, to name them when an update changes nothing

    # --- plumbing ------------------------------------------------------------------------------

    def error(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def _take(self, field: str, required: bool, default: Any, nullable: bool) -> Any:
        """The raw value to check, or _MISSING when there is nothing to do for this field."""
        self.known.append(field)
        value = self.body.get(field, _MISSING)
        if value is _MISSING:
            if required and not self.partial:
                self.error(field, f"The {field} field is required.")
            elif default is not _MISSING and not self.partial:
                self.values[field] = default
            return _MISSING
        if value is None:
            if nullable:
                self.values[field] = None
            else:
                self.error(field, f"The {field} field must not be null.")
            return _MISSING
        return value

    def _check(self, field: str, value: Any, check: Callable[[Any], str | None] | None) -> None:
        problem = check(value) if check is not None else None
        if problem:
            self.error(field, problem)
        else:
            self.values[field] = value

    def done(self) -> dict[str, Any]:
        if self.errors:
            raise invalid(self.errors)
        if self.partial and not self.values:  # most likely a misspelt field, which would be ignored
            raise invalid({"body": [f"Nothing to change: send at least one of {', '.join(self.known)}."]})
        return self.values

    # --- field kinds ---------------------------------------------------------------------------

    def string(
        self,
        field: str,
        *,
        required: bool = False,
        default: Any = _MISSING,
        nullable: bool = False,
        max_len: int = 200,
        allow_empty: bool = True,
        choices: tuple[str, ...] | None = None,
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        value = self._take(field, required, default, nullable)
        if value is _MISSING:
            return
        if not isinstance(value, str):
            self.error(field, f"The {field} field must be a string.")
            return
        value = value.strip()
        if not value and (required or not allow_empty):
            self.error(field, f"The {field} field must not be empty.")
        elif len(value) > max_len:
            self.error(field, f"The {field} field may not be greater than {max_len} characters.")
        elif choices is not None and value not in choices:
            self.error(field, f"The {field} field must be one of: {', '.join(choices)}.")
        else:
            self._check(field, value, check)

    def email(self, field: str, *, required: bool = False, default: Any = _MISSING) -> None:
        def check(value: str) -> str | None:
            return None if not value or EMAIL_RE.match(value) else f"The {field} field must be a valid email address."

        self.string(field, required=required, default=default, max_len=200, check=check)

    def integer(
        self,
        field: str,
        *,
        required: bool = False,
        default: Any = _MISSING,
        nullable: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> None:
        value = self._take(field, required, default, nullable)
        if value is _MISSING:
            return
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
            value = int(value)  # forms often send numbers as strings
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(field, f"The {field} field must be an integer.")
        elif minimum is not None and value < minimum:
            self.error(field, f"The {field} field must be at least {minimum}.")
        elif value > (limit := INT64_MAX if maximum is None else maximum):  # the database holds no bigger
            self.error(field, f"The {field} field may not be greater than {limit}.")
        else:
            self.values[field] = value

    def number(
        self,
        field: str,
        *,
        required: bool = False,
        default: Any = _MISSING,
        nullable: bool = False,
        minimum: float | None = 0,
        maximum: float = 10_000_000,
    ) -> None:
        value = self._take(field, required, default, nullable)
        if value is _MISSING:
            return
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN
            self.error(field, f"The {field} field must be a number.")
        elif minimum is not None and value < minimum:
            self.error(field, f"The {field} field must be at least {minimum:g}.")
        elif value > maximum:
            self.error(field, f"The {field} field may not be greater than {maximum:g}.")
        else:
            self.values[field] = value

    def boolean(self, field: str, *, default: Any = _MISSING) -> None:
        value = self._take(field, False, default, False)
        if value is _MISSING:
            return
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            value = value.lower() in ("true", "1")  # settings and forms send booleans as strings
        if not isinstance(value, bool):
            self.error(field, f"The {field} field must be true or false.")
        else:
            self.values[field] = value

    def date(self, field: str, *, nullable: bool = True) -> None:
        def check(value: str) -> str | None:
            try:
                date.fromisoformat(value)
            except ValueError:
                return f"The {field} field must be a date in the form YYYY-MM-DD."
            return None

        self.string(field, nullable=nullable, max_len=10, allow_empty=False, check=check)

    def id_list(self, field: str, *, default: Any = _MISSING, max_items: int = 50) -> None:
        value = self._take(field, False, default, False)
        if value is _MISSING:
            return
        if not isinstance(value, list) or len(value) > max_items:
            self.error(field, f"The {field} field must be a list of at most {max_items} ids.")
        elif any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in value):
            self.error(field, f"The {field} field must hold positive integer ids.")
        else:
            self.values[field] = list(dict.fromkeys(value))

    def mapping(self, field: str, *, default: Any = _MISSING, keys: tuple[str, ...] = ()) -> None:
        """An object of short strings (``metadata``, addresses); only ``keys`` are kept."""
        value = self._take(field, False, default, False)
        if value is _MISSING:
            return
        if not isinstance(value, dict):
            self.error(field, f"The {field} field must be an object.")
            return
        kept: dict[str, Any] = {}
        for key in keys:
            item = value.get(key)
            if item is None:
                continue
            if not isinstance(item, str) or len(item) > 500:
                self.error(f"{field}.{key}", f"The {field}.{key} field must be a string of at most 500 characters.")
            else:
                kept[key] = item.strip()
        self.values[field] = kept
