"""TypeScript functions through the server: save rules, deploy, run; templates and types."""

from __future__ import annotations

from appfn.catalog.templates import template
from tests.api.conftest import Server, customer_event, make_tenant, wait_executions

TS = """export default async (context: Customer): Promise<Resp> => {
  const customer = context.payload.data;
  console.log(`customer ${customer.id} in ${context.merchant.id}`);
  return Resp.success().setData({ customer_id: customer.id, name: `${customer.first_name}` });
};
"""


def test_a_typescript_function_deploys_and_runs(server: Server) -> None:
    tenant = make_tenant(server, "TypeScripters", ["customers.read"])
    assert tenant.deploy("customer.created", TS, "typescript")["status"] == "COMPLETED"
    versions = tenant.client.get(f"/v1/apps/{tenant.app_id}/functions/customer.created").json()["versions"]
    assert versions[0]["filename"] == "handler.ts" and versions[0]["language"] == "typescript"
    tenant.client.post("/v1/events", json=customer_event("evt-ts", id=77, first_name="Noura"))
    [execution] = wait_executions(tenant.client, 1, event_id="evt-ts")
    assert execution["status"] == "success", execution
    assert execution["response"]["data"] == {"customer_id": 77, "name": "Noura"}
    assert execution["console"] == ["customer 77 in 1305146709"]


def test_the_first_and_last_lines_must_match_the_template(server: Server) -> None:
    tenant = make_tenant(server, "Careless", ["customers.read"])
    wrong = "export default async (ctx: any) => {\n  return Resp.success();\n};\n"
    answer = tenant.client.put(
        f"/v1/apps/{tenant.app_id}/functions/customer.created", json={"source": wrong, "language": "typescript"}
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail["line"] == 1
    assert detail["expected_first"] == "export default async (context: Customer): Promise<Resp> => {"
    assert detail["expected_last"] == "};"


def test_a_typescript_syntax_error_fails_the_deploy_with_line_and_column(server: Server) -> None:
    tenant = make_tenant(server, "Typos", ["customers.read"])
    job = tenant.deploy("customer.created", TS.replace("return Resp", "return = Resp"), "typescript")
    assert job["status"] == "FAILED" and job["failure_line"] == 4
    assert job["failure_reason"].startswith("handler.ts:4:10: SyntaxError")


def test_templates_and_types_are_served(server: Server) -> None:
    client = server.client()
    ts = client.get("/v1/triggers/shipment.creating/template", params={"lang": "ts"})
    assert ts.status_code == 200 and ts.text == template("shipment.creating", "ts")
    assert ts.text.splitlines()[0] == "export default async (context: Shipments): Promise<Shipment> => {"
    assert client.get("/v1/triggers/customer.created/template", params={"lang": "py"}).text.startswith('"""')
    assert client.get("/v1/triggers/customer.created/template", params={"lang": "go"}).status_code == 422
    types = client.get("/v1/triggers/customer.created/types").text
    assert "Customer" in types and "declare" in types
    assert client.get("/v1/triggers/nope/types").status_code == 422
    assert "ShipmentStatusEnum" in client.get("/v1/types.d.ts").text
