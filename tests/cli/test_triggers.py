"""`appfn triggers`: in-process through Typer's CliRunner, and once as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from appfn.catalog import load_catalog
from appfn.cli.triggers import app

runner = CliRunner()
LIST_KEYS = {
    "name",
    "title",
    "group",
    "category",
    "execution",
    "timeout_s",
    "context_type",
    "return_type",
    "preview_form",
}


def test_table_lists_every_trigger() -> None:
    result = runner.invoke(app, [], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    for name in load_catalog().names():
        assert name in result.stdout
    assert "80 triggers, 2 sync" in result.stdout
    for header in ("name", "category", "execution", "timeout"):
        assert header in result.stdout


def test_json_listing() -> None:
    result = runner.invoke(app, ["--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 80
    assert all(set(row) >= LIST_KEYS for row in rows)
    assert [r["name"] for r in rows if r["execution"] == "sync"] == [
        "shipment.creating",
        "shipment.cancelling",
    ]
    first = rows[0]
    assert first["timeout_s"] == 5
    assert first["preview_form"] == ["shipment_id"]
    assert first["return_type"] == "Shipment"


@pytest.mark.parametrize("flag", ["--category", "-c"])
def test_category_filter(flag: str) -> None:
    result = runner.invoke(app, [flag, "communication_events", "--json"])
    assert result.exit_code == 0, result.output
    assert [r["name"] for r in json.loads(result.stdout)] == [
        "communication.sms.send",
        "communication.email.send",
        "communication.whatsapp.send",
    ]
    table = runner.invoke(app, [flag, "merchant_actions"])
    assert table.exit_code == 0
    assert "shipment.creating" in table.stdout
    assert "order.created" not in table.stdout


def test_unknown_category_is_a_one_line_error_with_exit_2() -> None:
    result = runner.invoke(app, ["--category", "merchant_event"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "merchant_event" in lines[0]
    assert "did you mean merchant_events" in lines[0]


def test_show_for_people() -> None:
    result = runner.invoke(app, ["show", "customer.login"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "customer.login" in out
    assert "payload.data schema" in out
    assert '"is_notifications_enabled"' in out  # from the schema and the example
    assert "test@gmail.com" in out  # the example
    assert "precise" in out


def test_show_without_example() -> None:
    result = runner.invoke(app, ["show", "order.deleted"])
    assert result.exit_code == 0, result.output
    assert "No documented example" in result.stdout


def test_show_json_is_one_object() -> None:
    result = runner.invoke(app, ["show", "customer.otp.request", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    trigger = load_catalog().get("customer.otp.request")
    assert set(doc) >= LIST_KEYS
    assert doc["name"] == "customer.otp.request"
    assert doc["schema"] == trigger.data_schema()
    assert doc["schema"]["required"] == ["code", "contact"]
    assert doc["example_data"] == {"code": "5331", "contact": "+96652318526"}
    assert doc["schema_basis"] == "precise"

    sms = json.loads(runner.invoke(app, ["show", "communication.sms.send", "--json"]).stdout)
    assert set(sms["extra_examples"]) == {"otp", "interface reference"}


def test_show_unknown_trigger_is_a_one_line_error_with_exit_2() -> None:
    result = runner.invoke(app, ["show", "customer.logn"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "'customer.logn'" in lines[0]
    assert "customer.login" in lines[0]
    json_mode = runner.invoke(app, ["show", "Product Viewed", "--json"])
    assert json_mode.exit_code == 2
    assert "product.viewed" in json_mode.stderr


@pytest.mark.parametrize("args", [["--help"], ["show", "--help"]])
def test_help(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout
    assert "--json" in result.stdout


def test_real_subprocess_lists_eighty_triggers() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "appfn", "triggers", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == 80
    assert {r["name"] for r in rows} == set(load_catalog().names())

    missing = subprocess.run(
        [sys.executable, "-m", "appfn", "triggers", "show", "nope.nope"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert missing.returncode == 2
    assert "nope.nope" in missing.stderr
