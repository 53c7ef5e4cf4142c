"""read_check_config, collection_interval, error_messages: a check's conf.yaml read as the Agent does."""

import pytest
from agent_standin import CheckConfigError, collection_interval, error_messages, read_check_config


@pytest.mark.parametrize(
    'content, message',
    [
        ('instances: [\n  - min_value: 1\n', 'not valid YAML (while parsing'),
        ('- min_value: 1\n- max_value: 2\n', 'needs a mapping with `instances:`, a list of mappings, e.g.\n'),
        ('init_config:\ninstances: foo\n', 'needs a mapping with `instances:`'),
        ('init_config:\ninstances: []\n', 'needs a mapping with `instances:`'),
        ('init_config:\ninstances:\n  - just text\n', 'needs a mapping with `instances:`'),
        ('init_config:\n', 'needs a mapping with `instances:`'),
        ('', 'needs a mapping with `instances:`'),
        (b'\xff\xfe bad bytes', 'cannot read it (not UTF-8 text); give a conf.yaml file'),
    ],
    ids=[
        'invalid-yaml',
        'top-level-list',
        'instances-not-a-list',
        'instances-empty',
        'instance-not-a-mapping',
        'no-instances',
        'empty-file',
        'not-utf8',
    ],
)
def test_a_broken_config_names_the_file_and_the_fix(tmp_path, content, message):
    config = tmp_path / 'conf.yaml'
    config.write_bytes(content if isinstance(content, bytes) else content.encode())

    with pytest.raises(CheckConfigError) as error:
        read_check_config(config)

    assert str(error.value).startswith(f'{config}: ')
    assert message in str(error.value)


@pytest.mark.parametrize('kind, reason', [('missing', 'No such file or directory'), ('directory', 'Is a directory')])
def test_a_path_that_is_not_a_file_says_why(tmp_path, kind, reason):
    path = tmp_path / 'conf.yaml'
    if kind == 'directory':
        path.mkdir()

    with pytest.raises(CheckConfigError, match=f'cannot read it \\({reason}\\); give a conf.yaml file'):
        read_check_config(path)


def test_a_good_config_is_returned_whole(tmp_path):
    config = tmp_path / 'conf.yaml'
    config.write_text('init_config:\n  a: 1\ninstances:\n  - min_value: 1\n  - {}\n')

    assert read_check_config(config) == {'init_config': {'a': 1}, 'instances': [{'min_value': 1}, {}]}


@pytest.mark.parametrize(
    'instance, expected',
    [('{min_collection_interval: 45}', 45.0), ('{min_collection_interval: 0.5}', 0.5), ('{}', 15.0)],
)
def test_collection_interval_is_the_first_instances_or_the_agents_default(tmp_path, instance, expected):
    config = tmp_path / 'conf.yaml'
    config.write_text(f'instances:\n  - {instance}\n  - {{min_collection_interval: 99}}\n')

    assert collection_interval(config) == expected


@pytest.mark.parametrize('value', ['soon', '0', '-1', 'true', '[1]'])
def test_a_bad_collection_interval_is_refused(tmp_path, value):
    config = tmp_path / 'conf.yaml'
    config.write_text(f'instances:\n  - min_collection_interval: {value}\n')

    with pytest.raises(CheckConfigError, match=f'^{config}: min_collection_interval must be a positive number'):
        collection_interval(config)


def test_error_messages_keep_the_last_line_of_each_distinct_error():
    errors = [
        {'message': 'Traceback (most recent call last):\n  ...\nValueError: `min_value` too big', 'traceback': '...'},
        {'message': 'ValueError: `min_value` too big\n'},
        {'message': ''},
        'plain text error',
    ]

    assert error_messages(errors) == 'ValueError: `min_value` too big; ?; plain text error'
