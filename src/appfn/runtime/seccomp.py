"""The seccomp filter every worker runs under: the kernel-level half of the sandbox.

Built in the platform process with libseccomp (``pyseccomp``) and exported as BPF; the
worker installs the program with ``prctl`` before it loads any user code (so the worker
itself needs neither libseccomp nor a way to find it inside the sandbox).

What it refuses (EPERM unless noted): creating sockets (``socket``; ``socketpair`` stays
allowed because asyncio needs one and a pair reaches nothing), starting programs
(``execve``, ``execveat``), new processes (``fork``, ``vfork``, ``clone`` without
``CLONE_THREAD``; ``clone3`` answers ENOSYS so libc falls back to ``clone``), debugging
other processes, mounts and namespaces, kernel modules, keyrings, BPF, perf,
userfaultfd and io_uring.
"""

from __future__ import annotations

import errno
import functools
import tempfile

_CLONE_THREAD = 0x00010000

DENIED_SYSCALLS = (
    "socket", "execve", "execveat", "fork", "vfork",
    "ptrace", "process_vm_readv", "process_vm_writev",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "reboot", "swapon", "swapoff",
)  # fmt: skip


def build_filter(own_pid: int | None = None):  # -> pyseccomp.SyscallFilter
    """The filter object; ``own_pid`` also limits ``kill`` to the worker itself."""
    import pyseccomp as sc

    f = sc.SyscallFilter(defaction=sc.ALLOW)
    for name in DENIED_SYSCALLS:
        f.add_rule(sc.ERRNO(errno.EPERM), name)
    # clone() is how threads are made too: refuse only the calls that would make a process.
    f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, _CLONE_THREAD, 0))
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    if own_pid is not None:
        for name in ("kill", "tkill"):
            f.add_rule(sc.ERRNO(errno.EPERM), name, sc.Arg(0, sc.NE, own_pid))
        f.add_rule(sc.ERRNO(errno.EPERM), "tgkill", sc.Arg(0, sc.NE, own_pid))
    return f


@functools.lru_cache(maxsize=64)
def exported_bpf(own_pid: int | None = None) -> bytes:
    """The filter as a raw BPF program (an array of ``struct sock_filter``)."""
    with tempfile.TemporaryFile() as out:
        build_filter(own_pid).export_bpf(out)
        out.seek(0)
        return out.read()
