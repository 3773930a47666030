"""Send Welcome Email (customer.created).

The "Example implementation B" of the customer events page, hardened: it checks its
settings and the customer's e-mail, bounds the provider call with a timeout, and reports
a provider failure instead of always claiming success.

Settings: emailApiUrl (the mail provider's endpoint), emailApiKey (format: password).
"""

from appfn import Resp
from appfn.errors import FetchError
from appfn.sdk import CustomerContext

MAIL_TIMEOUT_S = 5


async def handler(context: CustomerContext) -> Resp:
    customer = context.payload.data
    url = context.settings.get("emailApiUrl")
    api_key = context.settings.get("emailApiKey")
    if not url or not api_key:
        return Resp.error().set_status(422).set_message("Set emailApiUrl and emailApiKey in the app settings")
    if not customer.get("email"):
        return Resp.success().set_data({"customer_id": customer.get("id"), "email_sent": False})

    mail = {
        "to": customer["email"],
        "template": "welcome",
        "data": {
            "name": f"{customer.get('first_name', '')} {customer.get('last_name', '')}".strip(),
            "customer_id": customer.get("id"),
        },
    }
    try:
        response = await context.fetch(
            url, method="POST", headers={"X-API-Key": api_key}, json=mail, timeout=MAIL_TIMEOUT_S
        )
    except FetchError as exc:
        return Resp.error().set_status(503).set_message(f"mail provider unreachable: {exc}")
    if not response.ok:
        return Resp.error().set_status(502).set_message(f"mail provider answered HTTP {response.status}")
    return Resp.success().set_data({"customer_id": customer.get("id"), "email_sent": True})
