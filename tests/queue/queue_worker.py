"""A queue consumer run as a separate process by the multi-process tests (not a test itself).

    python queue_worker.py drain URL QUEUE BATCH DONE_FILE   lease+ack until the queue is empty
                                                             and DONE_FILE exists
    python queue_worker.py hold  URL QUEUE COUNT TIMEOUT     lease COUNT jobs, then hang (to be killed)
    python queue_worker.py churn URL QUEUE BATCH             lease+ack forever (to be killed mid-write)

It prints ``ready`` once started, then one line per event: ``acked <ids>``, ``leased <ids>``
or ``stale <ids>`` (an ack refused, which must not happen without expiry). Lines are flushed
at once so the parent sees them even when it kills the process.
"""

from __future__ import annotations

import os
import sys
import time

from appfn.queue import Broker, Lease, open_broker

WORKER_ID = f"pid-{os.getpid()}"


def say(*words: object) -> None:
    print(*words, flush=True)


def ack_and_report(broker: Broker, leases: list[Lease]) -> None:
    acked = broker.ack(leases)
    ids = " ".join(lease.job_id for lease in leases)
    say("acked" if acked == len(leases) else "stale", ids)


def drain(broker: Broker, queue: str, batch: int, done_file: str) -> None:
    while True:
        leases = broker.lease(queue, WORKER_ID, batch, 60)
        if leases:
            ack_and_report(broker, leases)
        elif os.path.exists(done_file) and broker.depth(queue).pending == 0:
            return
        else:
            time.sleep(0.002)


def hold(broker: Broker, queue: str, count: int, timeout_s: float) -> None:
    leases = broker.lease(queue, WORKER_ID, count, timeout_s)
    say("leased", " ".join(lease.job_id for lease in leases))
    time.sleep(3600)


def churn(broker: Broker, queue: str, batch: int) -> None:
    while True:
        leases = broker.lease(queue, WORKER_ID, batch, 1.0)  # short: the killer waits it out
        if leases:
            ack_and_report(broker, leases)


def main(mode: str, url: str, queue: str, *args: str) -> None:
    broker = open_broker(url)
    say("ready")
    if mode == "drain":
        drain(broker, queue, int(args[0]), args[1])
    elif mode == "hold":
        hold(broker, queue, int(args[0]), float(args[1]))
    else:
        churn(broker, queue, int(args[0]))
    broker.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
