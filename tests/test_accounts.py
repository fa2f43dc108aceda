"""Accounts: roles and scopes, tokens kept only as hashes, the users file and [users] in hub.toml."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hub.accounts import Accounts, add_user, hash_token, remove_user
from hub.config import HubConfig, load_config
from hub.errors import ConfigError
from hub.layout import DataLayout


@pytest.fixture
def config(demo_root: Path) -> HubConfig:
    return load_config(demo_root / "hub.toml")


def test_a_new_token_works_and_only_its_hash_is_kept(config: HubConfig) -> None:
    token, account = add_user(config, "anna", "steward", sources=["smartic-operators"])
    assert token.startswith("mh_") and len(token) > 40
    path = DataLayout(config.data_path).users()
    text = path.read_text(encoding="utf-8")
    assert token not in text and hash_token(token) in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    found = Accounts.load(config).authenticate(token)
    assert found is not None and found.name == "anna" and found.role == "steward"
    assert Accounts.load(config).authenticate(token + "x") is None
    assert Accounts.load(config).authenticate("") is None


def test_scope_by_source_project_and_agreement(config: HubConfig) -> None:
    add_user(config, "anna", "steward", sources=["smartic-operators"])
    add_user(config, "olga", "steward", projects=["itinera"])
    add_user(config, "victor", "viewer")
    add_user(config, "root", "admin")
    accounts = Accounts.load(config).by_name
    smartic, itinera = config.sources["smartic-operators"], config.sources["itinera-trails"]
    assert accounts["anna"].may_decide(smartic) and not accounts["anna"].may_decide(itinera)
    assert accounts["olga"].may_decide(itinera) and not accounts["olga"].may_decide(smartic)
    assert not any(accounts["victor"].may_decide(s) for s in config.sources.values())
    assert all(accounts["root"].may_decide(s) for s in config.sources.values())
    # a source's agreement may name its stewards
    named = smartic.model_copy(update={"stewards": ["olga"]})
    assert accounts["olga"].may_decide(named)
    assert Accounts.load(config).stewards_of(smartic) == ["anna"]


def test_adding_again_renews_the_token_and_remove_revokes(config: HubConfig) -> None:
    old, _ = add_user(config, "anna", "steward", sources=["smartic-operators"])
    new, _ = add_user(config, "anna", "steward", sources=["smartic-operators"])
    assert Accounts.load(config).authenticate(old) is None
    assert Accounts.load(config).authenticate(new) is not None
    remove_user(config, "anna")
    assert Accounts.load(config).authenticate(new) is None
    with pytest.raises(ConfigError, match="no user `anna`"):
        remove_user(config, "anna")


@pytest.mark.parametrize(
    ("name", "role", "sources", "message"),
    [
        ("Anna Rossi", "steward", ["smartic-operators"], "not a user name"),
        ("anna", "owner", ["smartic-operators"], "unknown role `owner`"),
        ("anna", "steward", ["smartic"], "unknown source"),
        ("anna", "steward", [], "give --source"),
    ],
)
def test_bad_accounts_are_refused(config: HubConfig, name, role, sources, message) -> None:
    with pytest.raises(ConfigError, match=message):
        add_user(config, name, role, sources=sources)


def test_users_in_the_config_hold_hashes_and_known_sources(demo_root: Path) -> None:
    path = demo_root / "hub.toml"
    base = path.read_text(encoding="utf-8")
    digest = hash_token("a-long-enough-token-for-marco")
    path.write_text(
        base + f'\n[users.marco]\nrole = "steward"\nsources = ["itinera-trails"]\n'
        f'token_sha256 = "{digest}"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    account = Accounts.load(config).authenticate("a-long-enough-token-for-marco")
    assert account is not None and account.origin == "config"
    with pytest.raises(ConfigError, match="user `marco` is defined in"):
        add_user(config, "marco", "viewer")
    path.write_text(
        base + '\n[users.marco]\nrole = "steward"\nsources = ["itinera"]\n'
        'token_sha256 = "the-token-itself"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    text = str(refused.value)
    assert "users.marco.token_sha256" in text and "never the token itself" in text
    path.write_text(
        base + '\n[users.marco]\nrole = "steward"\nsources = ["itinera"]\n'
        f'token_sha256 = "{digest}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="users.marco.sources: unknown source `itinera`"):
        load_config(path)


def test_the_environment_admin_token(config: HubConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_ADMIN_TOKEN", "short")
    assert Accounts.load(config).authenticate("short") is None
    monkeypatch.setenv("HUB_ADMIN_TOKEN", "a-long-admin-token-0123456789")
    admin = Accounts.load(config).authenticate("a-long-admin-token-0123456789")
    assert admin is not None and admin.role == "admin" and admin.origin == "environment"


def test_hub_user_commands(config: HubConfig, capsys: pytest.CaptureFixture[str]) -> None:
    from hub.cli import main

    args = ["--config", str(config.path), "user"]
    assert main([*args, "add", "anna", "--source", "smartic-operators"]) == 0
    out = capsys.readouterr().out
    assert "decides for: smartic-operators" in out and "shown once" in out
    assert main([*args, "list"]) == 0
    listed = capsys.readouterr().out
    assert "anna\tsteward" in listed and "mh_" not in listed
    assert main([*args, "add", "bob", "--role", "steward"]) == 2
    assert "give --source" in capsys.readouterr().err
    assert main([*args, "remove", "anna"]) == 0
