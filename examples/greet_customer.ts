export default async (context: Customer): Promise<Resp> => {
  // Greet a new customer in their language (customer.created): no network, no settings. The
  // smallest useful function; greet_customer.py is the same in Python. Try it with
  //   appfn invoke examples/greet_customer.ts --trigger customer.created --example
  const customer = context.payload.data;
  const name = customer.first_name || "there";
  const arabic = customer.country_code === "SA" || /[\u0600-\u06ff]/.test(name);
  const greeting = arabic ? `أهلاً ${name}` : `Welcome, ${name}!`;
  console.log(`customer ${customer.id} joined store ${context.merchant?.id ?? context.payload.merchant}`);
  return Resp.success().setData({ customer_id: customer.id, greeting });
};
