#!/usr/bin/env bash
# pretix, served locally for bench/pretix_checkin.py (the check-in RPC, measured on the same machine as
# bench/checkin.py). Idempotent, from scratch: Debian build packages if missing, a virtualenv of its own (never the
# system Python, which holds contestday's packages), pretix pinned, pretix.cfg (SQLite, no Redis, no Celery: tasks
# run eagerly), migrate, the benchmark data (N paid orders, an API token -> $DATA/bench.json), gunicorn in the
# background on 127.0.0.1:$PORT, one redeem checked (ok, then already_redeemed, and invalid for an unknown code).
# Prints the server's PID; stop it with: kill "$(cat $DATA/gunicorn.pid)".
#
#     bash bench/pretix_setup.sh
#
# Environment (defaults): PRETIX_VENV=/work/pretix-venv PRETIX_DATA=/work/pretix-data PRETIX_PORT=8345
# PRETIX_ORDERS=6000 PRETIX_VERSION=2026.8.0 (the newest on PyPI that was tried; it installs on Python 3.11)
# PRETIX_WORKERS=2 PRETIX_STOCK_SQLITE=0: 1 serves with pretix's own settings (Django's deferred SQLite
# transactions: under concurrent check-ins the two workers then fail each other's writes with "database is
# locked", HTTP 500); 0 serves with $DATA/bench_settings.py, pretix's settings plus the SQLite mode contestday
# uses (WAL, synchronous=NORMAL, BEGIN IMMEDIATE, 30 s busy timeout). No static files are built (`pretix rebuild`
# is not run): the API does not need them.
#
# No --max-requests (pretix's install guide uses 1200): the recycling of a worker would be measured too.
set -euo pipefail

VENV=${PRETIX_VENV:-/work/pretix-venv}
DATA=${PRETIX_DATA:-/work/pretix-data}
PORT=${PRETIX_PORT:-8345}
ORDERS=${PRETIX_ORDERS:-6000}
VERSION=${PRETIX_VERSION:-2026.8.0}
WORKERS=${PRETIX_WORKERS:-2}
STOCK=${PRETIX_STOCK_SQLITE:-0}
BASE="http://127.0.0.1:$PORT"
PY="$VENV/bin/python"

# 1. build dependencies (lxml, Pillow, cryptography... come as wheels on Python 3.11; these are for the odd sdist)
missing=()
for pkg in build-essential gettext libffi-dev libssl-dev libxml2-dev libxslt1-dev libjpeg-dev zlib1g-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "apt-get install ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# 2. the virtualenv and pretix
[ -x "$PY" ] || python3 -m venv "$VENV"
if [ "$("$PY" -c 'import pretix; print(pretix.__version__)' 2>/dev/null || true)" != "$VERSION" ] \
        || ! [ -x "$VENV/bin/gunicorn" ]; then
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q "pretix==$VERSION" gunicorn
fi
echo "pretix $("$PY" -c 'import pretix; print(pretix.__version__)') in $VENV"

# 3. configuration
mkdir -p "$DATA"
cat > "$DATA/pretix.cfg" <<CFG_EOF
[pretix]
instance_name=pretix-bench
url=$BASE
currency=EUR
datadir=$DATA
loglevel=WARNING
ecb_rates=off

[django]
debug=off

[database]
backend=sqlite3
name=$DATA/db.sqlite3

[mail]
from=pretix@localhost
host=127.0.0.1
CFG_EOF
cat > "$DATA/bench_settings.py" <<'SETTINGS_EOF'
"""pretix's settings, with SQLite run the way contestday runs it (WAL, synchronous=NORMAL, BEGIN IMMEDIATE,
30 s busy timeout): stock Django opens deferred transactions, and two gunicorn workers then fail each other's
write with 'database is locked' (HTTP 500) instead of waiting."""
from pretix.settings import *  # noqa: F401,F403
from pretix.settings import DATABASES

DATABASES["default"]["OPTIONS"].update({
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
})
SETTINGS_EOF
cat > "$DATA/bench_data.py" <<'PRETIX_DATA_EOF'
"""Data for the pretix check-in benchmark (bench/pretix_checkin.py). Run with the pretix venv's python,
PRETIX_CONFIG_FILE set (and DJANGO_SETTINGS_MODULE, default pretix.settings).

    bench_data.py create [N]   organizer 'bench', a live event, one admission item, a check-in list for all
                               products, N paid orders with one position each (unique secrets), a team API token
                               with orders read/write/check-in permission; writes bench.json (+ secrets.txt).
                               Idempotent: if the organizer exists, only bench.json is written again from it.
    bench_data.py reset        delete every check-in row of the organizer (and the check-in log entries), so
                               that every secret is unscanned again
"""
import json
import os
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pretix.settings")
import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402
from django.utils.timezone import now  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

import pretix  # noqa: E402
from pretix.base.models import (  # noqa: E402
    Checkin, CheckinList, Event, Item, LogEntry, Order, OrderPosition, Organizer, Team, TeamAPIToken,
)

DATA = Path(__file__).resolve().parent
OUT = DATA / "bench.json"
SLUG = "bench"
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # pretix's random secret generator's alphabet
CODES = "ABCDEFGHJKLMNPQRSTUVWXYZ3789"


def unique(n: int, length: int, chars: str) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add(get_random_string(length, chars))
    return sorted(out)


def create(n: int) -> Organizer:
    with transaction.atomic():
        org = Organizer.objects.create(name="Bench organizer", slug=SLUG)  # makes the default sales channels
        event = Event.objects.create(organizer=org, name="Bench event", slug="door", currency="EUR",
                                     date_from=now() + timedelta(days=1), live=True,
                                     plugins="pretix.plugins.banktransfer,pretix.plugins.checkinlists")
        item = Item.objects.create(event=event, name="Ticket", default_price=Decimal("10.00"), admission=True)
        CheckinList.objects.create(event=event, name="Door", all_products=True)
        team = Team.objects.create(organizer=org, name="Door API", all_events=True,
                                   limit_event_permissions={"event.orders:read": True, "event.orders:write": True,
                                                            "event.orders:checkin": True})
        TeamAPIToken.objects.create(team=team, name="bench")
        channel = org.sales_channels.get(identifier="web")
        t = now()
        Order.objects.bulk_create([
            Order(organizer=org, event=event, code=code, status=Order.STATUS_PAID, email=f"a{i}@example.org",
                  locale="en", datetime=t, expires=t + timedelta(days=10), total=Decimal("10.00"),
                  sales_channel=channel)
            for i, code in enumerate(unique(n, 10, CODES))], batch_size=500)
        orders = list(Order.objects.filter(event=event).order_by("id"))
        OrderPosition.all.bulk_create([
            OrderPosition(organizer=org, order=o, positionid=1, item=item, price=Decimal("10.00"),
                          tax_rate=Decimal("0.00"), tax_value=Decimal("0.00"), secret=secret,
                          pseudonymization_id=pseudo, attendee_name_parts={"_legacy": f"Attendee {i}"},
                          attendee_name_cached=f"Attendee {i}")
            for i, (o, secret, pseudo) in enumerate(zip(orders, unique(n, 32, ALPHABET), unique(n, 10, CODES)))],
            batch_size=500)
    print(f"created organizer '{SLUG}' with {n} paid orders")
    return org


def describe(org: Organizer) -> None:
    event = org.events.get(slug="door")
    clist = event.checkin_lists.get(name="Door")
    token = TeamAPIToken.objects.get(team__organizer=org, name="bench")
    secrets = list(OrderPosition.all.filter(order__event=event).order_by("secret").values_list("secret", flat=True))
    OUT.write_text(json.dumps({"organizer": org.slug, "event": event.slug, "list_id": clist.pk, "token": token.token,
                               "pretix_version": pretix.__version__, "base": os.environ.get(
                                   "PRETIX_BENCH_BASE", "http://127.0.0.1:8345"),
                               "secrets": secrets}, indent=0) + "\n")
    (DATA / "secrets.txt").write_text("".join(s + "\n" for s in secrets))
    print(f"organizer={org.slug} list_id={clist.pk} secrets={len(secrets)} -> {OUT}")


def reset() -> None:
    org = Organizer.objects.get(slug=SLUG)
    with transaction.atomic():
        n, _ = Checkin.all.filter(list__event__organizer=org).delete()
        LogEntry.objects.filter(organizer=org, action_type__startswith="pretix.event.checkin").delete()
    print(f"deleted {n} check-in rows: every secret is unscanned again")


if __name__ == "__main__":
    with scopes_disabled():
        if sys.argv[1:2] == ["reset"]:
            reset()
        else:
            organizer = Organizer.objects.filter(slug=SLUG).first()
            describe(organizer or create(int(sys.argv[2]) if len(sys.argv) > 2 else 6000))
PRETIX_DATA_EOF

export PRETIX_CONFIG_FILE="$DATA/pretix.cfg" PRETIX_BENCH_BASE="$BASE" PYTHONPATH="$DATA"
if [ "$STOCK" = 1 ]; then export DJANGO_SETTINGS_MODULE=pretix.settings; else export DJANGO_SETTINGS_MODULE=bench_settings; fi
cd "$DATA"

# 4. database and data (migrate takes about 1.5 minutes on an empty database, seconds afterwards)
"$PY" -m pretix migrate --noinput > "$DATA/migrate.log" 2>&1 || { tail -n 30 "$DATA/migrate.log"; exit 1; }
"$PY" bench_data.py create "$ORDERS" 2>&1 | grep -v 'kombu.connection'

# 5. every ticket unscanned (before the check below, and again after it)
reset() { "$PY" bench_data.py reset 2>&1 | grep -v 'kombu.connection'; : > "$DATA/scanned.txt"; }
reset

# 6. gunicorn in the background
if [ -s "$DATA/gunicorn.pid" ] && kill -0 "$(cat "$DATA/gunicorn.pid")" 2>/dev/null; then
    echo "gunicorn already running (settings as when it was started): PID $(cat "$DATA/gunicorn.pid")"
else
    rm -f "$DATA/gunicorn.pid"
    setsid nohup "$VENV/bin/gunicorn" pretix.wsgi --name pretix --workers "$WORKERS" --bind "127.0.0.1:$PORT" \
        --log-level warning --pid "$DATA/gunicorn.pid" >>"$DATA/gunicorn.log" 2>&1 < /dev/null &
fi
"$PY" - "$DATA/bench.json" "$BASE" <<'VERIFY_EOF'
import json, os, sys, time, urllib.error, urllib.request

bench, base = json.load(open(sys.argv[1])), sys.argv[2]
path = f"{base}/api/v1/organizers/{bench['organizer']}/checkinrpc/redeem/"


def redeem(secret):
    body = json.dumps({"secret": secret, "lists": [bench["list_id"]], "type": "entry",
                       "nonce": os.urandom(12).hex()}).encode()
    request = urllib.request.Request(path, body, {"Authorization": f"Token {bench['token']}",
                                                  "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


for _ in range(120):
    try:
        urllib.request.urlopen(f"{base}/api/v1/", timeout=2)
    except urllib.error.HTTPError:
        break  # 401: up
    except OSError:
        time.sleep(0.5)
else:
    sys.exit(f"gunicorn did not answer at {base}: see gunicorn.log")
secret = bench["secrets"][-1]
got = [redeem(secret), redeem(secret), redeem("unknown" + secret[7:])]
summary = [(status, answer.get("status"), answer.get("reason")) for status, answer in got]
print("redeem check:", summary)
if summary != [(201, "ok", None), (400, "error", "already_redeemed"), (404, "error", "invalid")]:
    sys.exit("unexpected answers from the redeem RPC")
VERIFY_EOF
reset
echo "pretix $VERSION serving $BASE (settings $DJANGO_SETTINGS_MODULE), gunicorn PID $(cat "$DATA/gunicorn.pid")"
echo "load: python3 bench/pretix_checkin.py --reset    stop: kill \"\$(cat $DATA/gunicorn.pid)\""
