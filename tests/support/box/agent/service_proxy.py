"""A Service's virtual IP: accepts on each Service port and forwards to the pods' targetPort.

    service_proxy.py PORT=HOST:TARGET[,HOST:TARGET...] ...

The stand-in for kube-proxy: the Service answers only on its declared ports and reaches a
pod only on the port targetPort names. Runs with the base image's python3.
"""

import asyncio
import itertools
import sys


async def pipe(reader, writer):
    """One direction; its end is passed on as a half-close, like a TCP proxy does."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        pass


def handler(backends):
    turn = itertools.cycle(backends)

    async def handle(reader, writer):
        if not backends:  # no pod selected: the connection is refused
            writer.close()
            return
        host, port = next(turn)
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()  # like a refused connection to a Service without endpoints
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        writer.close()
        up_writer.close()

    return handle


async def main(specs):
    servers = []
    for spec in specs:
        port, targets = spec.split("=", 1)
        backends = [
            (t.rsplit(":", 1)[0], int(t.rsplit(":", 1)[1])) for t in targets.split(",") if t
        ]
        servers.append(await asyncio.start_server(handler(backends), "0.0.0.0", int(port)))
    print("serving", " ".join(specs), flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
