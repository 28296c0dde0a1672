"""Capture: Envoy's ext_proc streams in, assembled exchanges out to the pipeline.

* :func:`main` - ``mockado ext-proc`` (one server, or ``--workers N`` under a supervisor).
* :class:`CaptureServer` / :func:`serve` - one capture server (gRPC, health, probes, sink).
* :class:`ExtProcServicer` - the ext_proc protocol loop.
* :class:`StreamAssembler` - the phase hooks that turn one stream into an Exchange;
  :func:`dispatch` hands a message to its hook.
"""

from ext_proc_server.capture.assembler import StreamAssembler, StreamMeta, stream_meta
from ext_proc_server.capture.filters import CaptureFilter, Decision
from ext_proc_server.capture.grpc_options import server_credentials, server_options
from ext_proc_server.capture.phases import Finished, PhaseHandler, dispatch
from ext_proc_server.capture.server import (
    CaptureServer,
    ExchangeSink,
    default_sink,
    run_until_signal,
    serve,
)
from ext_proc_server.capture.servicer import ExtProcServicer
from ext_proc_server.capture.supervisor import Supervisor, main

__all__ = [
    "CaptureFilter",
    "CaptureServer",
    "Decision",
    "ExchangeSink",
    "ExtProcServicer",
    "Finished",
    "PhaseHandler",
    "StreamAssembler",
    "StreamMeta",
    "Supervisor",
    "default_sink",
    "dispatch",
    "main",
    "run_until_signal",
    "serve",
    "server_credentials",
    "server_options",
    "stream_meta",
]
