"""The TensorFlow child of `converters.isolated`: `python -m edgelift.converters.child_worker REQ_FD REPLY_FD`.

Serves conversions until its parent closes the request pipe; imports TensorFlow once (on the first one).
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import sys
import time
import traceback


def _answer_error(fd: int, exc: BaseException) -> None:
    from .child_protocol import send

    try:
        blob = pickle.dumps(exc)
        pickle.loads(blob)
    except Exception:
        blob = None
    send(fd, ("error", blob, type(exc).__name__, str(exc), traceback.format_exc()))


def serve(req_fd: int, reply_fd: int) -> None:
    from edgelift.errors import EdgeliftError

    from . import pipeline, stages
    from .child_protocol import receive, send

    stages.set_reporter(lambda name: send(reply_fd, ("stage", name)))
    own_tmp = os.environ.get("TMPDIR", "")
    while True:
        request = receive(req_fd)
        if request is None:
            return
        os.chdir(request["cwd"])
        env = dict(request["env"])
        env.update(TMPDIR=own_tmp, EDGELIFT_CONVERT_CHILD="1")
        os.environ.clear()
        os.environ.update(env)
        try:
            result = pipeline.run_steps(request["args"], time.perf_counter() - request["elapsed"])
        except EdgeliftError as exc:
            send(reply_fd, ("error", pickle.dumps(exc), type(exc).__name__, str(exc), None))
        except Exception as exc:  # a bug of ours or an unexpected TensorFlow error: the parent reports it
            _answer_error(reply_fd, exc)
        else:
            send(reply_fd, ("ok", result))
        sys.stdout.flush()
        sys.stderr.flush()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops this process
    tmp = os.environ.get("TMPDIR", "")
    try:
        serve(int(sys.argv[1]), int(sys.argv[2]))
    except BrokenPipeError:  # the parent is gone
        pass
    finally:
        if tmp and os.path.basename(tmp).startswith("edgelift-convert-"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
