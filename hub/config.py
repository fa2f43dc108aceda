"""Load and check `hub.toml`: store, base IRI, projects, sources, schedules.

Each source's kind and options are checked against the harvester registry
(`harvesters.kinds`), and its project against the programme file and [projects].

Environment variables prefixed `HUB_` override the file (`HUB_CONFIG`,
`HUB_STORE`, `HUB_DATA_DIR`, `HUB_BASE_IRI`, `HUB_LOG_LEVEL`, `HUB_LOG_FORMAT`).
Secrets are written in the file as `{ env = "NAME" }` and resolved only when a
source runs.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import pyoxigraph as ox
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from harvesters.kinds import KINDS, option_problems, unknown_kind
from hub.errors import ConfigError
from hub.iris import MH, Iris

DEFAULT_CONFIG = "hub.toml"
# The bundled ontology (vocabulary, themes, programme, shapes), next to the `hub` package.
ONTOLOGY_DIR = Path(__file__).resolve().parents[1] / "ontology"
PROGRAMME_FILE = ONTOLOGY_DIR / "programme.ttl"
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as `30m`, `6h`, `1d` (checked by the validators)."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"`{text}` is not a duration; write e.g. '30m', '6h', '1d'")
    number, unit = match.groups()
    return int(number) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


class EnvOverrides(BaseSettings):
    """`HUB_*` environment variables that override the config file."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")
    config: str | None = None
    store: str | None = None
    data_dir: str | None = None
    base_iri: str | None = None
    log_level: str | None = None
    log_format: str | None = None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Schedule(_Strict):
    """When a source runs: a cron expression or a fixed interval (`30m`, `6h`, `1d`)."""

    cron: str | None = None
    every: str | None = None

    @field_validator("every")
    @classmethod
    def _check_every(cls, value: str | None) -> str | None:
        if value is not None and not _DURATION.match(value.strip()):
            raise ValueError(
                f"`{value}` is not an interval; write a number and a unit, e.g. '30m', '6h', '1d'"
            )
        return value

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if len(value.split()) != 5:
            raise ValueError(
                f"`{value}` is not a cron expression; write five fields, e.g. '0 3 * * *'"
            )
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(
                f"`{value}` is not a valid cron expression ({exc}); e.g. '0 3 * * *'"
            ) from None
        return value

    def seconds(self) -> int | None:
        """The interval in seconds, or None for a cron schedule."""
        return None if self.every is None else duration_seconds(self.every)


# What a gate of `hub.pipeline.gates` does when it trips: tell, hold for review, or fail.
GateAction = Literal["warn", "hold", "fail"]


class Quality(_Strict):
    """Gates a run must pass before it is published (see `hub.pipeline.gates`)."""

    max_error_rate: float = Field(0.05, ge=0, le=1)
    min_records: int = Field(1, ge=0)
    fail_on_shacl_violation: bool = True
    max_drop: float = Field(0.5, ge=0, le=1)
    # The damage gates: each "warn", "hold" (for `hub approve`/`hub reject`) or "fail".
    unmatched_reference: GateAction = "hold"
    vanished_property: GateAction = "hold"
    vanished_property_share: float = Field(0.8, gt=0, le=1)
    unknown_concept: GateAction = "hold"
    record_drop: GateAction = "hold"
    no_triples: GateAction = "hold"


class Project(_Strict):
    """A project not in the programme file, or extra facts about one that is."""

    name: str
    homepage: str | None = None


class UserConfig(_Strict):
    """An account given in the config: its role, scope and the SHA-256 of its token."""

    role: Literal["admin", "steward", "viewer"]
    sources: list[str] = Field(default_factory=list)
    projects: list[str] = Field(default_factory=list)
    token_sha256: str

    @field_validator("token_sha256")
    @classmethod
    def _check_hash(cls, value: str) -> str:
        if not re.match(r"^[0-9a-f]{64}$", value):
            raise ValueError(
                "must be the SHA-256 (64 hex digits) of the token, never the token itself: "
                "`hub user hash` prints it, or let `hub user add` create the account"
            )
        return value


class SourceConfig(_Strict):
    """One source: where its records come from, how they map, who looks after it.

    `owner`, `contact`, `licence`, `update_every` and `stewards` are the source's
    agreement: who provides the data, on what terms, how often it should change,
    and which accounts review its runs.
    """

    id: str = ""
    project: str
    kind: str
    mapping: str
    title: str = ""
    description: str = ""
    licence: str
    steward: str
    owner: str = ""
    contact: str = ""
    update_every: str | None = None
    stewards: list[str] = Field(default_factory=list)
    schedule: Schedule | None = None
    key: str | list[str] | None = None
    quality: Quality | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _check_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(unknown_kind(value))
        return value

    @field_validator("update_every")
    @classmethod
    def _check_update_every(cls, value: str | None) -> str | None:
        if value is not None and not _DURATION.match(value.strip()):
            raise ValueError(
                f"`{value}` is not a duration; write a number and a unit, e.g. '1d', '7d', '12h'"
            )
        return value

    def expected_seconds(self) -> int | None:
        """How often the data should change, in seconds: `update_every`, else the schedule's
        interval; None for a cron or manual source without `update_every`."""
        if self.update_every is not None:
            return duration_seconds(self.update_every)
        return self.schedule.seconds() if self.schedule is not None else None

    @field_validator("licence")
    @classmethod
    def _check_licence(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9+.-]*:\S+$", value):
            raise ValueError(
                f"`{value}` is not an IRI; give the licence's URL, e.g. https://creativecommons.org/licenses/by/4.0/"
            )
        return value


class HubSection(_Strict):
    base_iri: str = "https://hub.example.org/"
    store: str = "var/store"
    data_dir: str = "var"
    keep_versions: int = Field(2, ge=1)
    raw_keep: int = Field(5, ge=0)
    shapes: str | None = None
    mapping_processes: int = Field(1, ge=1)  # >1: map in that many processes (forked workers)

    @field_validator("base_iri")
    @classmethod
    def _check_base(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s<>\"{}|\\^`]+/$", value):
            raise ValueError(
                f"`{value}` must be an http(s) IRI ending in '/', e.g. https://hub.example.org/"
            )
        return value


class StoreSection(_Strict):
    """How the hub reaches its store."""

    backend: str = "server"
    timeout_s: float = Field(30.0, gt=0)
    query_threads: int | None = Field(None, ge=1)
    """The most queries the child server may hold within one `timeout_s` (it keeps a thread
    per query that long); more wait. Default: 3/4 of what the kernel allows a process."""
    max_result_bytes: int = Field(256 * 1024 * 1024, gt=0)
    query_url: str | None = None
    update_url: str | None = None
    graph_store_url: str | None = None
    oxigraph_extensions: bool = False
    atomic_updates: bool = True
    max_update_bytes: int | None = Field(None, gt=0)

    @field_validator("backend")
    @classmethod
    def _check_backend(cls, value: str) -> str:
        if value not in ("server", "embedded", "sparql"):
            raise ValueError(
                f"unknown backend `{value}`; use `server` (the default: a child Oxigraph server "
                "on hub.store), `embedded` (in-process, no query time limit) or `sparql` (an "
                "external SPARQL 1.1 server: set query_url, update_url, graph_store_url)"
            )
        return value


class LogSection(_Strict):
    """What the hub logs (stderr) and how: plain text lines or one JSON object a line."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"

    @field_validator("level", "format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class ServeSection(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    scheduler: bool = True
    max_request_bytes: int = Field(1024 * 1024, gt=0)
    # 0: /api/v1 work in two threads of the server; N: in N worker processes (`v1.processes`)
    api_processes: int = Field(0, ge=0, le=64)


class HubConfig(_Strict):
    """The whole configuration, with paths resolved against the config file's folder."""

    hub: HubSection = Field(default_factory=HubSection)
    store: StoreSection = Field(default_factory=StoreSection)
    quality: Quality = Field(default_factory=Quality)
    serve: ServeSection = Field(default_factory=ServeSection)
    log: LogSection = Field(default_factory=LogSection)
    projects: dict[str, Project] = Field(default_factory=dict)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    users: dict[str, UserConfig] = Field(default_factory=dict)
    root: Path = Path(".")
    path: Path | None = None

    @property
    def base_iri(self) -> str:
        return self.hub.base_iri

    @property
    def store_path(self) -> Path:
        return self.resolve(self.hub.store)

    @property
    def data_path(self) -> Path:
        return self.resolve(self.hub.data_dir)

    @property
    def shapes_path(self) -> Path:
        """The SHACL shapes every run is validated against (bundled ones by default)."""
        if self.hub.shapes:
            return self.resolve(self.hub.shapes)
        return ONTOLOGY_DIR / "shapes.ttl"

    def resolve(self, path: str | Path) -> Path:
        """A path from the config, taken relative to the config file's folder."""
        p = Path(path)
        return p if p.is_absolute() else self.root / p

    def source(self, source_id: str) -> SourceConfig:
        """The source with this id, or a ConfigError listing the known ones."""
        try:
            return self.sources[source_id]
        except KeyError:
            known = ", ".join(sorted(self.sources)) or "(none)"
            raise ConfigError(
                f"no source `{source_id}` in {self.path or 'the config'}; known sources: {known}"
            ) from None

    def quality_for(self, source: SourceConfig) -> Quality:
        """[quality], with the settings the source's own `quality` table gives replacing them."""
        if source.quality is None:
            return self.quality
        return self.quality.model_copy(update=source.quality.model_dump(exclude_unset=True))

    def known_projects(self) -> set[str]:
        """Ids of the projects a source may belong to: the programme file's and [projects]."""
        return set(programme_projects(self.base_iri)) | set(self.projects)


Rows = Iterable[Mapping[str, Any]]


def project_ids(select: Callable[[str], Rows], base_iri: str) -> set[str]:
    """Ids of the projects in the programme graph, read through a SPARQL `select`.

    `select` is a store's (the programme graph as published) or an in-memory one's
    (the programme file, when the config loads): one reading for both.
    """
    iris = Iris(base_iri)
    rows = select(f"SELECT ?p WHERE {{ GRAPH <{iris.programme_graph}> {{ ?p a <{MH}Project> }} }}")
    prefix = iris.project("")
    return {r["p"].value.removeprefix(prefix) for r in rows if r["p"].value.startswith(prefix)}


@functools.lru_cache(maxsize=8)
def programme_projects(base_iri: str) -> frozenset[str]:
    """Ids of the projects of the bundled programme file (ontology/programme.ttl)."""
    iris = Iris(base_iri)
    graph = ox.Store()
    try:
        graph.load(
            path=str(PROGRAMME_FILE),
            format=ox.RdfFormat.TURTLE,
            base_iri=iris.programme_base,
            to_graph=ox.NamedNode(iris.programme_graph),
        )
    except FileNotFoundError:
        raise ConfigError(
            f"ontology file {PROGRAMME_FILE} is missing; restore it from the repository"
        ) from None
    except SyntaxError as exc:
        raise ConfigError(f"{PROGRAMME_FILE} is not valid Turtle: {exc}; fix it") from None
    return frozenset(project_ids(graph.query, base_iri))  # type: ignore[arg-type]


def _key_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def load_config(path: str | Path | None = None) -> HubConfig:
    """Read, check and return the configuration.

    The file is `path`, else `$HUB_CONFIG`, else `./hub.toml`.
    """
    env = EnvOverrides()
    chosen = Path(path or env.config or DEFAULT_CONFIG)
    if not chosen.exists():
        raise ConfigError(
            f"config file {chosen} not found; run from the repository root, "
            "or pass --config FILE, or set HUB_CONFIG"
        )
    try:
        raw = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{chosen}: not valid TOML: {exc}; fix the syntax at that line") from None
    return parse_config(raw, chosen, env)


def parse_config(raw: dict[str, Any], path: Path, env: EnvOverrides | None = None) -> HubConfig:
    """Check a parsed config dict; errors name the key and the fix."""
    env = env or EnvOverrides()
    raw = dict(raw)
    hub = dict(raw.get("hub", {}))
    if env.store:
        hub["store"] = env.store
    if env.data_dir:
        hub["data_dir"] = env.data_dir
    if env.base_iri:
        hub["base_iri"] = env.base_iri
    raw["hub"] = hub
    log = dict(raw.get("log", {}))
    if env.log_level:
        log["level"] = env.log_level
    if env.log_format:
        log["format"] = env.log_format
    raw["log"] = log
    try:
        config = HubConfig.model_validate({**raw, "root": path.resolve().parent, "path": path})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = _key_path(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "is required; add it"
            elif err["type"] == "extra_forbidden":
                msg = "is not a known setting; check its spelling against the README's config reference"
            problems.append(f"  {key}: {msg}")
        raise ConfigError(f"{path}: {len(problems)} problem(s):\n" + "\n".join(problems)) from None
    if config.store.backend == "sparql":
        missing = [
            k
            for k in ("query_url", "update_url", "graph_store_url")
            if not getattr(config.store, k)
        ]
        if missing:
            raise ConfigError(
                f"{path}: store.backend is `sparql`: set store.{', store.'.join(missing)} "
                "(the server's SPARQL query, update and Graph Store Protocol URLs)"
            )
    for source_id, source in config.sources.items():
        if not SOURCE_ID.match(source_id):
            raise ConfigError(
                f"{path}: sources.{source_id}: a source id is lower-case letters, digits and '-' "
                "(it becomes part of IRIs); rename it"
            )
        source.id = source_id
        if not config.resolve(source.mapping).exists():
            raise ConfigError(
                f"{path}: sources.{source_id}.mapping: file {source.mapping} not found; "
                "give the path of the YARRRML mapping, relative to the config file"
            )
    problems = _source_problems(config)
    if problems:
        raise ConfigError(f"{path}: {len(problems)} problem(s):\n" + "\n".join(problems))
    return config


def _source_problems(config: HubConfig) -> list[str]:
    """Each source's options against its kind's declaration, and its project."""
    problems = []
    projects = sorted(config.known_projects())
    for source_id, source in config.sources.items():
        where = f"sources.{source_id}"
        for key, problem in option_problems(source.kind, source.options):
            problems.append(f"  {where}.{key}: {problem}")
        if source.project not in projects:
            close = difflib.get_close_matches(source.project, projects, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            problems.append(
                f"  {where}.project: unknown project `{source.project}`; {hint}known projects: "
                f"{', '.join(projects)} (those of ontology/programme.ttl and of [projects]); "
                f'declare a new one as [projects.{source.project}] with name = "..."'
            )
    for name, user in config.users.items():
        for source_id in user.sources:
            if source_id not in config.sources:
                problems.append(
                    f"  users.{name}.sources: unknown source `{source_id}`; known sources: "
                    f"{', '.join(sorted(config.sources))}"
                )
        for project in user.projects:
            if project not in projects:
                problems.append(f"  users.{name}.projects: unknown project `{project}`")
    return problems


def resolve_secrets(value: Any, *, where: str) -> Any:
    """Replace every `{env = "NAME"}` in `value` by the environment variable's value."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            name = value["env"]
            if name not in os.environ:
                raise ConfigError(
                    f"{where}: environment variable {name} is not set; export it before running"
                )
            return os.environ[name]
        return {k: resolve_secrets(v, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_secrets(v, where=f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def source_options(config: HubConfig, source: SourceConfig) -> dict[str, Any]:
    """The source's options with secrets resolved and relative paths kept as written."""
    return resolve_secrets(source.options, where=f"sources.{source.id}.options")
