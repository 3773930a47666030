"""A Communication App's SMS sender (communication.sms.send): sms_sender.ts in Python.

Provider credentials from settings (422 when missing), one bounded call (5 s suits OTPs;
settings.timeoutMs may raise it, ~20 s at most), the documented status codes on failure (503
when the provider is slower than the timeout). It never logs the content, the recipients or
the credentials.

Settings: smsApiUrl, smsApiKey, senderName, timeoutMs (optional).
"""

from appfn import Resp
from appfn.errors import FetchError, FetchTimeoutError
from appfn.sdk import CommunicationContext


async def handler(context: CommunicationContext) -> Resp:
    message, settings = context.payload.data, context.settings or {}
    if not settings.get("smsApiUrl") or not settings.get("smsApiKey"):
        return Resp.error().set_status(422).set_message("Complete the app setup: smsApiUrl and smsApiKey are required")
    timeout_ms = min(int(float(settings.get("timeoutMs") or 0)) or 5000, 20000)
    try:
        response = await context.fetch(
            settings["smsApiUrl"],
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings['smsApiKey']}"},
            json={
                "to": message["notifiable"],
                "text": message["content"],
                "sender": settings.get("senderName") or "Store",
            },
            timeout=timeout_ms / 1000,
        )
    except FetchTimeoutError:
        return Resp.error().set_status(503).set_message(f"SMS provider did not answer within {timeout_ms} ms")
    except FetchError as exc:
        return Resp.error().set_status(500).set_message(f"SMS provider unreachable: {exc}")
    if response.status in (401, 403):
        return Resp.error().set_status(response.status).set_message("The SMS provider refused the API key")
    if response.status == 429:
        return Resp.error().set_status(429).set_message("SMS provider rate limit reached")
    if not response.ok:
        return Resp.error().set_status(502).set_message(f"SMS provider answered HTTP {response.status}")
    sent = response.json()
    print(f"{message['type']}: sent to {len(message['notifiable'])} recipient(s)")
    return Resp.success().set_data({"message_id": sent["id"], "recipients": len(message["notifiable"])})
