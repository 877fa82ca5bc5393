# syntax=docker/dockerfile:1
# mcpstead as a headless service: docker build -t mcpstead . (docs/deployment.md says how to run it).
# Two stages: the builder turns this source tree into wheels (mcpstead's and its dependencies'); the runtime
# stage installs only those wheels, so no source tree, compiler or build tool ends up in the image.

ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS builder
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# Only what the wheel is built from (.dockerignore keeps everything else out of the context).
COPY pyproject.toml README.md ./
COPY mcpstead ./mcpstead
COPY tui ./tui
RUN python -m pip wheel --wheel-dir /wheels .

FROM python:${PYTHON_VERSION}-slim AS runtime
ARG MCPSTEAD_GIT_SHA=unknown
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    MCPSTEAD_GIT_SHA=${MCPSTEAD_GIT_SHA}
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m pip install --no-index --find-links=/wheels mcpstead \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/mcpstead mcpstead
# The config is root's and read-only to the gateway; mount your own over it (docs/deployment.md).
# /mcp needs `Authorization: Bearer $MCPSTEAD_BEARER_TOKEN`, passed at run time (never baked in).
COPY deploy/config.yaml /etc/mcpstead/config.yaml
USER mcpstead:mcpstead
WORKDIR /home/mcpstead
EXPOSE 8766
# /health answers 200 while the process serves (an upstream that is down makes it "degraded", still 200, so
# a broken upstream does not restart the gateway). A slim image has no curl: the standard library asks,
# past any http_proxy the container was given. A config on another port: set MCPSTEAD_HEALTH_URL to match.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; url = os.environ.get('MCPSTEAD_HEALTH_URL') or 'http://127.0.0.1:8766/health'; sys.exit(0 if u.build_opener(u.ProxyHandler({})).open(url, timeout=4).status == 200 else 1)"]
# Exec form: mcpstead is PID 1 and gets SIGTERM (graceful stop) and SIGHUP (reload) itself. Run with
# `--init` (compose: `init: true`) so orphans of stdio upstreams are reaped. Arguments given to `docker run`
# are appended (e.g. `--log-format json`; a second `--config PATH` wins over this one).
ENTRYPOINT ["mcpstead", "serve", "--config", "/etc/mcpstead/config.yaml"]
CMD []
