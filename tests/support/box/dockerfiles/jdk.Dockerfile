# Stand-in for eclipse-temurin:17-jdk: Debian's headless OpenJDK 17 (java, javac) on PATH.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
# Test stand-in: whatever bookworm ships today.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jdk-headless \
    && rm -rf /var/lib/apt/lists/*
CMD ["jshell"]
