# syntax=docker/dockerfile:1
# Build stage: a wheel of the bot and its dependencies; nothing of it but the wheels goes on.
# The GitHub sandbox (github_sandbox/) is not copied, so the image does not carry it: the bot
# never runs it (see docs/architecture.md).
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md app-manifest.yml ./
COPY bot ./bot
COPY policies ./policies
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Run stage: slim base, non-root user, configured only by environment (PROMOTION_BOT_*).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROMOTION_BOT_QUEUE_PATH=/var/lib/promotion-bot/queue.sqlite3
COPY --from=build /wheels /wheels
# Every wheel was built above from the pinned project; nothing comes from an index here.
RUN pip install --no-cache-dir --no-index /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /var/lib/promotion-bot --create-home bot
USER 10001
WORKDIR /var/lib/promotion-bot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["promotion-bot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
