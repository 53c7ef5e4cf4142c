-- Least-privilege `datadog` user for the Agent's MySQL check (MySQL 8 / 8.4 LTS, MariaDB < 10.5.9).
--
-- The password is never written here: the session that runs this file must first set
--   SET @dd_password = '<password>';
-- (datadog_user.py and initdb/10-datadog-user.sh do that from DD_MYSQL_PASSWORD).
-- Running the file again is harmless: it re-sets the password, the limit and the grants.
-- Statements end with `;` at the end of a line; datadog_user.py splits on that.

-- CREATE USER / ALTER USER take only a literal password, hence the prepared statements.
SET @dd_stmt = CONCAT('CREATE USER IF NOT EXISTS ''datadog''@''%'' IDENTIFIED BY ', QUOTE(@dd_password));
PREPARE dd_stmt FROM @dd_stmt;
EXECUTE dd_stmt;
DEALLOCATE PREPARE dd_stmt;

SET @dd_stmt = CONCAT('ALTER USER ''datadog''@''%'' IDENTIFIED BY ', QUOTE(@dd_password), ' WITH MAX_USER_CONNECTIONS 5');
PREPARE dd_stmt FROM @dd_stmt;
EXECUTE dd_stmt;
DEALLOCATE PREPARE dd_stmt;

SET @dd_stmt = NULL;
SET @dd_password = NULL;

GRANT REPLICATION CLIENT ON *.* TO 'datadog'@'%';
GRANT PROCESS ON *.* TO 'datadog'@'%';
GRANT SELECT ON performance_schema.* TO 'datadog'@'%';
