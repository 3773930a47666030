"""Customers: checks, writes, search, and the storefront's sign-in lookup."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from appfn.demo.common import get_in_store, new_number_id
from appfn.demo.errors import AdminError, invalid
from appfn.demo.forms import Form
from appfn.demo.models import DemoCustomerRow
from appfn.demo.records.paging import like, paginate
from appfn.store._common import utcnow

GENDERS = ("male", "female")
AVATARS = {
    "male": "https://cdn.appfn.example/avatars/avatar_male.webp",
    "female": "https://cdn.appfn.example/avatars/avatar_female.webp",
}
_CODE_RE = re.compile(r"^\+[1-9][0-9]{0,3}$")


def normalise_mobile(raw: Any, code: str) -> str:
    """The national number as digits (``551234567``), or ValueError saying what is wrong.

    Accepts what people type: spaces and dashes, a leading 0, or the number with its calling
    code (``+966551234567``, ``00966551234567``, ``966551234567``)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError("must be a phone number")
    text = re.sub(r"[\s\-()]", "", str(raw))
    cc = code.lstrip("+")
    for prefix in ("+" + cc, "00" + cc):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if not text.isdigit():
        raise ValueError("must contain digits only")
    if cc == "966":
        if text.startswith(cc) and len(text) == 12:
            text = text[3:]
        text = text.removeprefix("0")
        if not re.fullmatch(r"5[0-9]{8}", text):
            raise ValueError("must be a Saudi mobile number: 9 digits starting with 5, e.g. 551234567")
    elif not 6 <= len(text) <= 14:
        raise ValueError("must have 6 to 14 digits")
    return text


def parse(body: Any, *, partial: bool = False, current_code: str = "+966") -> dict[str, Any]:
    """Checked values of a create (or, ``partial``, an update of a customer whose calling code
    is ``current_code``)."""
    form = Form(body, partial=partial)
    form.string("first_name", required=True, max_len=100)
    form.string("last_name", required=True, max_len=100)
    form.string("mobile_code", default="+966", max_len=5, check=lambda v: None if _CODE_RE.match(v) else
                "The mobile_code field must be a calling code such as +966.")  # fmt: skip
    form.known.append("mobile")
    if "mobile" in form.body or not partial:
        raw = form.body.get("mobile")
        if raw is None:
            form.error("mobile", "The mobile field is required.")
        else:
            try:
                form.values["mobile"] = normalise_mobile(raw, form.values.get("mobile_code", current_code))
            except ValueError as exc:
                form.error("mobile", f"The mobile field {exc}.")
    form.email("email", default="")
    form.string("gender", default="male", choices=GENDERS)
    form.date("birthday")
    form.string("city", default="الرياض", max_len=100)
    form.string("country", default="السعودية", max_len=100)
    form.string("country_code", default="SA", max_len=2)
    form.string("currency", default="SAR", max_len=3)
    form.string("location", default="", max_len=200)
    form.string("avatar", max_len=500)
    form.id_list("groups", default=[])
    form.boolean("is_notifications_enabled", default=True)
    return form.done()


def _check_unique(session: Session, store_id: int, values: dict[str, Any], current: int | None) -> None:
    problems: dict[str, list[str]] = {}
    if "mobile" in values:
        code = values.get("mobile_code", "+966")
        taken = session.execute(
            select(DemoCustomerRow.id).where(
                DemoCustomerRow.store_id == store_id,
                DemoCustomerRow.mobile_code == code,
                DemoCustomerRow.mobile == values["mobile"],
            )
        ).scalar_one_or_none()
        if taken is not None and taken != current:
            problems["mobile"] = [f"The mobile has already been taken (customer {taken})."]
    if values.get("email"):
        taken = session.execute(
            select(DemoCustomerRow.id).where(
                DemoCustomerRow.store_id == store_id, DemoCustomerRow.email == values["email"]
            )
        ).first()
        if taken is not None and taken[0] != current:
            problems["email"] = [f"The email has already been taken (customer {taken[0]})."]
    if problems:
        raise invalid(problems)


def create(
    session: Session, store_id: int, values: dict[str, Any], *, source: dict[str, Any], now: datetime | None = None
) -> DemoCustomerRow:
    _check_unique(session, store_id, values, None)
    now = now or utcnow()
    gender = values.get("gender", "male")
    row = DemoCustomerRow(
        id=new_number_id(session, DemoCustomerRow),
        store_id=store_id,
        **{k: v for k, v in values.items() if k != "avatar"},
        avatar=values.get("avatar") or AVATARS[gender],
        source=source,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def update(session: Session, row: DemoCustomerRow, values: dict[str, Any]) -> DemoCustomerRow:
    if "mobile" in values and "mobile_code" not in values:
        values = {**values, "mobile_code": row.mobile_code}
    elif "mobile_code" in values and "mobile" not in values:
        try:
            values = {**values, "mobile": normalise_mobile(row.mobile, values["mobile_code"])}
        except ValueError as exc:
            raise invalid({"mobile_code": [f"The stored mobile {exc} with this code."]}) from None
    _check_unique(session, row.store_id, values, row.id)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.flush()
    return row


def get(session: Session, store_id: int, customer_id: int) -> DemoCustomerRow:
    return get_in_store(session, DemoCustomerRow, store_id, customer_id, "customer")


def delete(session: Session, row: DemoCustomerRow) -> None:
    session.delete(row)
    session.flush()


def search(
    session: Session, store_id: int, keyword: str | None, page: int, per_page: int
) -> tuple[list[DemoCustomerRow], int]:
    stmt: Select[Any] = select(DemoCustomerRow).where(DemoCustomerRow.store_id == store_id)
    if keyword and keyword.strip():
        pattern = like(keyword.strip().lower())
        full_name = DemoCustomerRow.first_name + " " + DemoCustomerRow.last_name
        phone = DemoCustomerRow.mobile_code + DemoCustomerRow.mobile
        digits = re.sub(r"\D", "", keyword).removeprefix("966").removeprefix("0")
        clauses = [
            full_name.ilike(pattern, escape="\\"),
            DemoCustomerRow.email.ilike(pattern, escape="\\"),
            phone.like(pattern, escape="\\"),
        ]
        if len(digits) >= 3:  # "0551234567" and "+966 55 123 4567" find 551234567
            clauses.append(DemoCustomerRow.mobile.like(like(digits), escape="\\"))
        stmt = stmt.where(or_(*clauses))
    stmt = stmt.order_by(DemoCustomerRow.created_at.desc(), DemoCustomerRow.id.desc())
    return paginate(session, stmt, page, per_page)


def find_by_contact(session: Session, store_id: int, body: Any) -> DemoCustomerRow:
    """The customer signing in with ``{email}`` or ``{mobile, mobile_code?}``."""
    form = Form(body)
    form.email("email")
    form.string("mobile_code", default="+966", max_len=5)
    values = form.done()
    stmt = select(DemoCustomerRow).where(DemoCustomerRow.store_id == store_id)
    if values.get("email"):
        row = session.execute(stmt.where(DemoCustomerRow.email == values["email"])).scalars().first()
        contact = values["email"]
    elif body.get("mobile") is not None:
        try:
            mobile = normalise_mobile(body["mobile"], values["mobile_code"])
        except ValueError as exc:
            raise invalid({"mobile": [f"The mobile field {exc}."]}) from None
        row = session.execute(
            stmt.where(DemoCustomerRow.mobile == mobile, DemoCustomerRow.mobile_code == values["mobile_code"])
        ).scalar_one_or_none()
        contact = f"{values['mobile_code']}{mobile}"
    else:
        message = ["Send the customer's email or mobile."]
        raise invalid({"email": message, "mobile": message})
    if row is None:
        raise AdminError(404, "not_found", f"No customer of this store signs in with {contact}")
    row.last_login_at = utcnow()
    session.flush()
    return row
