"""An ssh ProxyCommand that cuts the connection: relays stdin/stdout to HOST:PORT and drops everything
(exits, closing both sides without a goodbye) once LIMIT bytes went from the client to the server.

    ProxyCommand python3 cutter.py %h %p 40000

Used by the deploy tests to cut a real ssh connection in the middle of an upload.
"""

from __future__ import annotations

import os
import select
import socket
import sys


def main() -> int:
    host, port, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sock = socket.create_connection((host, port))
    sent = 0
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    while True:
        ready, _, _ = select.select([stdin, sock], [], [])
        if stdin in ready:
            data = os.read(stdin, 65536)
            if not data:
                return 0
            sent += len(data)
            if sent > limit:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.close()  # RST: the server sees the connection reset mid-stream
                return 1
            sock.sendall(data)
        if sock in ready:
            data = sock.recv(65536)
            if not data:
                return 0
            os.write(stdout, data)


if __name__ == "__main__":
    sys.exit(main())
