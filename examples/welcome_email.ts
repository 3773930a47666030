export default async (context: Customer): Promise<Resp> => {
  // Send Welcome Email (customer.created): "Example implementation B" of the original's Customer
  // Events page, unchanged. Like the original it does not look at the provider's answer.
  // Settings: emailApiUrl, emailApiKey.
  const customer = context.payload.data;
  const settings = context.settings;

  const emailData = {
    to: customer.email,
    template: "welcome",
    data: {
      name: `${customer.first_name} ${customer.last_name}`,
      customer_id: customer.id,
    },
  };

  await fetch(settings.emailApiUrl, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-API-Key": settings.emailApiKey,
    },
    body: JSON.stringify(emailData),
  });

  return Resp.success().setData({
    customer_id: customer.id,
    email_sent: true,
  });
};
