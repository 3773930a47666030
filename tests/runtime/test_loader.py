"""Static checks of a function's source and loading errors that name the line."""

from __future__ import annotations

import pytest

from appfn.errors import HandlerLoadError
from appfn.runtime.loader import check_source, load_handler
from tests.runtime.conftest import RuntimeThread


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [
        ("def handler(context):\n    return {\n", "SyntaxError: '{' was never closed (line 2, column 12)", 2),
        ("def main(context):\n    pass\n", "no function named 'handler' in the source (found: main)", None),
        ("def handler():\n    pass\n", "handler must take exactly one argument", 1),
        ("\n\ndef handler(a, b):\n    pass\n", "it takes 2 positional parameter(s), 2 required", 3),
    ],
)
def test_check_source_names_the_problem_and_line(source: str, message: str, line: int | None) -> None:
    with pytest.raises(HandlerLoadError) as info:
        check_source(source)
    assert message in str(info.value)
    assert info.value.line == line


def test_good_sources_pass() -> None:
    check_source("async def handler(context):\n    return {'success': True}\n")
    check_source("def handler(context, extra=None):\n    pass\n")
    check_source("from somewhere import handler\n")


def test_load_failures_point_at_the_users_line() -> None:
    with pytest.raises(HandlerLoadError) as info:
        load_handler("import json\n\nx = 1 / 0\n\ndef handler(context):\n    pass\n")
    assert info.value.line == 3
    assert "ZeroDivisionError: division by zero" in str(info.value)


def test_a_load_error_in_the_sandbox_is_a_failed_invocation(rt: RuntimeThread) -> None:
    result = rt.invoke("import os\nraise RuntimeError('bad config')\ndef handler(context):\n    pass\n")
    assert result.error_kind == "load"
    assert result.error == "the function failed to load (line 2): loading the module failed: RuntimeError: bad config"


def test_exceptions_show_only_the_users_traceback_lines(rt: RuntimeThread) -> None:
    source = "def helper(x):\n    return x['missing']\n\ndef handler(context):\n    return helper({})\n"
    result = rt.invoke(source)
    assert result.error_kind == "exception"
    assert result.error.splitlines()[0] == "KeyError: 'missing'"
    assert 'File "handler.py", line 5, in handler' in result.error
    assert 'File "handler.py", line 2, in helper' in result.error
    assert "appfn/runtime" not in result.error


def test_print_and_logging_are_captured(rt: RuntimeThread) -> None:
    source = (
        "import logging\nlog = logging.getLogger('crm')\n"
        "def handler(context):\n    print('hello')\n    log.warning('careful')\n    return {'success': True}\n"
    )
    result = rt.invoke(source)
    assert result.console == ["hello", "WARNING crm: careful"]
