import pytest

from skdeepcluster import config_context, get_config, set_config


def test_config_context_sets_and_restores():
    assert get_config() == {"data_placement": "auto"}
    with config_context(data_placement="host"):
        assert get_config()["data_placement"] == "host"
        with config_context(data_placement="device"):
            assert get_config()["data_placement"] == "device"
        assert get_config()["data_placement"] == "host"
    assert get_config()["data_placement"] == "auto"


def test_set_config_none_keeps_the_value_and_get_config_is_a_copy():
    set_config(data_placement="host")
    try:
        set_config()
        assert get_config()["data_placement"] == "host"
        get_config()["data_placement"] = "device"
        assert get_config()["data_placement"] == "host"
    finally:
        set_config(data_placement="auto")


def test_bad_placement_is_refused():
    with pytest.raises(ValueError, match="data_placement must be one of"):
        set_config(data_placement="gpu")
    with pytest.raises(ValueError, match="data_placement"), config_context(data_placement="x"):
        pass
    assert get_config()["data_placement"] == "auto"
