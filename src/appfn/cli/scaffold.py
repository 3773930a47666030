"""`appfn init`: a runnable handler for a trigger plus a pytest test for it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from appfn.catalog import load_catalog
from appfn.cli.output import fail, out
from appfn.errors import CatalogError

_CONTEXT_TYPES = {
    "Customer": "CustomerContext",
    "Shipments": "ShipmentContext",
    "CommunicationEvent": "CommunicationContext",
}

_HANDLER = '''"""{title} ({name}): {when}"""

from appfn import {imports}
from appfn.sdk import {context_type}


async def handler(context: {context_type}) {returns}:
    data = context.payload.data
    settings = context.settings  # this merchant's values of your app's settings
    print(f"{{context.payload.event}} for store {{context.merchant.id}}")
{body}
'''

_RESP_BODY = '''    # Call your own backend with a bounded timeout, e.g.:
    # response = await context.fetch(settings["apiUrl"], method="POST", json=data, timeout=5)
    return Resp.success().set_data({"id": data.get("id")})'''

_SHIPMENT_BODY = '''    if not settings.get("accountNumber"):
        return Shipment.error().set_message("Set your carrier account number in the app settings")
    # Ask the carrier for an air waybill here (await context.fetch(...)), then:
    return (
        Shipment.success()
        .set_shipment_number(f"AWB-{data.get('id')}")
        .set_tracking_number(str(data.get("id")))
        .set_status(ShipmentStatus.IN_PROGRESS)
    )'''

_TEST = '''"""Runs {filename} in the appfn sandbox, exactly as the platform would."""

from pathlib import Path

from appfn.testing import invoke

HANDLER = Path(__file__).with_name("{filename}")


def test_{slug}_succeeds_on_the_documented_example():
    result = invoke(HANDLER, "{name}", {data_arg}settings={settings})
    assert result.status == "success", result.error
    assert result.response["success"] is True
'''


def init(
    name: Annotated[str, typer.Argument(help="Folder to create (e.g. crm-sync).")],
    trigger: Annotated[str, typer.Option("--trigger", "-t", help="Trigger name, e.g. customer.created.")],
    lang: Annotated[str, typer.Option(help="Language of the handler: py.")] = "py",
) -> None:
    """Write a runnable handler for TRIGGER and a pytest test for it into folder NAME."""
    if lang != "py":
        fail(f"--lang {lang}: only py is available so far")
    try:
        spec = load_catalog().get(trigger)
    except CatalogError as exc:
        fail(str(exc))
    folder = Path(name)
    if folder.exists() and any(folder.iterdir()):
        fail(f"{folder} already exists and is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    is_shipment = spec.return_type == "Shipment"
    when = (
        "runs before the operation and can reject it (sync, 5 s limit)."
        if spec.is_sync
        else "runs in the background after the operation (async, 30 s limit)."
    )
    handler = _HANDLER.format(
        title=spec.title,
        name=spec.name,
        when=when,
        imports="Shipment, ShipmentStatus" if is_shipment else "Resp",
        context_type=_CONTEXT_TYPES.get(spec.context_type or "", "AnyContext"),
        returns="-> Shipment" if is_shipment else "-> Resp",
        body=_SHIPMENT_BODY if is_shipment else _RESP_BODY,
    )
    (folder / "handler.py").write_text(handler, encoding="utf-8")
    test = _TEST.format(
        filename="handler.py",
        name=spec.name,
        slug=re.sub(r"\W+", "_", spec.name),
        data_arg="example=True, " if spec.example_data is not None else "data={}, ",
        settings='{"accountNumber": "ACC-1"}' if is_shipment else "{}",
    )
    (folder / "test_handler.py").write_text(test, encoding="utf-8")
    out.print(f"[green]created[/] {folder}/handler.py and {folder}/test_handler.py for [bold]{spec.name}[/]")
    out.print(f"try:  appfn invoke {folder}/handler.py --trigger {spec.name} --example")
    out.print(f"test: pytest {folder}")
