#!/bin/sh
# Keeps requests flowing to every route of the demo app so the APM widgets have data,
# including the 404, database and deliberate-error paths.
# As PID 1 of its container the shell gets no default signal handling: without this trap a
# `docker stop` waits out its whole timeout.
trap 'exit 0' TERM INT
base="${FLASK_DEMO_URL:-http://flask_demo:5050}"
while true; do
    for path in / /api/apm /api/trace /api/db /api/error /missing; do
        curl --silent --output /dev/null --max-time 5 "$base$path" || true
    done
    # In the background, so the trap runs as soon as a signal arrives instead of after the sleep.
    sleep "${TRAFFIC_INTERVAL_SECONDS:-1}" &
    wait $!
done
