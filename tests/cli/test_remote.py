"""`appfn deploy`, `logs`, `emit` and `keys` end to end: a real `appfn serve` on loopback (one per
module), real SQLite, real HTTP. Nothing is mocked. The CLI runs in-process through Typer's runner
(fast), and as a real subprocess where the process matters: the entry point reading APPFN_URL and
APPFN_KEY, `logs --follow` ended by SIGINT."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from appfn import cli
from tests.server import Server, free_port, running_server

if not cli.app.registered_commands:
    cli._register()
runner = CliRunner()

ROOT = Path(__file__).resolve().parents[2]
GREET = ROOT / "examples" / "greet_customer.py"
SHIP = 'from appfn import Shipment\n\n\ndef handler(context):\n    return Shipment.success().set_shipment_number("AWB-%s" % context.merchant.id)\n'  # noqa: E501
REJECT = 'from appfn import Shipment\n\n\ndef handler(context):\n    return Shipment.error().set_message("no carrier serves this address")\n'  # noqa: E501
FAIL = 'def handler(context):\n    raise RuntimeError("boom: the CRM is down")\n'
STORE, OTHER_STORE, FOLLOW_STORE, REJECT_STORE = 42, 43, 44, 45


@dataclass
class World:
    server: Server
    partner_id: str
    partner_key: str
    app_id: str  # installed on STORE, OTHER_STORE and FOLLOW_STORE
    tmp: Path

    def cli(self, *args: str | Path, key: str | None = "partner", url: str | None = None, **kw: Any) -> Run:
        chosen = {"partner": self.partner_key, "operator": self.server.operator_key}.get(key or "", key)
        return appfn(*args, url=url or self.server.url, key=chosen, **kw)

    def keys(self, *args: str) -> Run:
        return appfn("keys", *args, "--data-dir", str(self.server.data_dir))


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


def _env(url: str | None, key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPFN_")}
    env["COLUMNS"] = "200"
    if url:
        env["APPFN_URL"] = url
    if key:
        env["APPFN_KEY"] = key
    return env


def appfn(*args: str | Path, url: str | None = None, key: str | None = None, stdin: str | None = None) -> Run:
    """The CLI in-process (Typer's runner); only APPFN_URL and APPFN_KEY set, as given."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("APPFN_")}
    env.update({"COLUMNS": "200", "APPFN_URL": url, "APPFN_KEY": key})
    result = runner.invoke(cli.app, [str(a) for a in args], env=env, input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash is a bug, not an exit code
    return Run(result.exit_code, result.stdout, result.stderr)


def appfn_process(*args: str | Path, url: str | None = None, key: str | None = None) -> Run:
    """The CLI as a real subprocess (the installed entry point's environment handling)."""
    done = subprocess.run(
        [sys.executable, "-m", "appfn", *map(str, args)],
        capture_output=True, text=True, timeout=90, env=_env(url, key), check=False,
    )  # fmt: skip
    return Run(done.returncode, done.stdout, done.stderr)


def wait_for(check: Callable[[], Any], timeout: float = 20.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(every)


def deploy_via_api(api: httpx.Client, app_id: str, trigger: str, source: str) -> None:
    saved = api.put(f"/v1/apps/{app_id}/functions/{trigger}", json={"source": source})
    assert saved.status_code == 202, saved.text
    job_id = saved.json()["deploy"]["id"]
    job = wait_for(lambda: (j := api.get(f"/v1/deploys/{job_id}").json())["status"] != "PENDING" and j)
    assert job["status"] == "COMPLETED", job


def executions(api: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    answer = api.get("/v1/executions", params={"limit": 500, **filters})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("remote")
    with running_server(tmp, max_attempts=2, retry_base_s=0.1, retry_max_s=0.2) as server:
        assert server.operator_key
        with server.client() as op:
            partner = op.post("/v1/partners", json={"name": "Acme"}).json()
            for store_id in (STORE, OTHER_STORE, FOLLOW_STORE, REJECT_STORE):
                made = op.post("/v1/stores", json={"id": store_id, "name": f"demo {store_id}", "is_demo": True})
                assert made.status_code == 201, made.text
            scopes = ["customers.read", "shipping.read"]
            app = op.post("/v1/apps", json={"name": "CRM", "partner_id": partner["id"], "scopes": scopes}).json()
            rejecter = op.post("/v1/apps", json={"name": "Picky", "partner_id": partner["id"], "scopes": scopes}).json()
            for app_id, store_id in ((app["id"], STORE), (app["id"], OTHER_STORE), (app["id"], FOLLOW_STORE)):
                made = op.post("/v1/installations", json={"app_id": app_id, "store_id": store_id})
                assert made.status_code == 201, made.text
            op.post("/v1/installations", json={"app_id": rejecter["id"], "store_id": REJECT_STORE})
            deploy_via_api(op, app["id"], "customer.created", GREET.read_text())
            deploy_via_api(op, app["id"], "customer.updated", FAIL)
            deploy_via_api(op, app["id"], "shipment.creating", SHIP)
            deploy_via_api(op, rejecter["id"], "shipment.creating", REJECT)
        yield World(server, partner["id"], partner["key"]["secret"], app["id"], tmp)


@pytest.fixture
def api(world: World) -> Iterator[httpx.Client]:
    with world.server.client(world.partner_key) as client:
        yield client


def new_app(api: httpx.Client, name: str = "deploy target") -> str:
    made = api.post("/v1/apps", json={"name": name, "scopes": ["customers.read"]})
    assert made.status_code == 201, made.text
    return made.json()["id"]


# --- deploy -------------------------------------------------------------------------------------


def test_deploy_makes_the_version_active(world: World, api: httpx.Client) -> None:
    app_id = new_app(api)
    run = world.cli("deploy", GREET, "--app", app_id, "--trigger", "customer.created", "--name", "greeter")
    assert run.code == 0, run.err
    assert "deployed" in run.out and "version 1 of customer.created" in run.out
    function = api.get(f"/v1/apps/{app_id}/functions/customer.created").json()
    assert function["active_version_number"] == 1 and function["name"] == "greeter"
    assert function["source"] == GREET.read_text()

    # As a real process, the server and key from APPFN_URL / APPFN_KEY.
    again = appfn_process("deploy", GREET, "--app", app_id, "-t", "customer.created", "--json",
                          url=world.server.url, key=world.partner_key)  # fmt: skip
    assert again.code == 0, again.err
    body = again.json()
    assert body["created"] is False and body["version"]["number"] == 1 and body["deploy"]["status"] == "COMPLETED"


def test_failed_deploy_prints_the_reason_and_the_line(world: World, api: httpx.Client) -> None:
    app_id = new_app(api)
    assert world.cli("deploy", GREET, "--app", app_id, "-t", "customer.created").code == 0
    broken = world.tmp / "broken.py"
    broken.write_text("def handler(context):\n    total = 1\n    return (total,\n\n")
    run = world.cli("deploy", broken, "--app", app_id, "-t", "customer.created")
    assert run.code == 1, run.out + run.err
    assert "deploy failed" in run.err and "version 2" in run.err
    assert "SyntaxError" in run.err
    assert f"{broken}:3" in run.err
    assert "> 3 |     return (total," in run.err  # the line itself, marked
    function = api.get(f"/v1/apps/{app_id}/functions/customer.created").json()
    assert function["active_version_number"] == 1 and function["latest_version_number"] == 2

    no_handler = world.tmp / "no_handler.py"
    no_handler.write_text("def handle(context):\n    return None\n")
    run = world.cli("deploy", no_handler, "--app", app_id, "-t", "customer.created", "--json")
    assert run.code == 1
    job = run.json()["deploy"]
    assert job["status"] == "FAILED" and "handler" in job["failure_reason"]
    assert "no function named 'handler'" in run.err


def test_deploy_no_wait_returns_at_once(world: World, api: httpx.Client) -> None:
    app_id = new_app(api)
    run = world.cli("deploy", GREET, "--app", app_id, "-t", "customer.created", "--no-wait", "--json")
    assert run.code == 0, run.err
    job_id = run.json()["deploy"]["id"]
    wait_for(lambda: api.get(f"/v1/deploys/{job_id}").json()["status"] == "COMPLETED")


def test_deploy_bad_input(world: World, api: httpx.Client) -> None:
    app_id = new_app(api)
    unknown = world.cli("deploy", GREET, "--app", app_id, "-t", "customer.creatd")
    assert unknown.code == 2
    assert "unknown trigger 'customer.creatd'" in unknown.err and "customer.created" in unknown.err
    assert unknown.err.count("did you mean") == 1

    missing_app = world.cli("deploy", GREET, "--app", "app_nope", "-t", "customer.created")
    assert missing_app.code == 2 and "app 'app_nope' not found" in missing_app.err

    missing_file = world.cli("deploy", world.tmp / "nope.py", "--app", app_id, "-t", "customer.created")
    assert missing_file.code == 2 and "nope.py: no such file" in missing_file.err

    text = world.tmp / "handler.txt"
    text.write_text("def handler(context): pass\n")
    wrong_ext = world.cli("deploy", text, "--app", app_id, "-t", "customer.created")
    assert wrong_ext.code == 2 and "extension" in wrong_ext.err

    no_key = world.cli("deploy", GREET, "--app", app_id, "-t", "customer.created", key=None)
    assert no_key.code == 2 and "no API key" in no_key.err

    bad_key = world.cli("deploy", GREET, "--app", app_id, "-t", "customer.created", key="afk_notakey")
    assert bad_key.code == 2 and "invalid or revoked API key" in bad_key.err

    down = world.cli("deploy", GREET, "--app", app_id, "-t", "customer.created", url=f"http://127.0.0.1:{free_port()}")
    assert down.code == 1 and "cannot reach the appfn server" in down.err
    for run in (unknown, missing_app, missing_file, wrong_ext, no_key, bad_key, down):
        assert "Traceback" not in run.err and len(run.err.strip().splitlines()) <= 2, run.err


# --- emit and logs ------------------------------------------------------------------------------


def test_emit_an_event_then_its_execution_is_in_the_logs(world: World, api: httpx.Client) -> None:
    event_id = f"ev-{uuid.uuid4().hex[:8]}"
    run = world.cli("emit", "customer.created", "--store", str(STORE), "--example", "--id", event_id)
    assert run.code == 0, run.err
    assert "accepted" in run.out and event_id in run.out and "1 function queued" in run.out

    [done] = wait_for(lambda: executions(api, event_id=event_id))
    assert done["status"] == "success"

    logs = world.cli("logs", "--trigger", "customer.created", "--store", str(STORE), "--json")
    assert logs.code == 0, logs.err
    rows = logs.lines()
    assert done["id"] in [r["id"] for r in rows]
    assert all(r["trigger"] == "customer.created" and r["store_id"] == STORE for r in rows)
    times = [r["created_at"] for r in rows]
    assert times == sorted(times)  # oldest first, like a log

    table = world.cli("logs", "--store", str(STORE), "--trigger", "customer.created")
    assert table.code == 0, table.err
    header = table.out.splitlines()[0].split()
    assert header == ["time", "trigger", "store", "status", "try", "took", "error"]
    rows = [line.split() for line in table.out.splitlines()[2:]]
    assert any(row[2:5] == ["customer.created", str(STORE), "success"] for row in rows), table.out

    again = world.cli("emit", "customer.created", "--store", str(STORE), "--example", "--id", event_id, "--json")
    assert again.code == 0
    assert again.json() == {"id": event_id, "event": "customer.created", "duplicate": True, "jobs": 0}


def test_logs_filters(world: World, api: httpx.Client) -> None:
    event_id = f"fail-{uuid.uuid4().hex[:8]}"
    data = world.tmp / "customer.json"
    example = api.get("/v1/triggers/customer.updated").json()["example"]
    data.write_text(json.dumps(example))
    run = world.cli("emit", "customer.updated", "-s", str(OTHER_STORE), "--data", data, "--id", event_id)
    assert run.code == 0, run.err
    # max_attempts=2: a failure, then a retry that is dead-lettered.
    wait_for(lambda: len(executions(api, event_id=event_id)) == 2)
    assert world.cli("emit", "customer.created", "-s", str(OTHER_STORE), "--example").code == 0
    wait_for(lambda: executions(api, store_id=OTHER_STORE, trigger="customer.created"))

    by_store = world.cli("logs", "--store", str(OTHER_STORE), "--json").lines()
    assert {r["store_id"] for r in by_store} == {OTHER_STORE}
    assert {r["trigger"] for r in by_store} >= {"customer.updated", "customer.created"}

    failed = world.cli("logs", "--status", "failure,dead", "--store", str(OTHER_STORE), "--json").lines()
    assert failed and {r["status"] for r in failed} == {"failure", "dead"}
    assert sorted(r["attempt"] for r in failed if r["event_id"] == event_id) == [1, 2]

    table = world.cli("logs", "--status", "dead", "--app", world.app_id, "--store", str(OTHER_STORE))
    row = next(line for line in table.out.splitlines() if "customer.updated" in line)
    assert "dead" in row and "RuntimeError: boom: the CRM is down" in row and "Traceback" not in table.out

    assert world.cli("logs", "--trigger", "customer.updated", "--status", "success", "--json").out == ""
    newest = world.cli("logs", "--limit", "1", "--json").lines()
    assert len(newest) == 1
    assert world.cli("logs", "--since", "1h", "--store", str(OTHER_STORE), "--json").lines()
    future = world.cli("logs", "--since", "2999-01-01T00:00:00+00:00")
    assert future.code == 0 and "no executions match" in future.err


def test_logs_bad_input(world: World) -> None:
    status = world.cli("logs", "--status", "bogus")
    assert status.code == 2 and "unknown status 'bogus'" in status.err
    since = world.cli("logs", "--since", "yesterday")
    assert since.code == 2 and "--since" in since.err
    assert world.cli("logs", "--limit", "0").code == 2
    down = world.cli("logs", url=f"http://127.0.0.1:{free_port()}")
    assert down.code == 1 and "cannot reach" in down.err


def test_logs_follow_prints_new_executions_oldest_first(world: World, api: httpx.Client) -> None:
    command = [sys.executable, "-m", "appfn", "logs", "--follow", "--json", "--store", str(FOLLOW_STORE)]
    follower = subprocess.Popen(
        [*command, "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(world.server.url, world.partner_key),
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert follower.stdout is not None
        for line in follower.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        ids = []
        for n in range(3):
            event_id = f"follow-{n}-{uuid.uuid4().hex[:6]}"
            sent = world.cli("emit", "customer.created", "-s", str(FOLLOW_STORE), "--example", "--id", event_id)
            assert sent.code == 0, sent.err
            wait_for(lambda event_id=event_id: executions(api, event_id=event_id))
            ids.append(event_id)
        seen = [json.loads(lines.get(timeout=15)) for _ in ids]
        assert [r["event_id"] for r in seen] == ids
        time.sleep(0.6)  # several more polls: nothing is printed twice
        assert lines.empty()
    finally:
        follower.send_signal(signal.SIGINT)
        _, err = follower.communicate(timeout=10)
    assert follower.returncode == 0, err
    assert "Traceback" not in err


def test_emit_a_sync_action_prints_the_decision(world: World) -> None:
    run = world.cli("emit", "shipment.creating", "--store", str(STORE), "--example")
    assert run.code == 0, run.err
    assert "proceed" in run.out and f"AWB-{STORE}" in run.out and world.app_id in run.out

    body = world.cli("emit", "shipment.creating", "--store", str(STORE), "--example", "--json").json()
    assert body["proceed"] is True and body["errors"] == []
    assert body["data"] == {"shipment_number": f"AWB-{STORE}"}
    [result] = body["results"]
    assert result["app_id"] == world.app_id and result["status"] == "success" and result["version"] == 1

    rejected = world.cli("emit", "shipment.creating", "--store", str(REJECT_STORE), "--example")
    assert rejected.code == 1
    assert "reject" in rejected.out and "no carrier serves this address" in rejected.out


def test_emit_bad_input(world: World) -> None:
    unknown = world.cli("emit", "customer.creatd", "--store", str(STORE), "--example")
    assert unknown.code == 2
    assert "unknown trigger 'customer.creatd'" in unknown.err and "customer.created" in unknown.err

    bad = world.tmp / "bad.json"
    bad.write_text('{\n  "id": 1,\n  "email": }\n')
    invalid = world.cli("emit", "customer.created", "--store", str(STORE), "--data", bad)
    assert invalid.code == 2
    assert str(bad) in invalid.err and "not valid JSON" in invalid.err and "line 3, column 12" in invalid.err

    missing = world.cli("emit", "customer.created", "--store", str(STORE), "--data", world.tmp / "absent.json")
    assert missing.code == 2 and "absent.json: no such file" in missing.err

    array = world.tmp / "array.json"
    array.write_text("[1, 2]")
    not_object = world.cli("emit", "customer.created", "--store", str(STORE), "--data", array)
    assert not_object.code == 2 and "must hold a JSON object" in not_object.err

    small = world.tmp / "small.json"
    small.write_text('{"id": 1}')
    schema = world.cli("emit", "customer.created", "--store", str(STORE), "--data", small)
    assert schema.code == 2 and "data.email: required field missing" in schema.err

    piped = world.cli("emit", "customer.created", "--store", str(STORE), "--data", "-", stdin="nope")
    assert piped.code == 2 and "stdin is not valid JSON" in piped.err

    both = world.cli("emit", "customer.created", "--store", str(STORE), "--example", "--data", small)
    neither = world.cli("emit", "customer.created", "--store", str(STORE))
    assert both.code == 2 and neither.code == 2 and "--data FILE or --example" in neither.err

    not_demo = world.cli("emit", "customer.created", "--store", "999", "--example")
    assert not_demo.code == 2 and "store 999 is not registered" in not_demo.err

    nobody = f"http://127.0.0.1:{free_port()}"
    down = appfn_process("emit", "customer.created", "-s", str(STORE), "--example", url=nobody, key="afk_any")
    assert down.code == 1 and "cannot reach the appfn server" in down.err
    for run in (unknown, invalid, missing, not_object, schema, piped, neither, not_demo, down):
        assert "Traceback" not in run.err, run.err


# --- keys ---------------------------------------------------------------------------------------


def test_keys_create_list_revoke(world: World) -> None:
    made = world.keys("partner", "Gamma", "--json")
    assert made.code == 0, made.err
    partner = made.json()
    gamma_key = partner["key"]["secret"]
    assert partner["name"] == "Gamma" and partner["key"]["role"] == "partner" and gamma_key.startswith("afk_")
    with world.server.client(gamma_key) as gamma:
        assert gamma.get("/v1/apps").status_code == 200

    extra = world.keys("create", "--partner", partner["id"], "--name", "ci")
    assert extra.code == 0, extra.err
    secret = next(word for word in extra.out.split() if word.startswith("afk_"))
    assert "not shown again" in extra.err
    key_id = next(word for word in extra.out.split() if word.startswith("key_"))

    listed = world.keys("list", "--partner", partner["id"], "--json").lines()
    assert {k["name"] for k in listed} == {"Gamma key", "ci"}
    assert all(k["partner_name"] == "Gamma" and "secret" not in k and "hash" not in k for k in listed)
    table = world.keys("list")
    assert table.code == 0 and key_id in table.out and "first operator key" in table.out
    assert secret not in table.out and gamma_key not in table.out

    with world.server.client(secret) as ci:
        assert ci.get("/v1/apps").status_code == 200
        revoked = world.keys("revoke", key_id)
        assert revoked.code == 0 and "revoked" in revoked.out
        started = time.monotonic()
        wait_for(lambda: ci.get("/v1/apps").status_code == 401, timeout=8, every=0.25)
        assert time.monotonic() - started < 7
    with world.server.client(gamma_key) as gamma:
        assert gamma.get("/v1/apps").status_code == 200  # only that key

    twice = world.keys("revoke", key_id)
    assert twice.code == 0 and "already revoked" in twice.out
    active = world.keys("list", "--partner", partner["id"], "--active", "--json").lines()
    assert [k["name"] for k in active] == ["Gamma key"]

    operator = world.keys("create", "--operator", "--name", "break glass", "--json").json()
    assert operator["role"] == "operator" and operator["partner_id"] is None
    with world.server.client(operator["secret"]) as op:
        assert op.get("/v1/partners").status_code == 200


def test_keys_bad_input(world: World, tmp_path: Path) -> None:
    unknown_partner = world.keys("create", "--partner", "ptn_nope")
    assert unknown_partner.code == 2 and "partner 'ptn_nope' not found" in unknown_partner.err
    both = world.keys("create", "--operator", "--partner", world.partner_id)
    neither = world.keys("create")
    assert both.code == 2 and neither.code == 2 and "--operator or --partner" in neither.err
    unknown_key = world.keys("revoke", "key_nope")
    assert unknown_key.code == 2 and "key_nope" in unknown_key.err
    nowhere = appfn("keys", "list", "--data-dir", str(tmp_path / "empty"))
    assert nowhere.code == 2 and "no appfn database" in nowhere.err
    assert not (tmp_path / "empty").exists()  # nothing created by looking
    bad_url = appfn("keys", "list", "--database-url", "nosuchdb://x")
    assert bad_url.code == 2 and "nosuchdb" in bad_url.err
    for run in (unknown_partner, neither, unknown_key, nowhere, bad_url):
        assert "Traceback" not in run.err, run.err


def test_keys_work_while_the_server_is_down(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        first = server.operator_key
        assert first
    # Down: every key lost, say. The database is there; make a new operator key in it.
    env_dir = appfn("keys", "create", "--operator", "--json", "--data-dir", str(server.data_dir))
    assert env_dir.code == 0, env_dir.err
    fresh = env_dir.json()["secret"]
    assert appfn("keys", "revoke", env_dir.json()["id"], "--data-dir", str(server.data_dir)).code == 0
    again = appfn("keys", "create", "--operator", "--json", "--database-url", f"sqlite:///{server.data_dir}/appfn.db")
    assert again.code == 0, again.err
    with running_server(tmp_path) as restarted:
        assert restarted.operator_key == first  # kept from the first start; no new key printed
        assert "operator key" not in restarted.output()
        with restarted.client(again.json()["secret"]) as op:
            assert op.get("/v1/partners").status_code == 200
        with restarted.client(fresh) as op:
            assert op.get("/v1/partners").status_code == 401
