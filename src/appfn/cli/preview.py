"""`appfn preview`: run an app's function on a real record of a demo store, on the server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from appfn.cli.output import fail, out, preview_panel
from appfn.cli.remote import DEFAULT, EXIT_FAILED, Key, Url, connect
from appfn.runtime.limits import InvocationResult

_LANGUAGES = {".py": "python", ".ts": "typescript", ".js": "javascript"}


def preview(
    app_id: Annotated[str, typer.Option("--app", "-a", help="The app's id (app_...).", show_default=False)],
    trigger: Annotated[str, typer.Option("--trigger", "-t", help="Trigger, e.g. customer.created.")],
    store_id: Annotated[int, typer.Option("--store", "-s", help="The demo store (merchant id).")],
    record: Annotated[
        list[str] | None,
        typer.Option("--id", help="The record the trigger's form asks for, as field=id (e.g. customer_id=123)."),
    ] = None,
    customer_id: Annotated[int | None, typer.Option(help="Shortcut for --id customer_id=N.")] = None,
    draft: Annotated[
        Path | None, typer.Option(help="Run this file instead of the deployed version (not saved).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's answer as JSON.")] = False,
    url: Url = DEFAULT,
    key: Key = None,
) -> None:
    """Run the app's function for TRIGGER on a demo store's real record and show the result.

    Exit code: 0 the function succeeded, 1 it failed (or no server answered), 2 bad input.
    """
    body: dict[str, Any] = {"store_id": store_id}
    for item in record or []:
        field, sep, value = item.partition("=")
        if not sep or not field or not value:
            fail(f"--id expects field=id, e.g. customer_id=123; got {item!r}")
        body[field] = int(value) if value.isdigit() else value
    if customer_id is not None:
        body["customer_id"] = customer_id
    if draft is not None:
        language = _LANGUAGES.get(draft.suffix)
        if language is None:
            fail(f"--draft {draft}: expected a .py, .ts or .js file")
        try:
            body["source"] = draft.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"--draft: cannot read {draft}: {exc}")
        body["language"] = language
    with connect(url, key) as api:
        answer = api.post(f"/v1/apps/{app_id}/functions/{trigger}/preview", body)
    if as_json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        result = InvocationResult(
            answer.get("status", "failure"), answer.get("response"), float(answer.get("duration_ms") or 0),
            answer.get("console") or [], answer.get("error"), answer.get("error_kind"), answer.get("requests") or [],
        )  # fmt: skip
        out.print(preview_panel(result, f"preview · {trigger} · store {store_id}"))
    raise typer.Exit(0 if answer.get("status") == "success" else EXIT_FAILED)
