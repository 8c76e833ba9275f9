# contestday server image: python:3.11-slim, CJK font for certificates, pg_dump/pg_restore/psql for
# `contestday backup`/`restore` on PostgreSQL (Debian's 15: a newer server needs a newer client), non-root,
# healthcheck.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CONTESTDAY_DATA_DIR=/data

RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-zenhei curl postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY contestday ./contestday
COPY scoring ./scoring
COPY registration ./registration
COPY judging ./judging
COPY results ./results
COPY kiosk ./kiosk
COPY certificates ./certificates
# the versions CI tested: constraints.txt pins every package (scripts/lock makes it)
RUN pip install -c constraints.txt .

RUN useradd --system --uid 10001 --home-dir /data contestday \
 && mkdir -p /data && chown contestday /data
USER contestday
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/health || exit 1

CMD ["contestday", "serve", "--host", "0.0.0.0", "--port", "8000"]
