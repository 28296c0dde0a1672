"""One HTTP call from inside a pod; prints {"status", "headers", "body"} as JSON.

    http_call.py METHOD URL TIMEOUT_S [NAME:VALUE ...]   (request body on stdin)

Runs with the base image's python3, so names resolve through the box's Service DNS.
"""

import http.client
import json
import sys
import urllib.parse


def _header(text):
    name, _, value = text.partition(":")
    return name.strip(), value.strip()


def main(argv):
    method, url, timeout_s, headers = argv[0], argv[1], float(argv[2]), argv[3:]
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout_s)
    body = sys.stdin.buffer.read() or None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    # A Host header given here is sent as is (a canary keeps the host it called).
    conn.request(method, path, body=body, headers=dict(_header(h) for h in headers))
    response = conn.getresponse()
    reply = {
        "status": response.status,
        "headers": [[k, v] for k, v in response.getheaders()],
        "body": response.read().decode("utf-8", errors="replace"),
    }
    print(json.dumps(reply))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
