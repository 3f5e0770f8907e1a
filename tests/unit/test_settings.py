"""Settings precedence: flags > environment > INI file > defaults."""

from __future__ import annotations

import pytest

from craton.settings import Settings, SettingsError, load_settings


def write_ini(tmp_path, text):
    path = tmp_path / "craton.conf"
    path.write_text(text)
    return path


def test_defaults():
    settings = load_settings(environ={})
    assert (settings.api_host, settings.api_port, settings.database_url) == ("127.0.0.1", 7780, Settings.database_url)


def test_ini_then_environment_then_flags(tmp_path):
    ini = write_ini(
        tmp_path, "[api]\nhost = 0.0.0.0\nport = 9000\nworkers = 3\n[database]\nconnection = sqlite:///ini.db\n"
    )
    from_ini = load_settings(config_file=ini, environ={})
    assert (from_ini.api_host, from_ini.api_port, from_ini.workers, from_ini.database_url) == (
        "0.0.0.0",
        9000,
        3,
        "sqlite:///ini.db",
    )
    env = {"CRATON_API_PORT": "9100", "CRATON_DATABASE_URL": "sqlite:///env.db"}
    from_env = load_settings(config_file=ini, environ=env)
    assert (from_env.api_port, from_env.database_url, from_env.api_host) == (9100, "sqlite:///env.db", "0.0.0.0")
    from_flags = load_settings(config_file=ini, environ=env, api_port=9200, database_url=None)
    assert (from_flags.api_port, from_flags.database_url) == (9200, "sqlite:///env.db")


def test_paste_pipeline_names_are_aliases(tmp_path):
    ini = write_ini(tmp_path, "[api]\npaste_pipeline = keystone-auth\n")
    assert load_settings(config_file=ini, environ={}).auth_strategy == "keystone"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CRATON_API_PORT": "eighty"}, "api_port"),
        ({"CRATON_AUTH_STRATEGY": "ldap"}, "auth_strategy"),
        ({"CRATON_API_WORKERS": "0"}, "workers"),
        ({"CRATON_API_THREADS": "0"}, "threads"),
        ({"CRATON_API_THREADS": "many"}, "threads"),
    ],
)
def test_bad_values_are_named(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(environ=env)


def test_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(config_file=tmp_path / "nope.conf", environ={})


def test_database_threads_per_worker(tmp_path):
    assert load_settings(environ={}).threads == 4
    ini = write_ini(tmp_path, "[api]\nthreads = 8\n")
    assert load_settings(config_file=ini, environ={}).threads == 8
    assert load_settings(config_file=ini, environ={"CRATON_API_THREADS": "2"}).threads == 2
    assert load_settings(config_file=ini, environ={"CRATON_API_THREADS": "2"}, threads=6).threads == 6
