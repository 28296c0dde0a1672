"""JSON Schemas of the Istio objects mockado renders, generated at install time from a
registry package, so ``mockado render --check`` needs nothing outside the checkout.

The source is the npm package ``@kubernetes-models/istio`` (``ISTIO_MODELS``), whose types
are generated from Istio's own CRDs (``ISTIO_VERSION``). ``make install`` installs it and
turns its TypeScript declarations into JSON Schemas of every field name with
``ts-json-schema-generator``; ``mockado render --check`` runs the package's own CRD
validators too.
"""

from control_plane.schemas.istio import (
    ISTIO_KINDS,
    ISTIO_MODELS,
    ISTIO_VERSION,
    crd_problems,
    generate_istio_schemas,
    is_istio_kind,
    istio_schema,
)

__all__ = [
    "ISTIO_KINDS",
    "ISTIO_MODELS",
    "ISTIO_VERSION",
    "crd_problems",
    "generate_istio_schemas",
    "is_istio_kind",
    "istio_schema",
]
