"""The device's deploy lock, `<install dir>/.lock`: taken with mkdir (atomic), held alive by a heartbeat.

A deploy or rollback touches `.lock/heartbeat` every HEARTBEAT_S seconds from a thread of its own while it holds
the lock. Another deploy takes the lock over only when the heartbeat is older than STALE_MIN minutes — its
holder is dead (the client was killed, the network or sshd went away) — so a slow but live deploy keeps its
lock however long its upload takes, and a dead one blocks the device for two minutes, not thirty. Whoever takes
the lock also clears the staging folders of dead deploys (a live deploy cannot exist while it holds the lock).
"""

from __future__ import annotations

import threading

HEARTBEAT_S = 20.0
STALE_MIN = 2  # minutes without a heartbeat: the holder is dead (six missed beats)


def take_script(lock_dir: str, owner: str, staging: str) -> str:
    """Shell lines that take the lock (quoted paths in, `lock=taken` or `lock=busy` + `owner=...` out)."""
    hb = f"{lock_dir}/heartbeat"
    held = (f"echo {owner} > {lock_dir}/owner && touch {hb} && echo lock=taken && "
            f"find {staging} -mindepth 1 -maxdepth 1 -name '[0-9]*T*Z-*' -exec rm -rf -- {{}} + 2>/dev/null; true\n")
    return (
        f"if mkdir {lock_dir} 2>/dev/null; then {held}"
        f"else\n"
        f"  hb={hb}; [ -e \"$hb\" ] || hb={lock_dir}\n"
        f"  if [ -n \"$(find \"$hb\" -maxdepth 0 -mmin +{STALE_MIN} 2>/dev/null)\" ]; then\n"
        f"    echo taken_over=$(cat {lock_dir}/owner 2>/dev/null); rm -rf -- {lock_dir}; mkdir {lock_dir} && {held}"
        f"  else echo lock=busy; echo owner=$(cat {lock_dir}/owner 2>/dev/null); fi\n"
        f"fi\n"
    )


class Heartbeat:
    """Touch the lock's heartbeat every `interval` seconds until stopped (a context manager)."""

    def __init__(self, ssh, lock_dir: str, interval: float = HEARTBEAT_S):
        self._ssh, self._script, self._interval = ssh, f"touch -c -- {lock_dir}/heartbeat\n", interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edgelift-lock-heartbeat", daemon=True)
        self.beats = 0

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._ssh.run(self._script, check=False, timeout=15)
                self.beats += 1
            except Exception:  # noqa: BLE001 - a missed beat is retried; the deploy's own steps report failures
                pass

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=20)
