"""Typed configuration, loaded once by :func:`load_config`; one module per section.

Nothing here runs at import time.
"""

from ext_proc_server.core.config.body_limits import (
    MAX_BODY_LIMIT_RULES,
    BodyLimit,
    decode_body_limits,
    encode_body_limits,
)
from ext_proc_server.core.config.collector import (
    COLLECTOR_STREAMS_PER_CONNECTION,
    CallerIdentity,
    CollectorConfig,
    NoiseRule,
    SanitizePattern,
    cluster_hosts,
    dedup_key,
    pseudonym_key,
)
from ext_proc_server.core.config.control_plane import (
    DEFAULT_RUNBOOK_URL,
    REDIS_DISK_FACTOR,
    CanaryConfig,
    CollectorService,
    ControlPlaneConfig,
    GlobalCapture,
    NamespaceConfig,
    canary_host,
)
from ext_proc_server.core.config.loader import LoaderConfig, ShardRoute
from ext_proc_server.core.config.loading import (
    ENV_PREFIX,
    MockadoConfig,
    in_kubernetes_pod,
    is_secret_key,
    load_config,
    redacted_dump,
)
from ext_proc_server.core.config.sections import (
    KIB,
    MIB,
    REDACTED,
    ConfigSection,
    TLSClient,
    TLSServer,
    redact_url,
)
from ext_proc_server.core.config.serving import ServingConfig

__all__ = [
    "COLLECTOR_STREAMS_PER_CONNECTION",
    "DEFAULT_RUNBOOK_URL",
    "ENV_PREFIX",
    "KIB",
    "MAX_BODY_LIMIT_RULES",
    "MIB",
    "REDACTED",
    "REDIS_DISK_FACTOR",
    "BodyLimit",
    "CallerIdentity",
    "CanaryConfig",
    "CollectorConfig",
    "CollectorService",
    "ConfigSection",
    "ControlPlaneConfig",
    "GlobalCapture",
    "LoaderConfig",
    "MockadoConfig",
    "NamespaceConfig",
    "NoiseRule",
    "SanitizePattern",
    "ServingConfig",
    "ShardRoute",
    "TLSClient",
    "TLSServer",
    "canary_host",
    "cluster_hosts",
    "decode_body_limits",
    "dedup_key",
    "encode_body_limits",
    "in_kubernetes_pod",
    "is_secret_key",
    "load_config",
    "pseudonym_key",
    "redact_url",
    "redacted_dump",
]
