"""`appfn init`: a runnable handler for a trigger (Python, TypeScript or JavaScript) plus a pytest test.

TypeScript also gets the trigger's types (``appfn.d.ts``, generated from the catalog) and a
``tsconfig.json``, so ``npx tsc --noEmit`` type-checks the handler as the original's editor does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from appfn.catalog import load_catalog
from appfn.catalog.templates import FILENAMES, normalize_lang, template
from appfn.cli.output import fail, out
from appfn.errors import CatalogError

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
    lang: Annotated[str, typer.Option(help="Language of the handler: py, ts or js.")] = "py",
) -> None:
    """Write a runnable handler for TRIGGER and a pytest test for it into folder NAME."""
    try:
        lang = normalize_lang(lang)
    except ValueError as exc:
        fail(f"--lang: {exc}")
    try:
        spec = load_catalog().get(trigger)
    except CatalogError as exc:
        fail(str(exc))
    folder = Path(name)
    if folder.exists() and any(folder.iterdir()):
        fail(f"{folder} already exists and is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    filename = FILENAMES[lang]
    written = [filename, "test_handler.py"]
    (folder / filename).write_text(template(spec, lang), encoding="utf-8")
    is_shipment = spec.return_type == "Shipment"
    test = _TEST.format(
        filename=filename,
        name=spec.name,
        slug=re.sub(r"\W+", "_", spec.name),
        data_arg="example=True, " if spec.example_data is not None else "data={}, ",
        settings='{"accountNumber": "ACC-1"}' if is_shipment else "{}",
    )
    (folder / "test_handler.py").write_text(test, encoding="utf-8")
    if lang == "ts":
        from appfn.catalog.typescript import FILENAME, render, tsconfig

        (folder / FILENAME).write_text(render(), encoding="utf-8")
        (folder / "tsconfig.json").write_text(json.dumps(tsconfig(), indent=2) + "\n", encoding="utf-8")
        written += [FILENAME, "tsconfig.json"]
    out.print(f"[green]created[/] {', '.join(f'{folder}/{f}' for f in written)} for [bold]{spec.name}[/]")
    out.print(f"try:  appfn invoke {folder}/{filename} --trigger {spec.name} --example")
    out.print(f"test: pytest {folder}")
    if lang == "ts":
        out.print(f"types: cd {folder} && npx -p typescript@5.9.3 tsc --noEmit")
