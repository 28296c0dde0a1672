# Stand-in for redis:7.4-alpine: Debian's redis-server on the box's Debian base.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# Test stand-in: whatever bookworm ships today.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
# As in the official image: /data exists in the image (root-owned here), the working dir.
RUN mkdir /data
WORKDIR /data
CMD ["redis-server"]
