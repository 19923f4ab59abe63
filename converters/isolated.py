"""Run convert's TensorFlow steps in a child process, so a crash inside TensorFlow is one error line.

TensorFlow segfaults on some inputs (calibrating a GRU with a fixed batch size of 1 does, in TF 2.x): in the
user's process that is exit 139 with nothing printed and its temporary files left behind. Here one worker
process per edgelift process imports TensorFlow once and serves every conversion (the API and the tests convert
many models); its $TMPDIR is a private folder emptied after each conversion and removed with the worker, and a
crash becomes an UnsupportedModelError naming the signal, the step and the model. Nothing is written by the
caller unless the child answered. EDGELIFT_CONVERT_IN_PROCESS=1 runs the steps in this process (a debugger).
"""

from __future__ import annotations

import atexit
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from edgelift.errors import UnsupportedModelError

from .child_protocol import receive, send

_worker: _Worker | None = None


def in_process_forced() -> bool:
    return os.environ.get("EDGELIFT_CONVERT_IN_PROCESS", "") not in ("", "0")


class _Worker:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="edgelift-convert-"))
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        env = {**os.environ, "TMPDIR": str(self.tmp), "EDGELIFT_CONVERT_CHILD": "1"}
        # What TensorFlow's C++ writes to fd 2 (absl/XLA logs such as a failed cuInit where a CUDA toolkit is
        # installed without a GPU) stays off the terminal, as in-process conversion keeps it (quantize.py);
        # EDGELIFT_CONVERTER_LOGS=1 shows it. Errors, warnings and stages come back through the reply pipe.
        self.log = None if os.environ.get("EDGELIFT_CONVERTER_LOGS") else tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "edgelift.converters.child_worker", str(req_r), str(rep_w)],
                pass_fds=(req_r, rep_w), env=env, stdin=subprocess.DEVNULL, stderr=self.log)
        except BaseException:
            if self.log is not None:
                self.log.close()
            for fd in (req_r, rep_w, self.req_w, self.rep_r):
                os.close(fd)
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        os.close(req_r)
        os.close(rep_w)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, kill: bool = False) -> int | None:
        """Stop the worker (politely: end of requests; or SIGKILL) and remove its temporary folder."""
        for fd in (self.req_w, self.rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if kill and self.proc.poll() is None:
            self.proc.kill()
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if self.log is not None:
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return code

    def empty_tmp(self) -> None:
        for entry in self.tmp.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _close_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.close()
        _worker = None


atexit.register(_close_worker)


def _crash_line(code: int | None, step: str, model: str) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        how = f"TensorFlow crashed ({name})" if name != "SIGKILL" else "the conversion was killed (SIGKILL, " \
            "often: out of memory)"
    else:
        how = f"the conversion process stopped with exit status {code}"
    return f"{how} during {step} of {model}; nothing was written"


def run(args: tuple, *, elapsed: float, model: str) -> tuple[dict, bytes, dict, list[str]]:
    """pipeline.run_steps(args) in the worker; raises what it raised, or one error for a crash naming `model`
    (as shown: a quoted path, or an in-memory model's name)."""
    global _worker
    if _worker is not None and not _worker.alive():
        _close_worker()
    if _worker is None:
        _worker = _Worker()
    worker = _worker
    step = "starting TensorFlow"
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        send(worker.req_w, {"cwd": os.getcwd(), "env": dict(os.environ), "args": args, "elapsed": elapsed})
        while (msg := receive(worker.rep_r)) is not None and msg[0] == "stage":
            step = msg[1]
    except BaseException:  # Ctrl-C or a broken pipe: no worker half-way through a conversion survives
        worker.close(kill=True)
        _worker = None
        raise
    if msg is None:  # the worker died: a crash inside TensorFlow (or a kill)
        code = worker.close()
        _worker = None
        raise UnsupportedModelError(
            _crash_line(code, step, model),
            hint="try another --quantize (dynamic or none) or a model saved with a dynamic batch size; "
                 "EDGELIFT_CONVERT_IN_PROCESS=1 runs it in this process, for a debugger")
    worker.empty_tmp()
    if msg[0] == "ok":
        return msg[1]
    raise _rebuild(msg)


class ChildTraceback(Exception):
    """The child's traceback, chained to an unexpected error so --verbose shows where it happened."""


def _rebuild(msg: tuple) -> BaseException:
    _, blob, type_name, text, tb = msg
    exc: BaseException
    try:
        exc = pickle.loads(blob) if blob is not None else RuntimeError(f"{type_name}: {text}")
    except Exception:
        exc = RuntimeError(f"{type_name}: {text}")
    if tb:
        exc.__cause__ = ChildTraceback("\n" + tb)
    return exc
