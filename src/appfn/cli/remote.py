"""What the commands that talk to a server share: ``--url``/``--key`` and the exit codes.

Exit codes: 0 done; 2 bad input (a bad option or file, no key, or a 4xx answer such as an
unknown trigger, app or store, a schema violation, a refused key); 1 the operation failed
(server unreachable or not answering, a 5xx/429/503 answer, a failed deploy, a rejected action).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

import typer

from appfn.cli.output import fail
from appfn.client import DEFAULT_URL, KEY_ENV, URL_ENV, Client, ClientError

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

Url = Annotated[
    str,
    typer.Option("--url", envvar=URL_ENV, help="The appfn server.", show_envvar=True, rich_help_panel="Server"),
]
Key = Annotated[
    str | None,
    typer.Option(
        "--key", envvar=KEY_ENV, help="API key (partner or operator).", show_default=False, rich_help_panel="Server"
    ),
]
DEFAULT = DEFAULT_URL


def exit_code(exc: ClientError) -> int:
    return EXIT_BAD_INPUT if exc.is_bad_input else EXIT_FAILED


def fail_with(exc: ClientError) -> None:
    message = exc.message
    if exc.unreachable and "cannot reach" in message:
        message += f" (is `appfn serve` running? pass --url or set {URL_ENV})"
    fail(message, exit_code(exc))


@contextlib.contextmanager
def connect(url: str, key: str | None, *, need_key: bool = True) -> Iterator[Client]:
    """A client for the command's server; any :class:`ClientError` ends the command with one line."""
    if need_key and not key:
        fail(f"no API key: pass --key or set {KEY_ENV} (`appfn keys create` makes one)")
    try:
        with Client(url, key) as client:
            yield client
    except ClientError as exc:
        fail_with(exc)
