"""Logs in to MySQL as the Agent's MySQL check would, from inside the Agent container.

Run by the Agent's embedded Python (`python3 - < mysql_login_probe.py`); it reads the check's config
(conf.d/mysql.d/conf.yaml), takes the password from DD_MYSQL_PASSWORD as the config's
%%env_DD_MYSQL_PASSWORD%% does, and prints one JSON object: the status it read, whether the replica
status was readable, and the server's answer to a write.
"""

import json
import os
from typing import Any

import pymysql
import yaml

with open('/etc/datadog-agent/conf.d/mysql.d/conf.yaml', encoding='utf-8') as conf:
    [instance] = yaml.safe_load(conf)['instances']
connection = pymysql.connect(
    host=instance['host'],
    port=instance['port'],
    user=instance['username'],
    password=os.environ['DD_MYSQL_PASSWORD'],
    connect_timeout=5,
)
result: dict[str, Any] = {'user': None, 'status': {}, 'replica_status': None, 'write_refused': None}
with connection.cursor() as cursor:
    cursor.execute('SELECT CURRENT_USER()')
    result['user'] = cursor.fetchone()[0]
    cursor.execute("SHOW GLOBAL STATUS WHERE Variable_name IN ('Uptime', 'Questions', 'Threads_connected')")
    result['status'] = dict(cursor.fetchall())
    try:
        cursor.execute('SHOW REPLICA STATUS')
        result['replica_status'] = 'readable'
    except pymysql.MySQLError as error:
        result['replica_status'] = f'refused: {error.args}'
    try:
        cursor.execute('CREATE DATABASE datadog_may_not_write')
        result['write_refused'] = False
    except pymysql.MySQLError as error:
        result['write_refused'] = error.args[0]
connection.close()
print(json.dumps(result))
