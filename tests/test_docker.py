"""The container image and compose file, checked without a Docker daemon.

The Dockerfile is read instruction by instruction (stages, WORKDIR, COPY, ENV, USER, ...),
so the test knows which repository file lands where in the image; the image's configs are
then loaded by `hub config check` under the environment the image sets.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pytest
import yaml

from hub.cli import main

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "docker" / "Dockerfile"
COMPOSE = REPO / "docker" / "compose.yml"
DATA = "/var/lib/marittimo-hub"
README = (REPO / "README.md").read_text(encoding="utf-8")


@dataclass
class Stage:
    base: str
    name: str | None
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # image path -> repository path
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def last(self, keyword: str) -> str | None:
        found = [arg for kw, arg in self.instructions if kw == keyword]
        return found[-1] if found else None


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#") and not current:
            continue
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        current += raw
        if current.strip():
            keyword, _, rest = current.strip().partition(" ")
            lines.append((keyword.upper(), rest.strip()))
        current = ""
    return lines


def stages() -> list[Stage]:
    result: list[Stage] = []
    for keyword, arg in instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if keyword == "FROM":
            parts = arg.split()
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None
            result.append(Stage(base=parts[0], name=name))
            continue
        stage = result[-1]
        stage.instructions.append((keyword, arg))
        if keyword == "WORKDIR":
            stage.workdir = str(PurePosixPath(stage.workdir, arg))
        elif keyword == "ENV":
            for token in shlex.split(arg):
                key, _, value = token.partition("=")
                stage.env[key] = value
        elif keyword == "COPY" and "--from" not in arg:
            *sources, dest = shlex.split(arg)
            for source in sources:
                target = PurePosixPath(stage.workdir, dest)
                if dest.endswith("/") or len(sources) > 1:
                    target = target / PurePosixPath(source).name
                stage.files[str(target)] = source
    return result


def image_to_repo(stage: Stage, image_path: str) -> Path:
    """The repository file that is `image_path` in the image (also inside a copied folder)."""
    path = PurePosixPath(image_path)
    for target, source in stage.files.items():
        if path == PurePosixPath(target) or PurePosixPath(target) in path.parents:
            return REPO / source / path.relative_to(target)
    raise AssertionError(f"{image_path} is not copied into the image")


def exec_form(arg: str) -> list[str]:
    return json.loads(arg)


@pytest.fixture(scope="module")
def runtime() -> Stage:
    return stages()[-1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_two_stages_and_a_slim_runtime(runtime: Stage) -> None:
    all_stages = stages()
    assert len(all_stages) == 2 and all_stages[0].name == "builder"
    assert runtime.base.endswith("-slim")
    # Nothing but the built environment comes from the builder: no pip cache, no build tools.
    from_builder = [arg for kw, arg in runtime.instructions if kw == "COPY" and "--from" in arg]
    assert from_builder == ["--from=builder /opt/venv /opt/venv"]
    assert "pip install" not in " ".join(arg for kw, arg in runtime.instructions if kw == "RUN")


def test_the_runtime_runs_as_a_user_without_privileges(runtime: Stage) -> None:
    user = runtime.last("USER")
    assert user is not None and user.split(":")[0] not in ("root", "0")
    # The user is created with that id, and owns the data folder (a named volume inherits it).
    creates = " ".join(arg for kw, arg in runtime.instructions if kw == "RUN")
    assert f"--uid {user.split(':')[0]}" in creates and f"chown hub:hub {DATA}" in creates


def test_command_volume_port_and_healthcheck(runtime: Stage) -> None:
    assert exec_form(runtime.last("CMD")) == ["hub", "serve", "--host", "0.0.0.0"]
    assert exec_form(runtime.last("VOLUME")) == [DATA]
    assert runtime.last("EXPOSE") == "8000"
    check = runtime.last("HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    assert "--start-period" in options  # `hub demo` harvests before it serves
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"] and "urllib.request" in argv[2]
    assert "http://127.0.0.1:8000/health/live" in argv[2]
    compile(argv[2], "healthcheck", "exec")


def test_every_copied_file_is_in_the_build_context(runtime: Stage) -> None:
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    builder = stages()[0]
    for stage in (builder, runtime):
        for source in stage.files.values():
            assert (REPO / source).exists(), source
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source
    for needed in ("pyproject.toml", "README.md", "hub", "harvesters"):
        assert needed in builder.files.values()
    for needed in ("hub", "harvesters", "ontology", "mappings", "hub.toml"):
        assert needed in runtime.files.values()


def test_the_image_config_loads_with_the_image_environment(
    runtime: Stage, monkeypatch, capsys
) -> None:
    assert runtime.env["HUB_DATA_DIR"] == DATA and runtime.env["HUB_STORE"] == f"{DATA}/store"
    config_file = image_to_repo(runtime, runtime.env["HUB_CONFIG"])
    assert config_file == REPO / "docker" / "config" / "hub.toml"
    for key, value in runtime.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUB_CONFIG", str(config_file))  # where that file is here
    assert main(["config", "check"]) == 0
    out = capsys.readouterr().out
    assert f"data in {DATA}" in out

    from hub.config import load_config

    config = load_config()
    assert config.store_path == Path(f"{DATA}/store") and config.serve.port == 8000


def test_the_compose_file_builds_and_wires_the_image(compose: dict, runtime: Stage) -> None:
    hub, demo = compose["services"]["hub"], compose["services"]["demo"]
    for service in (hub, demo):
        assert service["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
        assert service["image"] == "marittimo-hub:latest"
        assert any(v.endswith(f":{DATA}") for v in service["volumes"])
    assert "profiles" not in hub and demo["profiles"] == ["demo"]
    assert "command" not in hub  # the image's CMD: hub serve
    assert demo["command"][:2] == ["hub", "demo"] and "0.0.0.0" in demo["command"]
    config_mount = next(v for v in hub["volumes"] if ":/etc/marittimo-hub" in v)
    local = re.fullmatch(r"\$\{HUB_CONFIG_DIR:-(.+?)\}:/etc/marittimo-hub:ro", config_mount)
    assert local, config_mount  # read-only, from the folder HUB_CONFIG_DIR names
    assert (COMPOSE.parent / local[1] / "hub.toml") == REPO / "docker" / "config" / "hub.toml"
    for service in (hub, demo):
        for volume in service["volumes"]:
            name = volume.split(":")[0]
            assert name.startswith("$") or name in compose["volumes"], volume


def test_the_demo_service_config_loads_with_the_image_environment(
    compose: dict, runtime: Stage, monkeypatch, capsys
) -> None:
    demo = compose["services"]["demo"]
    env = {**runtime.env, **demo["environment"]}
    config_file = image_to_repo(runtime, env["HUB_CONFIG"])
    assert config_file == REPO / "hub.toml"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUB_CONFIG", str(config_file))
    assert main(["config", "check"]) == 0
    assert f"data in {DATA}" in capsys.readouterr().out


def test_the_readme_container_section_matches(compose: dict, runtime: Stage) -> None:
    start = README.index("## Containers")
    section = README[start : README.index("\n## ", start + 5)]
    commands = re.findall(r"^(docker .+?)(?:\s+#.*)?$", section, flags=re.M)
    assert commands, "the README's container section shows no docker command"
    for command in commands:
        argv = shlex.split(command)
        if "-f" in argv:
            assert (REPO / argv[argv.index("-f") + 1]).exists(), command
        if "--profile" in argv:
            profile = argv[argv.index("--profile") + 1]
            assert any(profile in s.get("profiles", []) for s in compose["services"].values())
        for word in argv[argv.index("up") + 1 :] if "up" in argv else []:
            if not word.startswith("-"):
                assert word in compose["services"], command
    for fact in (
        DATA,
        "/etc/marittimo-hub/hub.toml",
        "HUB_CONFIG_DIR",
        "docker/config/hub.toml",
        "/health/live",
        f"uid {runtime.last('USER').split(':')[0]}",
        "8001",
        "HUB_LOG_FORMAT",
    ):
        assert fact in section, f"the README's container section does not say {fact}"
