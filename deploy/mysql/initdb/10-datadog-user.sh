# shellcheck shell=bash
# Init script for the official mysql image (mount this directory at /docker-entrypoint-initdb.d and
# deploy/mysql at /datadog-sql). The entrypoint sources it (it is not executable) on first start,
# which provides docker_process_sql (root over the local socket) and mysql_error.
#
# The password comes from DD_MYSQL_PASSWORD; it is handed to the server as a hex literal so
# no quoting of its characters is needed and nothing secret is written to a file.

if [ -z "${DD_MYSQL_PASSWORD:-}" ]; then
    mysql_error 'DD_MYSQL_PASSWORD must be set to create the datadog user'
fi

dd_password_hex="$(printf '%s' "$DD_MYSQL_PASSWORD" | od -An -v -tx1 | tr -d ' \n')"
{
    printf "SET @dd_password = CONVERT(X'%s' USING utf8mb4);\n" "$dd_password_hex"
    cat /datadog-sql/datadog_user.sql
} | docker_process_sql --database=mysql
unset dd_password_hex
