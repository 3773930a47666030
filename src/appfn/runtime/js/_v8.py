"""Start V8 once per process, on the main thread.

mini-racer 0.14.1 segfaults when V8 was initialised on a thread other than the main thread and
contexts are later made on yet other threads (measured: init on a helper thread, one context on
a second thread, then a context on a third → SIGSEGV). Importing this package from the main
thread starts V8 there (about 30 ms); after that any thread may make contexts. Forking after the
start is fine: children make contexts normally.

V8 flags are process-wide and fixed at the start; appfn's are in V8_FLAGS.
"""

from __future__ import annotations

import threading

from py_mini_racer import DEFAULT_V8_FLAGS, init_mini_racer

# --expose-gc: the prelude takes `gc` for its binary-data budget and blanks the global, so user
# code never sees it. (If mini-racer was started elsewhere first, the budget works without it.)
V8_FLAGS = (*DEFAULT_V8_FLAGS, "--expose-gc")


def ensure_v8() -> None:
    # Off the main thread there is nothing better to do than to start it anyway.
    init_mini_racer(flags=V8_FLAGS, ignore_duplicate_init=True)


if threading.current_thread() is threading.main_thread():
    ensure_v8()
