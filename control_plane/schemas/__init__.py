"""JSON Schemas of the custom resources mockado renders, generated at install time from
registry packages, so ``mockado render --check`` needs nothing outside the checkout.

Each source is an npm model package (``MODEL_PACKAGES``) whose types are generated from a
project's own CRDs: ``@kubernetes-models/istio`` (Istio's EnvoyFilters, Sidecars, ...) and
``@kubernetes-models/prometheus-operator`` (PodMonitors, ServiceMonitors, PrometheusRules).
``make install`` installs them and turns their TypeScript declarations into JSON Schemas of
every field name with ``ts-json-schema-generator``; ``mockado render --check`` runs the
packages' own CRD validators too.
"""

from control_plane.schemas.models import (
    ISTIO,
    MODEL_PACKAGES,
    PROMETHEUS_OPERATOR,
    ModelPackage,
    crd_problems,
    crd_schema,
    generate_schemas,
    model_package,
)

__all__ = [
    "ISTIO",
    "MODEL_PACKAGES",
    "PROMETHEUS_OPERATOR",
    "ModelPackage",
    "crd_problems",
    "crd_schema",
    "generate_schemas",
    "model_package",
]
