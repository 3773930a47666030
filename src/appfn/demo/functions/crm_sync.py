"""Sync Customer to CRM (customer.created, customer.updated, customer.login).

The "Example implementation A" of the customer events page, with what the original lacks:
settings are checked, the CRM call is bounded by a timeout, and every failure becomes a
readable error in the execution log instead of an exception.

Settings: crmApiUrl (the CRM's endpoint), crmApiKey (format: password).
"""

from appfn import Resp
from appfn.errors import FetchError
from appfn.sdk import CustomerContext

CRM_TIMEOUT_S = 5


async def handler(context: CustomerContext) -> Resp:
    customer = context.payload.data
    url = context.settings.get("crmApiUrl")
    api_key = context.settings.get("crmApiKey")
    if not url or not api_key:
        return Resp.error().set_status(422).set_message("Set crmApiUrl and crmApiKey in the app settings")

    record = {
        "external_id": customer.get("id"),
        "first_name": customer.get("first_name"),
        "last_name": customer.get("last_name"),
        "email": customer.get("email"),
        "phone": f"{customer.get('mobile_code', '')}{customer.get('mobile', '')}",
        "merchant_id": context.merchant.id,
        "event_type": context.payload.event,
    }
    try:
        response = await context.fetch(
            url,
            method="POST",
            headers={"Authorization": f"Bearer {api_key}"},
            json=record,
            timeout=CRM_TIMEOUT_S,
        )
    except FetchError as exc:
        return Resp.error().set_status(503).set_message(f"CRM unreachable: {exc}")
    if not response.ok:
        return Resp.error().set_status(502).set_message(f"CRM answered HTTP {response.status}")
    try:
        crm_id = response.json().get("id")
    except (FetchError, AttributeError):
        return Resp.error().set_status(502).set_message("CRM answered something that is not a JSON object")

    print(f"customer {customer.get('id')} synced to CRM as {crm_id}")
    return Resp.success().set_data({"customer_id": customer.get("id"), "crm_id": crm_id})
