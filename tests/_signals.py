"""Signals in tests: a child that gets Ctrl-C as in a terminal, and whether SIGINT waits for a process."""

import signal
from pathlib import Path


def terminal_sigint() -> None:
    """``preexec_fn``: SIGINT as in a terminal. A process started in the background by a
    non-interactive shell (``cmd &``: a CI script, a detached test run) inherits SIGINT *ignored*,
    and Python then never raises KeyboardInterrupt: a Ctrl-C test would send its SIGINT for nothing
    and the run-all it interrupts would go on to finish with status 0."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def sigint_pending(pid: int) -> bool:
    """Linux: SIGINT is queued for the (stopped) process ``pid``."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return any(int(fields.get(k, "0").strip(), 16) & (1 << (signal.SIGINT - 1)) for k in ("ShdPnd", "SigPnd"))


HAS_PROC = Path("/proc/self/status").exists()
