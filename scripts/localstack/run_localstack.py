"""Runs LocalStack's host-mode entry point, and ends it when the process that started it goes away.

The launcher (localstack.ts) stops LocalStack with SIGTERM; if the launcher is killed outright (a test runner
killed, a terminal closed) nobody would, so a watchdog thread sends the same SIGTERM when our parent changes.
"""
import os
import signal
import sys
import threading
import time


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            # A shutdown that hangs must not leave LocalStack behind either.
            time.sleep(20)
            os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True, name="parent-watch").start()
    from localstack.runtime.main import main

    sys.exit(main())
