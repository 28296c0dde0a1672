# mockado collector and loader image. Not built in CI (no container engine there);
# `hadolint Dockerfile` is the lint check. Runs as uid 1000 with a read-only root
# filesystem: nothing is written outside /tmp and the backup volume.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ext_proc_server ./ext_proc_server
COPY control_plane ./control_plane
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN groupadd --gid 1000 mockado && useradd --uid 1000 --gid 1000 --no-create-home --shell /usr/sbin/nologin mockado
USER 1000:1000
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
EXPOSE 50051 9090 9091
ENTRYPOINT ["mockado"]
CMD ["ext-proc", "--config", "/etc/mockado/mockado.yaml", "--log-format", "json"]
