-- Extra grant for MariaDB 10.5.9 and later, applied after datadog_user.sql in the same session
-- (it reads @dd_account). From 10.5.9 REPLICATION CLIENT no longer allows SHOW REPLICA/SLAVE STATUS;
-- that needs SLAVE MONITOR (alias REPLICA MONITOR), which MySQL does not have.

SET @dd_stmt = CONCAT('GRANT SLAVE MONITOR ON *.* TO ', @dd_account);
PREPARE dd_stmt FROM @dd_stmt;
EXECUTE dd_stmt;
DEALLOCATE PREPARE dd_stmt;
SET @dd_stmt = NULL;
