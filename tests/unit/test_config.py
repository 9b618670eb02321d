"""Settings from the environment: where the instance folder is, and the key kept in it."""

from __future__ import annotations

import pytest

from server.config import ConfigError, instance_path, load_config


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("DATABASE_URL", "SECRET_KEY", "INSTANCE_PATH", "ATTACHMENTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_instance_path_comes_from_the_environment(bare_env, tmp_path) -> None:
    assert instance_path() is None
    bare_env.setenv("INSTANCE_PATH", str(tmp_path / "data"))
    assert instance_path() == str(tmp_path / "data")


def test_without_settings_everything_lives_in_the_instance_folder(bare_env, tmp_path) -> None:
    folder = tmp_path / "data"
    config = load_config(str(folder))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{folder / 'fieldenforce.db'}"
    assert config["ATTACHMENTS_DIR"] == str(folder / "attachments")
    key_file = folder / "secret_key"
    assert key_file.read_text() == config["SECRET_KEY"] and len(config["SECRET_KEY"]) == 64
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    # A restart, or a second worker, reads the same key.
    assert load_config(str(folder))["SECRET_KEY"] == config["SECRET_KEY"]
    assert sorted(p.name for p in folder.iterdir()) == ["secret_key"]


def test_a_given_secret_key_is_used_and_nothing_is_written(bare_env, tmp_path) -> None:
    bare_env.setenv("SECRET_KEY", "from-the-environment")
    bare_env.setenv("DATABASE_URL", "postgres://enforce@db/enforce")
    config = load_config(str(tmp_path / "never"))
    assert config["SECRET_KEY"] == "from-the-environment"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://enforce@db/enforce"
    assert not (tmp_path / "never").exists()


def test_an_unwritable_instance_folder_without_a_secret_key_says_what_to_set(
    bare_env, tmp_path
) -> None:
    # A folder that cannot be made even by root: its parent is a file.
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    bare_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fe.db'}")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set.*set SECRET_KEY"):
        load_config(str(blocker / "instance"))


@pytest.mark.parametrize("url", ["postgresql://db/enforce", "postgres://db/e", "postgresql+psycopg://x/y"])
def test_on_postgresql_a_host_without_secret_key_refuses_to_start(bare_env, tmp_path, url) -> None:
    bare_env.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set: on PostgreSQL"):
        load_config(str(tmp_path / "instance"))
    # No host invents a key of its own to serve with.
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_a_missing_instance_folder_that_cannot_be_made_says_what_to_set(bare_env, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    bare_env.setenv("SECRET_KEY", "k")
    with pytest.raises(ConfigError, match="INSTANCE_PATH"):
        load_config(str(blocker / "instance"))
