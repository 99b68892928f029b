#!/usr/bin/env bash
# make faults: the fault suite (tests/faults/) against its own PostgreSQL, Redis, gunicorn,
# Celery worker and beat. Whatever happens to pytest, everything it started is removed here:
# the process groups listed in $FAULTS_ROOT/pids and the PostgreSQL cluster in $FAULTS_ROOT/pg.
set -uo pipefail
cd "$(dirname "$0")/../.."

FAULTS_ROOT=$(mktemp -d /tmp/remediator-faults.XXXXXX)
export FAULTS_ROOT REMEDIATOR_FAULTS=1

cleanup() {
  if [ -f "$FAULTS_ROOT/pids" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null
    done <"$FAULTS_ROOT/pids"
  fi
  if [ -f "$FAULTS_ROOT/pgdata" ]; then
    { read -r bindir; read -r pgdata; } <"$FAULTS_ROOT/pgdata"
    if [ -f "$pgdata/postmaster.pid" ]; then
      if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$bindir/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1
      else
        "$bindir/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1
      fi
    fi
  fi
  rm -rf "$FAULTS_ROOT"
}
trap cleanup EXIT

# -s: each scenario prints its figures as it ends; the table comes at the end.
# pytest runs in the background so that a signal to this script is acted on at once.
.venv/bin/pytest tests/faults -s -p no:cacheprovider "$@" &
pytest_pid=$!
trap 'kill -TERM "$pytest_pid" 2>/dev/null; wait "$pytest_pid"; exit 143' INT TERM
wait "$pytest_pid"
