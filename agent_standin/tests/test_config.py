"""read_check_config, collection_interval, error_messages: a check's conf.yaml read as the Agent does."""

import warnings

import pytest
from agent_standin import CheckConfigError, collection_interval, error_messages, read_check_config
from agent_standin.config import CheckConfigWarning


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
    [('{min_collection_interval: 45}', 45.0), ('{min_collection_interval: 60}', 60.0), ('{}', 15.0)],
)
def test_collection_interval_is_the_first_instances_or_the_agents_default(tmp_path, instance, expected):
    config = tmp_path / 'conf.yaml'
    config.write_text(f'instances:\n  - {instance}\n  - {{min_collection_interval: 99}}\n')

    with warnings.catch_warnings():
        warnings.simplefilter('error')  # a plain setting warns of nothing
        assert collection_interval(config) == expected


@pytest.mark.parametrize('init_value', ['45', '-5', '0', 'soon'])
def test_init_config_has_no_effect_and_says_so(tmp_path, init_value):
    """Agent 6+ reads the interval per instance only (datadog-agent pkg/collector/python/check.go, Configure)."""
    config = tmp_path / 'conf.yaml'
    config.write_text(f'init_config:\n  min_collection_interval: {init_value}\ninstances: [{{}}]\n')

    with pytest.warns(CheckConfigWarning) as warned:
        assert collection_interval(config) == 15.0

    [message] = [str(warning.message) for warning in warned]
    assert 'init_config.min_collection_interval' in message and 'instance' in message


def test_an_instance_value_wins_and_init_config_still_warns(tmp_path):
    config = tmp_path / 'conf.yaml'
    config.write_text('init_config:\n  min_collection_interval: 45\ninstances:\n  - min_collection_interval: 30\n')

    with pytest.warns(CheckConfigWarning, match='init_config'):
        assert collection_interval(config) == 30.0


@pytest.mark.parametrize('value, expected', [('0', 15.0), ('-5', 15.0), ('0.5', 15.0), ('45.9', 45.0)])
def test_what_the_agent_does_not_take_as_given_is_taken_as_it_does_and_said(tmp_path, value, expected):
    """A Go int: fractions cut to whole seconds; not above 0 leaves the default."""
    config = tmp_path / 'conf.yaml'
    config.write_text(f'instances:\n  - min_collection_interval: {value}\n')

    with pytest.warns(CheckConfigWarning) as warned:
        assert collection_interval(config) == expected

    assert all('instances[0].min_collection_interval' in str(warning.message) for warning in warned)


@pytest.mark.parametrize('value', ['soon', '"45"', 'true', '[1]', '.nan'])
def test_an_instance_value_the_agent_refuses_names_the_field_and_the_fix(tmp_path, value):
    config = tmp_path / 'conf.yaml'
    config.write_text(f'instances:\n  - min_collection_interval: {value}\n')

    with pytest.raises(CheckConfigError) as error:
        collection_interval(config)

    assert str(error.value).startswith(f'{config}: instances[0].min_collection_interval')
    assert 'whole number of seconds such as 45' in str(error.value)


def test_error_messages_keep_the_last_line_of_each_distinct_error():
    errors = [
        {'message': 'Traceback (most recent call last):\n  ...\nValueError: `min_value` too big', 'traceback': '...'},
        {'message': 'ValueError: `min_value` too big\n'},
        {'message': ''},
        'plain text error',
    ]

    assert error_messages(errors) == 'ValueError: `min_value` too big; ?; plain text error'
