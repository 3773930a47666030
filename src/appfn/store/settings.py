"""App settings: the schema a partner declares, the values a merchant saves, and masking.

Pure functions, no database: the server and the console can use them to check a form
before it reaches the store.

    fields = parse_settings_schema([{"id": "api_key", "type": "string", "format": "password",
                                     "required": True}, {"id": "vip", "type": "boolean",
                                     "default": False}])
    values = validate_settings(fields, {"api_key": "s3cret", "vip": "true"})
    # {"api_key": "s3cret", "vip": True}
    mask_settings(fields, values)   # {"api_key": "********", "vip": True}
    validate_settings(fields, {"api_key": MASK, "vip": False}, previous=values)
    # the mask sent back keeps the stored secret: {"api_key": "s3cret", "vip": False}

Errors are ``ValidationError`` naming the field: ``settings_schema[2].id: ...`` for a schema,
``settings.api_key: ...`` for a value; every problem found is listed in ``.errors``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from appfn.errors import ValidationError

MASK = "********"
FIELD_TYPES = ("string", "number", "integer", "boolean")
# Formats refine a string field; only password changes how the store treats the value (masked).
FORMATS = ("password", "email", "url", "textarea", "color", "date", "time", "datetime", "phone")
FIELD_KEYS = ("id", "type", "format", "label", "description", "default", "required")
# snake_case is the documented convention, but the original's own examples read
# settings.crmApiUrl: any identifier a function can use as a key is accepted.
FIELD_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
FIELD_ID_MAX = 64
MAX_FIELDS = 100
STRING_MAX = 10_000
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SettingsField:
    """One field of an app's settings form."""

    id: str
    type: str
    format: str | None = None
    label: str | None = None
    description: str | None = None
    default: Any = None
    required: bool = False

    @property
    def secret(self) -> bool:
        return self.format == "password"

    def to_dict(self) -> dict[str, Any]:
        """The field as stored and shown: keys that are unset are left out."""
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("format", "label", "description", "default"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.required:
            out["required"] = True
        return out


class _Errors:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append((field, message))

    def raise_if_any(self) -> None:
        if self.items:
            field, message = self.items[0]
            raise ValidationError(field, message, self.items)


def parse_settings_schema(raw: Any, field: str = "settings_schema") -> tuple[SettingsField, ...]:
    """Check a settings schema (a list of field objects) and return its fields."""
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise ValidationError(field, f"expected a list of fields, got {type(raw).__name__}")
    if len(raw) > MAX_FIELDS:
        raise ValidationError(field, f"has {len(raw)} fields, at most {MAX_FIELDS} allowed")
    errors = _Errors()
    fields: list[SettingsField] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        where = f"{field}[{index}]"
        parsed = _parse_field(item, where, errors)
        if parsed is None:
            continue
        if parsed.id in seen:
            errors.add(f"{where}.id", f"{parsed.id!r} is already used by {field}[{seen[parsed.id]}]")
            continue
        seen[parsed.id] = index
        fields.append(parsed)
    errors.raise_if_any()
    return tuple(fields)


def _parse_field(item: Any, where: str, errors: _Errors) -> SettingsField | None:
    if not isinstance(item, Mapping):
        errors.add(where, f"expected an object, got {type(item).__name__}")
        return None
    before = len(errors.items)
    for key in item:
        if key not in FIELD_KEYS:
            errors.add(f"{where}.{key}", f"unknown key (allowed: {', '.join(FIELD_KEYS)})")
    field_id = item.get("id")
    if not isinstance(field_id, str) or not FIELD_ID_RE.match(field_id) or len(field_id) > FIELD_ID_MAX:
        errors.add(
            f"{where}.id",
            f"must be an identifier like 'api_key' or 'crmApiUrl' (at most {FIELD_ID_MAX}), got {field_id!r}",
        )
    kind = item.get("type")
    if kind not in FIELD_TYPES:
        errors.add(f"{where}.type", f"must be one of {', '.join(FIELD_TYPES)}, got {kind!r}")
    fmt = item.get("format")
    if fmt is not None:
        if fmt not in FORMATS:
            errors.add(f"{where}.format", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")
        elif kind in FIELD_TYPES and kind != "string":
            errors.add(f"{where}.format", f"only string fields take a format, this one is {kind}")
    for key in ("label", "description"):
        value = item.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 1000):
            errors.add(f"{where}.{key}", "must be a string of at most 1000 characters")
    required = item.get("required", False)
    if not isinstance(required, bool):
        errors.add(f"{where}.required", f"must be true or false, got {required!r}")
    default = item.get("default")
    if default is not None and kind in FIELD_TYPES:
        problem = _type_problem(kind, default)
        if problem is None and kind == "string":
            problem = _format_problem(fmt, default)
        if problem:
            errors.add(f"{where}.default", problem)
    if len(errors.items) > before:
        return None
    return SettingsField(
        id=field_id,
        type=kind,
        format=fmt,
        label=item.get("label"),
        description=item.get("description"),
        default=default,
        required=required,
    )


def _type_problem(kind: str, value: Any) -> str | None:
    """Why ``value`` is not a JSON value of ``kind`` (None when it is). No conversion here."""
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif isinstance(value, bool) or not isinstance(value, int | float):
        ok = False
    elif kind == "integer":
        ok = isinstance(value, int)
    else:
        ok = math.isfinite(value)
    return None if ok else f"expected {_article(kind)}, got {_describe(value)}"


def _normalise(kind: str, value: Any) -> Any:
    """Convert what a form may send as text ("true", "42", "4.5") or 3.0 for an integer field."""
    if kind == "boolean" and isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower(), value)
    if kind in ("integer", "number") and isinstance(value, str):
        text = value.strip()
        try:
            number = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    if kind == "integer" and isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _format_problem(fmt: str | None, value: str) -> str | None:
    if value == "" or fmt is None:
        return None
    if fmt == "email" and not _EMAIL_RE.match(value):
        return f"{value!r} is not an e-mail address"
    if fmt == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f"{value!r} is not an http(s) URL"
    return None


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, str) else f"string {value!r}"


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def validate_settings(
    fields: Sequence[SettingsField],
    values: Any,
    *,
    previous: Mapping[str, Any] | None = None,
    field: str = "settings",
) -> dict[str, Any]:
    """Check and normalise a merchant's settings against the app's fields.

    * unknown keys are refused; missing (or ``None``) values take the field's default;
    * a required field with no value and no default is an error, as is ``""`` for it;
    * ``"true"``/``"false"`` become booleans, numeric strings numbers;
    * a password field sent back as ``MASK`` keeps the value in ``previous``.

    Returns the full values to store, keys in schema order.
    """
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ValidationError(field, f"expected an object, got {type(values).__name__}")
    previous = previous or {}
    errors = _Errors()
    known = {f.id for f in fields}
    for key in values:
        if key not in known:
            hint = f" (known: {', '.join(sorted(known))})" if known else " (this app has no settings)"
            errors.add(f"{field}.{key}", f"unknown setting{hint}")
    out: dict[str, Any] = {}
    for spec in fields:
        where = f"{field}.{spec.id}"
        value = values.get(spec.id)
        if spec.secret and value == MASK:
            if spec.id not in previous:
                errors.add(where, "the mask was sent but no secret is stored yet: send the value")
                continue
            value = previous[spec.id]
        if value is None:
            value = spec.default
        if value is None or (value == "" and spec.required):
            if spec.required:
                errors.add(where, "is required")
            continue
        value = _normalise(spec.type, value)
        problem = _type_problem(spec.type, value)
        if problem is None and spec.type == "string":
            if len(value) > STRING_MAX:
                problem = f"is {len(value)} characters long, at most {STRING_MAX} allowed"
            else:
                problem = _format_problem(spec.format, value)
        if problem:
            errors.add(where, problem)
            continue
        out[spec.id] = value
    errors.raise_if_any()
    return out


def mask_settings(fields: Sequence[SettingsField], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` safe to show: every non-empty password value becomes ``MASK``."""
    secret = {f.id for f in fields if f.secret}
    return {k: (MASK if k in secret and v not in (None, "") else v) for k, v in values.items()}


def with_defaults(fields: Sequence[SettingsField], values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored values plus the defaults of fields added to the schema since they were saved."""
    out = dict(values)
    for spec in fields:
        if spec.id not in out and spec.default is not None:
            out[spec.id] = spec.default
    return out
