export default async (context: CommunicationEvent): Promise<Resp> => {
  // A Communication App's SMS sender (communication.sms.send), as the original's Communication
  // Apps page describes the handler: provider credentials from settings (422 when missing), one
  // bounded fetch (AbortSignal.timeout: 5 s suits OTPs; settings.timeoutMs may raise it, ~20 s at
  // most), the documented status codes on failure (503 when the provider is slower than the
  // timeout). It never logs the content, the recipients or the credentials.
  // Settings: smsApiUrl, smsApiKey, senderName, timeoutMs (optional).
  const message = context.payload.data;
  const settings = context.settings ?? {};
  if (!settings.smsApiUrl || !settings.smsApiKey) {
    return Resp.error().setStatus(422).setMessage("Complete the app setup: smsApiUrl and smsApiKey are required");
  }
  const timeoutMs = Math.min(Number(settings.timeoutMs) || 5000, 20000);

  let response: Response;
  try {
    response = await fetch(settings.smsApiUrl, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${settings.smsApiKey}`,
      },
      body: JSON.stringify({ to: message.notifiable, text: message.content, sender: settings.senderName ?? "Store" }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    if (error.name === "TimeoutError") {
      return Resp.error().setStatus(503).setMessage(`SMS provider did not answer within ${timeoutMs} ms`);
    }
    return Resp.error().setStatus(500).setMessage(`SMS provider unreachable: ${error.message}`);
  }
  if (response.status === 401 || response.status === 403) {
    return Resp.error().setStatus(response.status).setMessage("The SMS provider refused the API key");
  }
  if (response.status === 429) {
    return Resp.error().setStatus(429).setMessage("SMS provider rate limit reached");
  }
  if (!response.ok) {
    return Resp.error().setStatus(502).setMessage(`SMS provider answered HTTP ${response.status}`);
  }
  const sent = await response.json();
  console.log(`${message.type}: sent to ${message.notifiable.length} recipient(s)`);
  return Resp.success().setData({ message_id: sent.id, recipients: message.notifiable.length });
};
