"""JSON Schemas of the Istio objects mockado renders, generated at install time from a
registry package, so ``mockado render --check`` needs nothing outside the checkout.

The source is the npm package ``@kubernetes-models/istio`` (``ISTIO_MODELS``), whose types
are generated from Istio's own CRDs (``ISTIO_VERSION``). ``make install`` turns its
TypeScript declarations into strict JSON Schemas (unknown fields are errors, as with
``kubectl apply --validate=strict``) with ``ts-json-schema-generator``.
"""

from control_plane.schemas.istio import (
    ISTIO_KINDS,
    ISTIO_MODELS,
    ISTIO_VERSION,
    generate_istio_schemas,
    istio_schema,
)

__all__ = [
    "ISTIO_KINDS",
    "ISTIO_MODELS",
    "ISTIO_VERSION",
    "generate_istio_schemas",
    "istio_schema",
]
