# flamebot: Alertmanager webhook receiver. Build: docker build -t flamebot .
# Run: docker run -p 8080:8080 -v flamebot-store:/var/lib/flamebot flamebot
# Config: mount a file at /etc/flamebot/config.yaml (or point FLAMEBOT_CONFIG elsewhere);
# FLAMEBOT__SECTION__KEY=value overrides one key. No HEALTHCHECK: orchestrators probe
# GET /healthz (liveness) and GET /readyz (readiness) on port 8080.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/flamebot
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY receiver ./receiver
COPY enrichers ./enrichers
# The project's pinned versions make the image reproducible.
RUN /opt/flamebot/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.11-slim
ENV PATH=/opt/flamebot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FLAMEBOT_CONFIG=/etc/flamebot/config.yaml
# The default config listens on all interfaces and keeps the SQLite store on the volume.
RUN groupadd --system --gid 10001 flamebot \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /var/lib/flamebot --shell /usr/sbin/nologin flamebot \
    && mkdir -p /etc/flamebot /var/lib/flamebot \
    && chown 10001:10001 /var/lib/flamebot \
    && printf 'server:\n  host: 0.0.0.0\n  port: 8080\nstore:\n  path: /var/lib/flamebot/flamebot.db\n' \
        > /etc/flamebot/config.yaml
COPY --from=build /opt/flamebot /opt/flamebot
WORKDIR /var/lib/flamebot
VOLUME ["/var/lib/flamebot"]
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["flamebot"]
CMD ["serve"]
