"""Greet a new customer in their language (customer.created): no network, no settings.

The smallest useful function: read the payload, log, return data. Try it with
    appfn invoke examples/greet_customer.py --trigger customer.created --example
"""

from appfn import Resp
from appfn.sdk import CustomerContext


def handler(context: CustomerContext) -> Resp:
    customer = context.payload.data
    name = customer.get("first_name") or "there"
    arabic = customer.get("country_code") == "SA" or any("\u0600" <= c <= "\u06ff" for c in name)
    greeting = f"أهلاً {name}" if arabic else f"Welcome, {name}!"
    print(f"customer {customer.get('id')} joined store {context.merchant.id}")
    return Resp.success().set_data({"customer_id": customer.get("id"), "greeting": greeting})
