import pytest
import yaml
from agent_standin import LoaderError, describe_run, run_agent_check, summarize_runs

from .common import CHECK_NAME, METRIC_NAME


def write_config(directory, *instances, init_config=None):
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / 'conf.yaml'
    config.write_text(yaml.safe_dump({'init_config': init_config or {}, 'instances': list(instances)}))
    return config


def values(document):
    return {series['metric']: series['value'] for series in document['series']}


def test_runs_the_shipped_example_config(agent_python, check_conf_dir, tmp_path):
    config = tmp_path / f'{CHECK_NAME}.d' / 'conf.yaml'
    config.parent.mkdir()
    config.write_text((check_conf_dir / 'conf.yaml.example').read_text())

    documents = run_agent_check(agent_python, config, runs=3, interval=0)

    assert [(document['run'], document['instance']) for document in documents] == [(1, 1), (2, 1), (3, 1)]
    for document in documents:
        assert document['errors'] == []
        assert values(document)[METRIC_NAME] == 3
        [series] = [series for series in document['series'] if series['metric'] == METRIC_NAME]
        assert (series['type'], series['tags'], series['check']) == ('gauge', [], CHECK_NAME)


def test_each_instance_runs_in_each_run_with_its_sorted_tags(agent_python, check_conf_dir, tmp_path):
    config = write_config(tmp_path / f'{CHECK_NAME}.d', {'value': 5, 'tags': ['b:2', 'a:1']}, {'value': 6})

    documents = run_agent_check(agent_python, config, runs=2, interval=0)

    assert [(document['run'], document['instance'], values(document)[METRIC_NAME]) for document in documents] == [
        (1, 1, 5),
        (1, 2, 6),
        (2, 1, 5),
        (2, 2, 6),
    ]
    [tagged] = [series for series in documents[0]['series'] if series['metric'] == METRIC_NAME]
    assert tagged['tags'] == ['a:1', 'b:2']


def test_check_errors_are_reported_per_run_with_nothing_submitted(agent_python, check_conf_dir, tmp_path):
    config = write_config(tmp_path / f'{CHECK_NAME}.d', {'fail': True})

    [document] = run_agent_check(agent_python, config, interval=0)

    assert document['series'] == []
    [error] = document['errors']
    assert '`fail` is set' in error['message']
    assert 'ConfigurationError' in error['traceback']


def test_waits_min_collection_interval_between_runs_by_default(agent_python, check_conf_dir, tmp_path):
    config = write_config(tmp_path / f'{CHECK_NAME}.d', {'min_collection_interval': 1})

    first, second = run_agent_check(agent_python, config, runs=2)

    assert second['time'] - first['time'] >= 1


def test_calls_on_run_with_each_document(agent_python, check_conf_dir, tmp_path):
    config = write_config(tmp_path / f'{CHECK_NAME}.d', {})
    seen = []

    documents = run_agent_check(agent_python, config, runs=2, interval=0, on_run=seen.append)

    assert seen == documents
    assert len(seen) == 2


def test_the_shells_dd_variables_do_not_reach_the_check(agent_python, check_conf_dir, tmp_path, monkeypatch):
    monkeypatch.setenv('DD_API_KEY', 'not-for-the-check')
    config = write_config(tmp_path / f'{CHECK_NAME}.d', {})

    [document] = run_agent_check(agent_python, config, interval=0)

    assert values(document)['example.api_key_visible'] == 0


def test_check_name_comes_from_the_config_directory_or_the_argument(agent_python, check_conf_dir, tmp_path):
    config = write_config(tmp_path / 'elsewhere', {'value': 9})

    with pytest.raises(ValueError, match=r'conf.d/<name>.d/'):
        run_agent_check(agent_python, config, interval=0)

    [document] = run_agent_check(agent_python, config, interval=0, check_name=CHECK_NAME)
    assert values(document)[METRIC_NAME] == 9


@pytest.mark.parametrize(
    'config_text, check_name, message',
    [
        ('init_config: {}\ninstances: []\n', CHECK_NAME, 'has no instance under `instances:`'),
        ('instances: [\n', CHECK_NAME, 'cannot read'),
        ('- just a list\n', CHECK_NAME, 'must be a mapping'),
        ('instances:\n  - {}\n', 'not_installed', 'is the integration installed in this Python?'),
    ],
    ids=['no-instances', 'bad-yaml', 'not-a-mapping', 'unknown-check'],
)
def test_loader_errors_name_the_problem(agent_python, check_conf_dir, tmp_path, config_text, check_name, message):
    config = tmp_path / f'{check_name}.d' / 'conf.yaml'
    config.parent.mkdir()
    config.write_text(config_text)

    with pytest.raises(LoaderError, match='error: ') as error:
        run_agent_check(agent_python, config, interval=0)

    assert message in str(error.value)
    assert 'Traceback' not in str(error.value)


def test_describe_run_shows_each_series_or_the_errors(agent_python, check_conf_dir, tmp_path):
    good = write_config(tmp_path / 'good' / f'{CHECK_NAME}.d', {'value': 4, 'tags': ['b:2', 'a:1']})
    bad = write_config(tmp_path / 'bad' / f'{CHECK_NAME}.d', {'fail': True})

    [submitted] = run_agent_check(agent_python, good, interval=0)
    [failed] = run_agent_check(agent_python, bad, interval=0)

    assert f"{METRIC_NAME}=4 tags=['a:1', 'b:2']" in describe_run(submitted)
    assert 'ERRORS' not in describe_run(submitted)
    assert describe_run(failed).startswith('no series submitted ERRORS: ')
    assert describe_run(failed).endswith('`fail` is set')


def test_summarize_runs_gives_the_values_the_tags_once_and_the_errors(agent_python, check_conf_dir, tmp_path):
    tagged = write_config(tmp_path / 'good' / f'{CHECK_NAME}.d', {'value': 4, 'tags': ['b:2', 'a:1']}, {'value': 5})
    failing = write_config(tmp_path / 'bad' / f'{CHECK_NAME}.d', {'fail': True})

    good = summarize_runs(run_agent_check(agent_python, tagged, runs=2, interval=0))
    bad = summarize_runs(run_agent_check(agent_python, failing, runs=2, interval=0))

    assert good.count == 4
    assert [value for value in good.values if value != 0] == [4, 5, 4, 5]  # example.api_key_visible is 0
    assert good.tags == ['a:1', 'b:2']
    assert good.errors == ''
    assert (bad.count, bad.values, bad.tags) == (2, [], [])
    assert bad.errors == '`fail` is set'  # both runs failed alike: the message once, no traceback


def test_summarize_runs_of_no_runs_is_empty():
    assert tuple(summarize_runs([])) == (0, [], [], '')
