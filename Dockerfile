# enrollbot: the Telegram enrollment bot. Build: docker build -t enrollbot .
# Run:  docker run -d --env-file .env -v enrollbot-data:/data enrollbot
# Several instances on PostgreSQL behind one webhook URL: compose.yaml.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies in their own layer: pinned by constraints.txt, rebuilt only when they change.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir -p bot conversations locales migrations \
    && touch bot/__init__.py conversations/__init__.py \
    && pip install -c constraints.txt . \
    && pip uninstall -y enrollbot

# The program, with its catalogs compiled to .mo before they are packed into bot/locales.
COPY bot ./bot
COPY conversations ./conversations
COPY locales ./locales
COPY migrations ./migrations
RUN pybabel -q compile -d locales -D messages \
    && pip install --no-deps -c constraints.txt . \
    && cd / && python -c "from bot.i18n import locales_dir, translator; \
print(locales_dir()); assert translator('nl')._('Skip') == 'Overslaan'" \
    && python -c "from bot.store.migrations import head_revision, migrations_dir; \
print(migrations_dir(), head_revision())"

# A user of its own; the SQLite file lives on the /data volume.
RUN useradd --system --uid 10001 --home-dir /data enrollbot \
    && mkdir -p /data && chown enrollbot /data
USER enrollbot
WORKDIR /data
VOLUME ["/data"]
ENV DATABASE_URL=sqlite:////data/enrollbot.db

# Webhook mode (WEBHOOK_URL) listens on WEBHOOK_LISTEN, 0.0.0.0:8080 by default, and serves
# /healthz, /readyz and /metrics there too.
EXPOSE 8080

# The database schema is brought up to date first, then the bot (or the command given) runs:
#   docker run ... enrollbot              the bot
#   docker run ... enrollbot outbox       the operator's view of the outbox
# Several instances (compose.yaml) run `enrollbot migrate` once, in a service of its own, and
# start the bot with --entrypoint enrollbot.
ENTRYPOINT ["/bin/sh", "-c", "enrollbot migrate && exec enrollbot \"$@\"", "enrollbot"]
