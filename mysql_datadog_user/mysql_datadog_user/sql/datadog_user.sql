-- Least-privilege Agent user for the Agent's MySQL check (MySQL 8 / 8.4 LTS, MariaDB < 10.5.9).
--
-- Neither the user name nor the password is written here: the session that runs this file first sets
--   SET @dd_user = 'datadog';
--   SET @dd_password = '<password>';
-- (the mysql_datadog_user package and initdb/10-datadog-user.sh do that).
-- CREATE USER fails when an account of that name already exists at '%': an existing account is
-- never changed by this file. Statements end with `;` at the end of a line; the package splits on that.

-- Account names and passwords must be literals in these statements, hence the prepared statements
-- built with QUOTE(), which escapes whatever the variables hold.
SET @dd_account = CONCAT(QUOTE(@dd_user), '@''%''');

SET @dd_stmt = CONCAT('CREATE USER ', @dd_account, ' IDENTIFIED BY ', QUOTE(@dd_password));
PREPARE dd_stmt FROM @dd_stmt;
EXECUTE dd_stmt;
DEALLOCATE PREPARE dd_stmt;
SET @dd_password = NULL;

SET @dd_stmt = CONCAT('ALTER USER ', @dd_account, ' WITH MAX_USER_CONNECTIONS 5');
PREPARE dd_stmt FROM @dd_stmt;
EXECUTE dd_stmt;
DEALLOCATE PREPARE dd_stmt;

SET @dd_stmt = CONCAT('GRANT REPLICATION CLIENT ON *.* TO ', @dd_account);
PREPARE dd_stmt FROM @dd_stmt;
EXECUTE dd_stmt;
DEALLOCATE PREPARE dd_stmt;

SET @dd_stmt = CONCAT('GRANT PROCESS ON *.* TO ', @dd_account);
PREPARE dd_stmt FROM @dd_stmt;
EXECUTE dd_stmt;
DEALLOCATE PREPARE dd_stmt;

SET @dd_stmt = CONCAT('GRANT SELECT ON performance_schema.* TO ', @dd_account);
PREPARE dd_stmt FROM @dd_stmt;
EXECUTE dd_stmt;
DEALLOCATE PREPARE dd_stmt;

SET @dd_stmt = NULL;
