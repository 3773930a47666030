"""`appfn keys`: manage API keys directly in the database, not over the API, so that it works
with the server down or every key lost. Run it where the server's state lives (same
``--data-dir``/``--database-url`` and ``APPFN_`` variables as ``appfn serve``).

    appfn keys create --operator [--name N]      a new operator key
    appfn keys create --partner ID [--name N]    a new key for a partner
    appfn keys partner NAME                      a new partner and its first key
    appfn keys list [--partner ID] [--json]      every key (never the key itself)
    appfn keys revoke ID                         a running server refuses it within 5 s

A new key is printed once, in full; only its hash is stored.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from appfn.cli.output import err, fail, out
from appfn.config import Settings

app = typer.Typer(
    help="Create, list and revoke API keys, and add partners (acts on the database directly).",
    no_args_is_help=True,
)

DataDir = Annotated[
    Path | None,
    typer.Option(help="Where the server's state lives [APPFN_DATA_DIR; ./appfn-data].", rich_help_panel="Database"),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(help="sqlite:///... or postgresql+psycopg://... [APPFN_DATABASE_URL].", rich_help_panel="Database"),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (with the key, for new ones).")]


@contextmanager
def _database(data_dir: Path | None, database_url: str | None) -> Iterator[Any]:
    """The server's database; one clear line (exit 2) when there is none or it cannot be opened."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from appfn import store
    from appfn.errors import AppFnError

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        fail(str(exc))
    flags = {"data_dir": data_dir, "database_url": database_url}
    settings = dataclasses.replace(settings, **{k: v for k, v in flags.items() if v is not None})
    url = settings.resolved_database_url
    try:
        parsed = make_url(url)
    except ArgumentError:
        fail(f"not a database URL: {url!r}")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_file():
            where = f"--data-dir {settings.data_dir}" if not settings.database_url else f"--database-url {url}"
            fail(f"no appfn database at {path} ({where}): start `appfn serve` there once, or point at the right one")
    shown = parsed.render_as_string(hide_password=True)
    try:
        db = store.Database.open(url)
    except (ArgumentError, NoSuchModuleError, ModuleNotFoundError) as exc:  # an unknown dialect or driver
        fail(f"cannot use the database URL {shown}: {_first_line(exc)}")
    except Exception as exc:  # unreachable, locked, refused...
        fail(f"cannot open the database {shown}: {_first_line(exc)}", 1)
    try:
        yield db
    except AppFnError as exc:
        code = 1 if type(exc).__name__ == "StoreUnavailableError" else 2
        fail(str(exc), code)
    finally:
        db.dispose()


def _record(key: Any) -> dict[str, Any]:
    body = {f.name: getattr(key, f.name) for f in dataclasses.fields(key)}
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in body.items()}


def _show_new(record: dict[str, Any], secret: str, as_json: bool, partner: dict[str, Any] | None = None) -> None:
    if as_json:
        body = {**record, "secret": secret}
        print(json.dumps({**partner, "key": body} if partner else body, ensure_ascii=False, indent=2))
        return
    if partner:
        out.print(f"partner [bold]{partner['name']}[/] created: [bold]{partner['id']}[/]")
    owner = "operator" if record["role"] == "operator" else f"partner {record['partner_id']}"
    out.print(f"{owner} key [bold]{record['id']}[/] ({record['name']}):")
    out.print(Text(secret, style="bold yellow"), soft_wrap=True)
    err.print("[dim]store it now: it is not shown again (only its hash is kept)[/]")


@app.command("create")
def create(
    operator: Annotated[bool, typer.Option("--operator", help="An operator key (manages partners, stores).")] = False,
    partner: Annotated[str | None, typer.Option("--partner", help="A key for this partner (ptn_...).")] = None,
    name: Annotated[str | None, typer.Option(help="What the key is for, shown in listings.")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key for the platform's operator (--operator) or a partner (--partner ID).

    The key is printed once; only its hash is stored.
    Exit code 2 on bad input (unknown partner, neither or both options).
    """
    from appfn import store

    if operator == (partner is not None):
        fail("pass --operator or --partner ID (one of them)")
    role = "operator" if operator else "partner"
    with _database(data_dir, database_url) as db, db.session() as session:
        record, secret = store.create_key(session, role, partner, name=name or f"{role} key (cli)")
    _show_new(_record(record), secret, as_json)


@app.command("partner")
def partner(
    name: Annotated[str, typer.Argument(help="The partner's name.")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a partner and its first key (printed once)."""
    from appfn import store

    with _database(data_dir, database_url) as db, db.session() as session:
        created = store.create_partner(session, name)
        record, secret = store.create_key(session, "partner", created.id, name=f"{created.name} key")
    _show_new(_record(record), secret, as_json, _record(created))


@app.command("list")
def list_keys(
    partner: Annotated[str | None, typer.Option("--partner", help="Only this partner's keys.")] = None,
    active: Annotated[bool, typer.Option("--active", help="Leave revoked keys out.")] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List keys (id, role, partner, name, prefix, created, last used, revoked), oldest first."""
    from appfn import store

    with _database(data_dir, database_url) as db, db.read_session() as session:
        if partner is not None:
            store.get_partner(session, partner)
        keys = store.list_keys(session, partner_id=partner, include_revoked=not active)
        names = {p.id: p.name for p in store.list_partners(session)}
    records = [_record(k) for k in keys]
    if as_json:
        for record in records:
            print(json.dumps({**record, "partner_name": names.get(record["partner_id"])}, ensure_ascii=False))
        return
    if not records:
        err.print("[dim]no keys[/]")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("id", "role", "partner", "name", "prefix", "created", "last used", "status"):
        table.add_column(column, no_wrap=column in ("id", "prefix"), min_width=len(column) if column != "id" else 20)
    for record in records:
        revoked = record["revoked_at"]
        table.add_row(
            record["id"],
            record["role"],
            f"{record['partner_id']}\n{names.get(record['partner_id'], '?')}" if record["partner_id"] else "-",
            record["name"],
            record["prefix"],
            _short(record["created_at"]),
            _short(record["last_used_at"]) or "never",
            Text(f"revoked {_short(revoked)}", style="red") if revoked else Text("active", style="green"),
        )
    (out if out.is_terminal else Console(width=max(out.width, 160), highlight=False)).print(table)


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (key_...), as `appfn keys list` shows it.")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key. A running server refuses it within 5 s (it caches keys that long)."""
    from appfn import store

    with _database(data_dir, database_url) as db, db.session() as session:
        before = store.get_key(session, key_id, partner_id=None)
        record = store.revoke_key(session, key_id, partner_id=None)
    body = _record(record)
    if as_json:
        print(json.dumps(body, ensure_ascii=False, indent=2))
    elif before.revoked:
        out.print(f"key {key_id} ({record.name}) was already revoked at {_short(body['revoked_at'])}")
    else:
        out.print(f"[bold]revoked[/] key {key_id} ({record.name}); a running server refuses it within 5 s")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _short(value: Any) -> str:
    if not value:
        return ""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return at.astimezone().strftime("%Y-%m-%d %H:%M")
