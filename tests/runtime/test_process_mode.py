"""The weaker ``process`` sandbox (hosts without user namespaces) still refuses the
common escapes; docs/sandbox.md says what it cannot do."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.runtime.conftest import RuntimeThread


@pytest.fixture(scope="module")
def prt() -> Iterator[RuntimeThread]:
    runtime = RuntimeThread(sandbox="process", spare_workers=0)
    assert runtime.runtime.sandbox.mode == "process"
    yield runtime
    runtime.close()


def _run(prt: RuntimeThread, body: str) -> dict:
    source = "import os\ndef handler(context):\n" + "\n".join("    " + b for b in body.splitlines())
    return prt.invoke(source).to_dict()


def test_a_normal_function_runs(prt: RuntimeThread) -> None:
    assert _run(prt, "return {'success': True, 'data': {'tmp': os.getcwd()}}")["status"] == "success"


def test_reading_host_files_is_refused(prt: RuntimeThread) -> None:
    result = _run(prt, "return {'success': True, 'data': {'x': open('/etc/passwd').read()}}")
    assert "PermissionError: functions may not read /etc/passwd" in result["error"]


def test_writing_outside_the_private_dir_is_refused(prt: RuntimeThread) -> None:
    result = _run(prt, "open('/tmp/appfn-process-escape', 'w').write('x')")
    assert "functions may write files only under" in result["error"]
    assert not os.path.exists("/tmp/appfn-process-escape")


def test_the_environment_is_empty_and_seccomp_is_on(prt: RuntimeThread) -> None:
    os.environ["APPFN_TEST_SECRET"] = "s3cr3t"
    try:
        result = _run(
            prt,
            "status = open('/proc/self/status').read()\n"
            "return {'success': True, 'data': {'env': dict(os.environ), 'status': status}}",
        )
    finally:
        del os.environ["APPFN_TEST_SECRET"]
    assert "s3cr3t" not in repr(result["response"]["data"]["env"])
    assert "Seccomp:\t2" in result["response"]["data"]["status"]


def test_processes_and_signals_are_refused(prt: RuntimeThread) -> None:
    assert "may not start processes" in _run(prt, "os.system('id')")["error"]
    assert "may not signal other processes" in _run(prt, "os.kill(os.getppid(), 9)")["error"]
