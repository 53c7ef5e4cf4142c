#!/bin/bash
# Entrypoint of the MariaDB stand-in image, following the documented contract of the official mysql
# image (https://hub.docker.com/_/mysql, "Environment Variables" and "Initializing a fresh instance"):
# - on an empty data directory: root's password from MYSQL_ROOT_PASSWORD (or MYSQL_ALLOW_EMPTY_PASSWORD /
#   MYSQL_RANDOM_ROOT_PASSWORD), root at '%' too, MYSQL_DATABASE created, MYSQL_USER/MYSQL_PASSWORD
#   created with all privileges on MYSQL_DATABASE; then every file of /docker-entrypoint-initdb.d in
#   name order: *.sh run if executable, else sourced (with docker_process_sql, mysql_error, mysql_note
#   defined), *.sql run as root. Initialisation uses a server that listens on its socket only, so
#   clients over TCP see the server once it is ready.
# - then the server runs in the foreground as the mysql user; arguments starting with '-' go to it.
set -eo pipefail

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

mysql_log() { printf '%s [%s] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$1" "$2"; }
mysql_note() { mysql_log Note "$*"; }
mysql_warn() { mysql_log Warn "$*" >&2; }
mysql_error() {
  mysql_log ERROR "$*" >&2
  exit 1
}

# Runs SQL from stdin as root over the socket, in MYSQL_DATABASE when set (a later --database wins).
docker_process_sql() {
  if [ -n "${MYSQL_DATABASE:-}" ]; then
    set -- --database="$MYSQL_DATABASE" "$@"
  fi
  mariadb --defaults-extra-file=<(printf '[client]\npassword="%s"\n' "${MYSQL_ROOT_PASSWORD:-}") \
    --protocol=socket --socket="$SOCKET" --user=root --comments "$@"
}

# Names and passwords handed to the server as quoted literals (backslashes and quotes escaped).
sql_escape() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g"; }

initialize() {
  if [ -z "${MYSQL_ROOT_PASSWORD:-}" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] && [ -z "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
    mysql_error 'Database is uninitialized and password option is not specified: set one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD and MYSQL_RANDOM_ROOT_PASSWORD'
  fi
  if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
    MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
    export MYSQL_ROOT_PASSWORD
    mysql_note "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
  fi

  mysql_note 'Initializing database files'
  mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal --skip-test-db \
    --skip-name-resolve >/dev/null
  mysql_note 'Starting temporary server'
  mariadbd --datadir="$DATADIR" --skip-networking --socket="$SOCKET" &
  local server=$! tries
  for ((tries = 0; tries < 60; tries++)); do
    mariadb-admin --protocol=socket --socket="$SOCKET" --user=root ping >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || mysql_error 'the temporary server exited during start-up'
    sleep 1
  done
  mariadb-admin --protocol=socket --socket="$SOCKET" --user=root ping >/dev/null 2>&1 ||
    mysql_error 'the temporary server did not answer within 60 s'

  local root_password database
  root_password=$(sql_escape "${MYSQL_ROOT_PASSWORD:-}")
  # Root's password is still empty here; docker_process_sql already sends the new one, so root is set first.
  mariadb --protocol=socket --socket="$SOCKET" --user=root <<SQL
SET @@SESSION.SQL_LOG_BIN=0;
DELETE FROM mysql.global_priv WHERE user NOT IN ('mysql.sys', 'mariadb.sys', 'root') OR host NOT IN ('localhost');
ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_password';
CREATE USER 'root'@'%' IDENTIFIED BY '$root_password';
GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  if [ -n "${MYSQL_DATABASE:-}" ]; then
    database=${MYSQL_DATABASE//\`/\`\`}
    mysql_note "Creating database $MYSQL_DATABASE"
    docker_process_sql --database=mysql <<<"CREATE DATABASE IF NOT EXISTS \`$database\`;"
  fi
  if [ -n "${MYSQL_USER:-}" ] && [ -n "${MYSQL_PASSWORD:-}" ]; then
    mysql_note "Creating user $MYSQL_USER"
    docker_process_sql --database=mysql <<<"CREATE USER '$(sql_escape "$MYSQL_USER")'@'%' IDENTIFIED BY '$(sql_escape "$MYSQL_PASSWORD")';"
    if [ -n "${MYSQL_DATABASE:-}" ]; then
      docker_process_sql --database=mysql <<<"GRANT ALL ON \`$database\`.* TO '$(sql_escape "$MYSQL_USER")'@'%';"
    fi
  fi

  local file
  for file in /docker-entrypoint-initdb.d/*; do
    [ -e "$file" ] || continue
    case "$file" in
      *.sh)
        if [ -x "$file" ]; then
          mysql_note "running $file"
          "$file"
        else
          mysql_note "sourcing $file"
          # shellcheck disable=SC1090
          . "$file"
        fi
        ;;
      *.sql)
        mysql_note "running $file"
        docker_process_sql <"$file"
        ;;
      *) mysql_warn "ignoring $file" ;;
    esac
  done

  mysql_note 'Stopping temporary server'
  kill "$server"
  wait "$server" || true
  mysql_note 'Init process done. Ready for start up.'
}

if [ "${1:0:1}" = '-' ]; then
  set -- mariadbd "$@"
fi

if [ "$1" = mariadbd ] || [ "$1" = mysqld ]; then
  shift
  set -- mariadbd "$@"
  # As root: the rest runs as the mysql user, as in the official image.
  if [ "$(id -u)" = 0 ]; then
    chown mysql:mysql "$DATADIR" /run/mysqld
    exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
  fi
  if [ ! -d "$DATADIR/mysql" ]; then
    initialize
  fi
  exec "$@" --datadir="$DATADIR" --socket="$SOCKET" --bind-address=0.0.0.0 --port=3306 --skip-name-resolve
fi

exec "$@"
