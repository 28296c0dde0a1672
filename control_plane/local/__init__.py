"""The local stack (``mockado up``): Envoy, the capture server, Redis, the loader and
WireMock as child processes (``stack``), how each is found and started (``procs``), and
the bundled demo upstream (``demo_api``)."""
