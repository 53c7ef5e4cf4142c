#!/bin/bash
# Healthy once the datadog user can log in over TCP and read replica status: the init script
# has run and the real server (not the socket-only init server) is up.
set -eu
mysql --defaults-extra-file=<(printf '[client]\npassword="%s"\n' "$DD_MYSQL_PASSWORD") \
    --protocol=tcp --host=127.0.0.1 --user=datadog --execute='SHOW REPLICA STATUS' >/dev/null
