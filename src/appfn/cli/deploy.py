"""`appfn deploy`: save a function file as the next version of an app's function and follow
its deploy job until the version is live (``COMPLETED``) or refused (``FAILED``)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from appfn.cli.output import err, fail, out
from appfn.cli.remote import DEFAULT, EXIT_FAILED, Key, Url, connect
from appfn.client import Client

LANGUAGES = {".py": "python", ".ts": "typescript", ".js": "javascript"}
POLL_S = 0.2
FINAL = ("COMPLETED", "FAILED")


def deploy(
    path: Annotated[Path, typer.Argument(help="The function file: .py, .ts or .js.", show_default=False)],
    app_id: Annotated[str, typer.Option("--app", "-a", help="The app's id (app_...).", show_default=False)],
    trigger: Annotated[
        str, typer.Option("--trigger", "-t", help="Trigger the function runs on, e.g. customer.created.")
    ],
    name: Annotated[str | None, typer.Option(help="A name for the function (default: from the trigger).")] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Follow the deploy until it completes or fails.")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Give up waiting after this many seconds.")] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the save and the final deploy job as JSON.")] = False,
    url: Url = DEFAULT,
    key: Key = None,
) -> None:
    """Deploy PATH as the function of APP for TRIGGER: a new version plus a deploy job.

    The version becomes active when its deploy COMPLETES; the one before keeps running until then.
    A FAILED deploy (does not load, no handler, wrong signature) prints the reason and the line.
    Saving the same code again changes nothing and reports the version already saved.

    Exit code: 0 deployed (or queued, with --no-wait); 1 the deploy failed or no server answered;
    2 bad input (file, app, trigger, key).
    """
    language = LANGUAGES.get(path.suffix.lower())
    if language is None:
        fail(f"{path}: cannot tell the language from the extension (use .py, .ts or .js)")
    if timeout <= 0:
        fail(f"--timeout must be positive, got {timeout:g}")
    source = _read(path)
    with connect(url, key) as api:
        saved = api.save_function(app_id, trigger, source, language=language, filename=path.name, name=name)
        job = saved["deploy"]
        number = saved["version"]["number"]
        if not as_json and saved.get("created", True):
            out.print(f"saved [bold]{path.name}[/] as version {number} of {trigger} on {app_id}")
        elif not as_json:  # an identical save returns the active version, or the one still deploying
            out.print(f"unchanged: version {number} of {trigger} on {app_id} has this code already")
        if wait and job["status"] not in FINAL:
            job = _follow(api, job, number, timeout, quiet=as_json)
    if as_json:
        print(json.dumps({**saved, "deploy": job}, ensure_ascii=False, indent=2))
    status = job["status"]
    if status == "FAILED":
        _report_failure(path, source, job, number)
        raise typer.Exit(EXIT_FAILED)
    if status == "COMPLETED":
        if not as_json:
            previous = saved["function"].get("active_version_number")
            was = f" (replacing version {previous})" if previous and previous != number else ""
            out.print(f"[bold green]✔ deployed[/] version {number} of {trigger}{_took(job)}{was}")
        return
    if wait:
        fail(f"deploy {job['id']} is still {status} after {timeout:g} s", EXIT_FAILED)
    if not as_json:
        out.print(f"deploy {job['id']} is {status}; the version becomes active when it completes")


def _read(path: Path) -> str:
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except IsADirectoryError:
        fail(f"{path}: is a directory, not a function file")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read it: {exc}")
    if not source.strip():
        fail(f"{path}: the file is empty")
    return source


def _follow(api: Client, job: dict[str, Any], number: int, timeout: float, *, quiet: bool) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    if quiet:
        while job["status"] not in FINAL and time.monotonic() < deadline:
            time.sleep(POLL_S)
            job = api.deploy_job(job["id"])
        return job
    with err.status(f"deploying version {number} ({job['status']})…", spinner="dots") as status:
        while job["status"] not in FINAL and time.monotonic() < deadline:
            time.sleep(POLL_S)
            job = api.deploy_job(job["id"])
            status.update(f"deploying version {number} ({job['status']}, {time.monotonic() - started:.1f} s)…")
    return job


def _took(job: dict[str, Any]) -> str:
    try:
        began = datetime.fromisoformat(job["created_at"])
        ended = datetime.fromisoformat(job["finished_at"])
    except (KeyError, TypeError, ValueError):
        return ""
    return f" in {(ended - began).total_seconds():.2f} s"


def _report_failure(path: Path, source: str, job: dict[str, Any], number: int) -> None:
    reason = job.get("failure_reason") or "no reason given"
    line = job.get("failure_line")
    err.print(
        Text.assemble(("✘ deploy failed", "bold red"), f": version {number} of {path.name} was not deployed: {reason}")
    )
    lines = source.splitlines()
    if isinstance(line, int) and 1 <= line <= len(lines):
        width = len(str(min(line + 1, len(lines))))
        err.print(Text(f"  --> {path}:{line}", style="bold"))
        for n in range(max(1, line - 1), min(len(lines), line + 1) + 1):
            mark = ">" if n == line else " "
            err.print(Text(f"  {mark} {n:>{width}} | {lines[n - 1]}", style="bold" if n == line else "dim"))
    elif line is not None:
        err.print(f"  --> {path}:{line}")
    err.print("[dim]the active version, if any, keeps running[/]")
