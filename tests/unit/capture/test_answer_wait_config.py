"""collector.answer_wait_s: a default that keeps slow APIs recorded, checked at load,
overridden like every key."""

import pytest

from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import ConfigError


def test_the_default_waits_longer_than_an_ordinary_slow_answer():
    assert load_config(None, env={}).collector.answer_wait_s == 30.0


def test_an_environment_override_sets_it():
    config = load_config(None, env={"MOCKADO_COLLECTOR__ANSWER_WAIT_S": "2.5"})
    assert config.collector.answer_wait_s == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "3601", "soon"])
def test_a_wait_out_of_range_names_its_key(value):
    with pytest.raises(ConfigError, match=r"collector\.answer_wait_s"):
        load_config(None, env={"MOCKADO_COLLECTOR__ANSWER_WAIT_S": value})
