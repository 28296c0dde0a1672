# mockado collector and loader image. Runs as uid 1000 with a read-only root filesystem:
# nothing is written outside /tmp and the backup volume. BASE_IMAGE is any image with
# python3 (3.11+) and its venv module; mockado lives in the venv /opt/mockado, so the
# image works whether python3 is in /usr/local/bin (python:*-slim) or /usr/bin (Debian).
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/mockado
WORKDIR /src
# Dependencies first, in a layer that only pyproject.toml invalidates: empty packages
# stand in for the source, which is installed on its own below.
COPY pyproject.toml ./
RUN mkdir ext_proc_server control_plane \
    && touch README.md \
    && /opt/mockado/bin/pip install --no-cache-dir . \
    && /opt/mockado/bin/pip uninstall --yes mockado \
    && rm -r ext_proc_server control_plane README.md
COPY README.md ./
COPY ext_proc_server ./ext_proc_server
COPY control_plane ./control_plane
RUN /opt/mockado/bin/pip install --no-cache-dir --no-deps .

FROM ${BASE_IMAGE}
COPY --from=build /opt/mockado /opt/mockado
RUN groupadd --gid 1000 mockado && useradd --uid 1000 --gid 1000 --no-create-home --shell /usr/sbin/nologin mockado
USER 1000:1000
ENV PATH=/opt/mockado/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
EXPOSE 50051 9090 9091
ENTRYPOINT ["mockado"]
CMD ["ext-proc", "--config", "/etc/mockado/mockado.yaml", "--log-format", "json"]
