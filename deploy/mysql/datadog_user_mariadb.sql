-- Extra grant for MariaDB 10.5.9 and later, applied after datadog_user.sql.
-- From 10.5.9 REPLICATION CLIENT no longer allows SHOW REPLICA/SLAVE STATUS;
-- that needs SLAVE MONITOR (alias REPLICA MONITOR), which MySQL does not have.

GRANT SLAVE MONITOR ON *.* TO 'datadog'@'%';
