"""Hostile functions: each is contained with a clear, named reason, and the same pool then
serves a normal invocation. Runs in the default (bwrap) sandbox."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.runtime.conftest import RuntimeThread, make_context

NORMAL = "def handler(context):\n    return {'success': True, 'data': {'fine': True}}\n"


def _handler(body: str, *, is_async: bool = False, imports: str = "") -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f"{imports}\n{'async ' if is_async else ''}def handler(context):\n{lines}\n"


@pytest.fixture(autouse=True)
def _pool_still_serves(rt: RuntimeThread):
    yield
    after = rt.invoke(NORMAL)
    assert after.ok, f"the pool stopped serving: {after.error}"


def test_infinite_loop_times_out(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("while True:\n    pass"), timeout_s=1)
    assert (result.status, result.error_kind) == ("failure", "timeout")
    assert result.error == "timed out after 1 s"
    assert result.duration_ms < 2500


def test_infinite_loop_after_an_await_times_out(rt: RuntimeThread) -> None:
    body = "await asyncio.sleep(0)\nwhile True:\n    pass"
    result = rt.invoke(_handler(body, is_async=True, imports="import asyncio"), timeout_s=1)
    assert result.error_kind == "timeout"


def test_cpu_spin_inside_a_c_call_hits_the_cpu_limit(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("return sum(range(10**12))"), timeout_s=5, cpu_s=1)
    assert result.error_kind == "cpu"
    assert "CPU time limit exceeded (1 s)" in result.error


def test_memory_bomb_is_stopped_at_the_limit(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))"), memory_mb=128)
    assert (result.status, result.error_kind) == ("failure", "memory")
    assert "memory limit exceeded" in result.error


def test_fork_bomb_is_refused(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("while True:\n    os.fork()", imports="import os"))
    assert result.error_kind == "exception"
    assert "PermissionError: functions may not start processes (os.fork)" in result.error


def test_os_system_is_refused(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("os.system('id')", imports="import os"))
    assert "functions may not start processes (os.system)" in result.error


def test_subprocess_is_refused(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("subprocess.run(['id'])", imports="import subprocess"))
    assert "functions may not start processes (subprocess.Popen)" in result.error


def test_fork_exec_past_the_tripwire_is_stopped_by_seccomp(rt: RuntimeThread) -> None:
    # _posixsubprocess.fork_exec raises no audit event: only the kernel filter stands here.
    body = """
import _posixsubprocess, os
r, w = os.pipe()
_posixsubprocess.fork_exec(
    [b"/bin/echo", b"escaped"], [b"/bin/echo"], True, (w,), None, None,
    -1, -1, -1, -1, -1, -1, r, w, False, False, -1, None, None, None, -1, None, False,
)
return {"success": True, "data": {"escaped": True}}
"""
    result = rt.invoke(_handler(body))
    assert result.status == "failure"
    assert "Operation not permitted" in result.error or "PermissionError" in result.error


def test_the_kernel_filter_is_on(rt: RuntimeThread) -> None:
    body = "status = open('/proc/self/status').read()\nreturn {'success': True, 'data': {'s': status}}"
    result = rt.invoke(_handler(body))
    fields = dict(line.split(":\t", 1) for line in result.response["data"]["s"].splitlines() if ":\t" in line)
    assert fields["Seccomp"].strip() == "2" and fields["NoNewPrivs"].strip() == "1"


def test_writes_outside_the_private_tmp_fail(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("open('/usr/escape.txt', 'w').write('x')"))
    assert "functions may write files only under /tmp" in result.error


def test_writes_to_tmp_stay_private(rt: RuntimeThread) -> None:
    name = f"/tmp/appfn-escape-{uuid.uuid4().hex}"
    result = rt.invoke(_handler(f"open({name!r}, 'w').write('x')\nreturn {{'success': True}}"))
    assert result.ok
    assert not Path(name).exists(), "a function's /tmp must not be the host's /tmp"


def test_platform_files_and_etc_passwd_are_not_readable(rt: RuntimeThread, tmp_path: Path) -> None:
    secret = tmp_path / "platform.db"
    secret.write_text("operator secrets")
    for path in ("/etc/passwd", str(secret), str(Path.cwd() / "pyproject.toml")):
        result = rt.invoke(_handler(f"return {{'success': True, 'data': {{'x': open({path!r}).read()}}}}"))
        assert result.status == "failure", path
        assert "No such file or directory" in result.error or "may not read" in result.error


def test_the_platform_environment_is_not_visible(rt: RuntimeThread) -> None:
    os.environ["APPFN_TEST_SECRET"] = "s3cr3t"
    try:
        body = "return {'success': True, 'data': {'env': dict(os.environ), 'p1': open('/proc/1/environ').read()}}"
        fresh = RuntimeThread(spare_workers=0)
        try:
            result = fresh.invoke(_handler(body, imports="import os"))
        finally:
            fresh.close()
    finally:
        del os.environ["APPFN_TEST_SECRET"]
    assert result.ok, result.error
    assert "s3cr3t" not in repr(result.response)


def test_raw_sockets_are_refused(rt: RuntimeThread) -> None:
    body = "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)"
    result = rt.invoke(_handler(body, imports="import socket"))
    assert "functions have no direct network access (socket.__new__)" in result.error


def test_ctypes_is_refused(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("import ctypes\nctypes.CDLL(None).system(b'id')"))
    assert "module 'ctypes' is not available to functions" in result.error


def test_signalling_other_processes_is_refused(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("os.kill(os.getppid(), 9)", imports="import os"))
    assert "functions may not signal other processes" in result.error


def test_a_handler_that_never_returns_from_await_times_out(rt: RuntimeThread) -> None:
    body = "await asyncio.Event().wait()"
    result = rt.invoke(_handler(body, is_async=True, imports="import asyncio"), timeout_s=0.5)
    assert (result.error_kind, result.error) == ("timeout", "timed out after 0.5 s")


def test_huge_console_output_is_capped_with_a_marker(rt: RuntimeThread) -> None:
    body = "for i in range(200_000):\n    print('line', i)\nreturn {'success': True}"
    result = rt.invoke(_handler(body))
    assert result.ok
    assert len(result.console) == 1001
    assert result.console[0] == "line 0"
    assert result.console[-1] == "[console output truncated: 199000 more line(s) not shown]"


def test_a_return_value_that_is_not_json_is_a_clear_failure(rt: RuntimeThread) -> None:
    body = "return Resp.success().set_data({'when': datetime.datetime(2024, 1, 1)})"
    result = rt.invoke(_handler(body, imports="import datetime\nfrom appfn import Resp"))
    assert result.error_kind == "invalid_return"
    assert result.error.startswith("invalid return value: data.when is not JSON-serialisable")


def test_sys_exit_is_a_failure_not_a_dead_pool(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("sys.exit(3)", imports="import sys"))
    assert "the handler called sys.exit(3)" in result.error


def test_a_crashing_worker_is_replaced(rt: RuntimeThread) -> None:
    result = rt.invoke(_handler("os.abort()", imports="import os"))
    assert result.error_kind == "crash"
    assert "SIGABRT" in result.error


def test_huge_frames_from_a_worker_kill_it(rt: RuntimeThread) -> None:
    body = "return {'success': True, 'data': {'blob': 'x' * (40 * 1024 * 1024)}}"
    result = rt.invoke(_handler(body), memory_mb=512)
    assert result.status == "failure"
    assert result.error_kind in ("crash", "memory")


def test_many_hostile_runs_leave_no_processes_behind(rt: RuntimeThread) -> None:
    for _ in range(5):
        rt.invoke(_handler("while True:\n    pass"), timeout_s=0.3)
    assert rt.runtime.worker_count <= rt.runtime.max_workers


def test_context_does_not_leak_between_apps(rt: RuntimeThread) -> None:
    a = rt.invoke(_handler("return {'success': True, 'data': {'s': context.settings}}"), make_context())
    assert a.response["data"]["s"] == {"crmApiUrl": "https://crm.example"}
