# shellcheck shell=bash
# Init script for the official mysql image: mount this directory at /docker-entrypoint-initdb.d and
# the package's SQL (mysql_datadog_user/sql) at /datadog-sql. The entrypoint sources it (it is not
# executable) on first start, which provides docker_process_sql (root over the local socket) and
# mysql_error.
#
# Creates DD_MYSQL_USER (default: datadog) with the password DD_MYSQL_PASSWORD. Both are handed to
# the server as hex literals, so no quoting of their characters is needed and nothing secret is
# written to a file. On MariaDB 10.5.9 and later it also applies datadog_user_mariadb.sql (SLAVE
# MONITOR, which SHOW REPLICA STATUS needs there), as the package's `apply` does.

if [ -z "${DD_MYSQL_PASSWORD:-}" ]; then
    mysql_error 'DD_MYSQL_PASSWORD must be set to create the datadog user'
fi

dd_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
# True for a VERSION() of MariaDB 10.5.9 or later.
dd_needs_slave_monitor() {
    local major minor patch
    case "$1" in *MariaDB*) ;; *) return 1 ;; esac
    IFS=.- read -r major minor patch _ <<<"$1"
    [ $((major * 1000000 + minor * 1000 + patch)) -ge 10005009 ]
}
dd_server=$(echo 'SELECT VERSION();' | docker_process_sql --database=mysql --skip-column-names)
{
    printf "SET @dd_user = CONVERT(X'%s' USING utf8mb4);\n" "$(dd_hex "${DD_MYSQL_USER:-datadog}")"
    printf "SET @dd_password = CONVERT(X'%s' USING utf8mb4);\n" "$(dd_hex "$DD_MYSQL_PASSWORD")"
    cat /datadog-sql/datadog_user.sql
    # Same session: it reads @dd_account, which datadog_user.sql set.
    if dd_needs_slave_monitor "$dd_server"; then
        cat /datadog-sql/datadog_user_mariadb.sql
    fi
} | docker_process_sql --database=mysql
unset -f dd_hex dd_needs_slave_monitor
unset dd_server
