"""The host part of a lease holder's name: which machine, and which PID namespace on it.

A command may take over the lease of a holder that has ended (``fsm resume`` after a killed
worker) when the holder's name says it ran here and its PID is gone. A container with its own
PID namespace but the machine's host name (``--network host``) numbers its processes apart
from the machine's, so a PID that is gone here may be alive there: such a process adds its
namespace to the host (``host~ns``), and only a process in the same namespace matches it.
"""

from __future__ import annotations

import os
import socket

_INITIAL_PID_NAMESPACE = 0xEFFFFFFC
"""The inode of the kernel's first PID namespace (``PROC_PID_INIT_INO``): a process outside
any container is in it, and its names keep the plain host name."""


def pid_namespace() -> int | None:
    """This process's PID namespace (Linux), None where there is no such notion."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None


def local_host() -> str:
    """This process's host as lease holder names spell it: the host name, with ``~`` and the
    PID namespace in hex inside a container's own namespace."""
    host = socket.gethostname()
    namespace = pid_namespace()
    if namespace is None or namespace == _INITIAL_PID_NAMESPACE:
        return host
    return f"{host}~{namespace:x}"
