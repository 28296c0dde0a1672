"""What every step shares; each module is imported by name, so importing one stays cheap.

* ``exchange`` - :class:`Exchange`, the frozen value that flows capture -> loader.
* ``config`` - the typed configuration, one module per section; ``load_config``.
* ``errors`` - the one hierarchy under :class:`MockadoError`.
* ``metrics`` - every Prometheus metric; ``logs`` - text or JSON log lines.
* ``redis_keys`` - every Redis key; ``redis_client`` - Redis clients from config;
  ``queue_entries`` - the queue's wire format (producer and consumer).
* ``names`` - strings the renderer writes and the capture server reads.
* ``hosts`` - the one place an ``:authority`` becomes a host.
* ``probes`` - /healthz, /readyz and /metrics for every process.
* ``tasks`` - :func:`cancel_and_wait`: stop background tasks within a deadline.
* ``stream_load`` - :class:`StreamLoad`: the capture streams in progress, which the
  pipeline's CPU stages yield to.
"""
