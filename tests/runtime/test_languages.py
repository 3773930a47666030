"""Which runtime a function's code goes to, and the guard around V8's main-thread start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from appfn.runtime.languages import language_of, normalize_language, resolve_language, runtime_of
from appfn.runtime.limits import FunctionCode


@pytest.mark.parametrize(
    ("filename", "language"),
    [
        ("h.py", "python"), ("h.ts", "typescript"), ("h.mts", "typescript"),
        ("h.js", "javascript"), ("h.mjs", "javascript"),
    ],
)
def test_the_extension_names_the_language(filename: str, language: str) -> None:
    assert language_of(filename) == language
    assert FunctionCode("x", filename).language == language


def test_short_and_long_names_are_one_language() -> None:
    assert [normalize_language(n) for n in ("py", "TS", "javascript")] == ["python", "typescript", "javascript"]
    assert (runtime_of("ts"), runtime_of("js"), runtime_of("py")) == ("js", "js", "python")
    with pytest.raises(ValueError, match="unknown language 'go'"):
        normalize_language("go")


def test_a_name_and_a_language_that_disagree_are_refused() -> None:
    with pytest.raises(ValueError, match=r"handler\.py is a python file name, but the language given is typescript"):
        resolve_language("handler.py", "typescript")
    with pytest.raises(ValueError, match=r"cannot tell the language of 'handler\.rb'"):
        FunctionCode("x", "handler.rb")


def test_the_version_key_includes_the_language() -> None:
    ts = FunctionCode("export default async () => ({success: true});\n", language="ts")
    js = FunctionCode(ts.source, language="js")
    assert (ts.filename, js.filename) == ("handler.ts", "handler.js")
    assert ts.key != js.key
    assert FunctionCode("x", "handler.py").key == FunctionCode("x").key  # Python keeps its defaults


def test_typescript_checked_first_from_another_thread_is_a_clear_error_not_a_crash() -> None:
    # mini-racer crashes (SIGSEGV) when V8 starts off the main thread and contexts follow on others.
    script = (
        "import threading\n"
        "from appfn.errors import SandboxError\n"
        "from appfn.runtime.checks import check_function\n"
        "out = []\n"
        "def run():\n"
        "    try:\n"
        "        check_function('export default async (context) => {\\n};\\n', 'h.js', trigger='order.created')\n"
        "    except SandboxError as exc:\n"
        "        out.append(str(exc))\n"
        "t = threading.Thread(target=run); t.start(); t.join()\n"
        "print(out[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "the JS runtime is not started: import appfn.runtime.js" in done.stdout
