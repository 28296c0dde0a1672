"""Settings for the test process itself, applied before any test module imports grpc."""

from __future__ import annotations

import os

# Tests run gRPC servers in this process and fork Envoy, Redis and WireMock beside them.
# With gRPC's fork support on, a child forked while gRPC threads run re-creates gRPC's
# event engine between fork and exec and can abort there (seen: Envoy "exited with code -6"
# whose log held only gRPC's epoll error). The children never use gRPC: turn it off.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
