# shellcheck shell=bash
# Init script for the official mysql image: mount this directory at /docker-entrypoint-initdb.d and
# the package's SQL (mysql_datadog_user/sql) at /datadog-sql. The entrypoint sources it (it is not
# executable) on first start, which provides docker_process_sql (root over the local socket) and
# mysql_error.
#
# Creates DD_MYSQL_USER (default: datadog) with the password DD_MYSQL_PASSWORD. Both are handed to
# the server as hex literals, so no quoting of their characters is needed and nothing secret is
# written to a file.

if [ -z "${DD_MYSQL_PASSWORD:-}" ]; then
    mysql_error 'DD_MYSQL_PASSWORD must be set to create the datadog user'
fi

dd_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
{
    printf "SET @dd_user = CONVERT(X'%s' USING utf8mb4);\n" "$(dd_hex "${DD_MYSQL_USER:-datadog}")"
    printf "SET @dd_password = CONVERT(X'%s' USING utf8mb4);\n" "$(dd_hex "$DD_MYSQL_PASSWORD")"
    cat /datadog-sql/datadog_user.sql
} | docker_process_sql --database=mysql
unset -f dd_hex
