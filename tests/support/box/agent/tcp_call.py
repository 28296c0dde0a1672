"""One TCP exchange from inside a pod: send stdin, print what came back as JSON.

    tcp_call.py HOST PORT TIMEOUT_S   (bytes to send on stdin)

Reads until the peer closes or stays quiet for TIMEOUT_S; prints {"reply": TEXT}.
"""

import json
import socket
import sys


def main(argv):
    host, port, timeout_s = argv[0], int(argv[1]), float(argv[2])
    with socket.create_connection((host, port), timeout=timeout_s) as conn:
        conn.sendall(sys.stdin.buffer.read())
        chunks = []
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except TimeoutError:
            pass
    print(json.dumps({"reply": b"".join(chunks).decode("utf-8", errors="replace")}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
