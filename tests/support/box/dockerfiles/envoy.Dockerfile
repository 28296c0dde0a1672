# The sidecar's proxy: the sidecars' Envoy (1.37) that `make install` fetches into .tools/.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY envoy /usr/local/bin/envoy
ENTRYPOINT ["envoy"]
