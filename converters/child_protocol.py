"""Length-prefixed pickles over a pipe: the parent and the TensorFlow child of `converters.isolated`.

Both ends are edgelift itself (same interpreter, same code), so pickle is safe here.
"""

from __future__ import annotations

import os
import pickle
import struct

_HEADER = struct.Struct(">Q")


def send(fd: int, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int):
    """The next message, or None when the other end closed (exited or crashed) before a whole one."""
    head = _read_exact(fd, _HEADER.size)
    if head is None:
        return None
    body = _read_exact(fd, _HEADER.unpack(head)[0])
    return None if body is None else pickle.loads(body)
