export default async (context: Customer): Promise<Resp> => {
  // Sync Customer to CRM (customer.created, customer.updated, customer.login): "Example
  // implementation A" of the original's Customer Events page, unchanged but for one typo of the
  // docs: they declare `const response` twice; the parsed answer is `crmResponse` here.
  // Settings: crmApiUrl, crmApiKey. Run it:
  //   appfn invoke examples/crm_sync.ts -t customer.created --example --settings settings.json
  const { event, data: customer } = context.payload;
  const { merchant, settings } = context;

  const crmData = {
    external_id: customer.id,
    first_name: customer.first_name,
    last_name: customer.last_name,
    email: customer.email,
    phone: `${customer.mobile_code}${customer.mobile}`,
    merchant_id: merchant.id,
    event_type: event,
  };

  const response = await fetch(settings.crmApiUrl, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${settings.crmApiKey}`,
    },
    body: JSON.stringify(crmData),
  });

  const crmResponse = await response.json();

  return Resp.success().setData({
    customer_id: customer.id,
    crm_id: crmResponse.id,
  });
};
