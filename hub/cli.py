"""The `hub` command: harvest, check, sources, query, serve, demo; approve, reject, rollback."""

from __future__ import annotations

import argparse
import functools
import getpass
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pyoxigraph as ox

from hub.catalog import run_history, source_statuses
from hub.config import HubConfig, load_config
from hub.errors import HubError
from hub.logs import configure_logging, run_context
from hub.pipeline.programme import load_programme
from hub.pipeline.provenance import RunReport
from hub.pipeline.publish import Publisher
from hub.pipeline.run import run_source
from hub.running import call_running_hub, running_hub, served_elsewhere, serving
from hub.store import GraphResult, Store, connect_store

log = logging.getLogger("hub")
SHOWN_ERRORS = 5


@contextmanager
def _store(config: HubConfig, *, read_only: bool = False, owner: str = "hub") -> Iterator[Store]:
    """The configured store for one command, closed (and its child server stopped) after."""
    owned = not served_elsewhere(config)
    label = f"{owner} (pid {os.getpid()})"
    if owned and config.store.backend == "embedded" and config.store_path.exists():
        # Open it for writing when nobody else has it, so recovery can run; a reader
        # beside another writer (a `hub harvest`) falls back to reading only.
        try:
            store = connect_store(config, write=True, owner=label)
        except HubError:
            owned, store = False, connect_store(config, write=False, owner=label)
    else:
        store = connect_store(config, write=not read_only, owner=label)
    try:
        if owned:
            recover(config, store)
        yield store
    finally:
        store.close()


def recover(config: HubConfig, store: Store) -> None:
    """Finish what a stopped hub left half-done, then bring the read model, the change feed
    and the dumps up to date."""
    from hub.feed import sync as sync_feed
    from hub.pipeline.dumps import sync_dumps
    from hub.pipeline.migrate import migrate_schema_namespace
    from hub.readmodel import sync

    Publisher(config, store).recover()
    migrate_schema_namespace(config, store)  # https://schema.org/ -> http:// (decisions #28)
    for source_id, done in sync(config).items():
        if not done.startswith(("up to date", "not published")):
            log.info("read model: %s %s", source_id, done)
    for source_id, done in sync_feed(config).items():
        if not done.startswith(("up to date", "not published")):
            log.info("change feed: %s %s", source_id, done)
    for source_id in sync_dumps(config, store):
        log.info("dumps: %s written", source_id)


def _progress(source_id: str):  # noqa: ANN202
    if not sys.stderr.isatty():
        return None

    def show(count: int) -> None:
        sys.stderr.write(f"\r  {source_id}: {count:,} records…")
        sys.stderr.flush()

    return show


def print_report(report: RunReport) -> None:
    """The one-line summary, then the first errors and warnings."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    print(report.summary())
    for error in report.errors[:SHOWN_ERRORS]:
        print(f"    error: {error}")
    if len(report.errors) > SHOWN_ERRORS:
        more = len(report.errors) - SHOWN_ERRORS
        print(
            f"    … and {more} more (`hub runs {report.source} --run {report.run_id}` lists them)"
        )
    for warning in report.warnings[:SHOWN_ERRORS]:
        print(f"    warning: {warning}")


def harvest_all(config: HubConfig, store: Store, source_ids: Sequence[str]) -> bool:
    """Run the named sources (all when none); True when every run published."""
    ids = list(source_ids) or list(config.sources)
    for source_id in ids:
        config.source(source_id)  # unknown ids fail before anything runs
    load_programme(store, config)
    ok = True
    for source_id in ids:
        with run_context(source_id):
            report = run_source(config, store, source_id, progress=_progress(source_id))
        print_report(report)
        ok = ok and report.ok
    store.flush()
    return ok


def cmd_harvest(config: HubConfig, args: argparse.Namespace) -> int:
    with _store(config, owner="hub harvest") as store:
        return 0 if harvest_all(config, store, args.sources) else 1


def cmd_remap(config: HubConfig, args: argparse.Namespace) -> int:
    with _store(config, owner="hub remap") as store:
        load_programme(store, config)
        report = run_source(config, store, args.source, replay=args.run or "latest")
    print_report(report)
    return 0 if report.ok else 1


def cmd_check(config: HubConfig, args: argparse.Namespace) -> int:
    """Stage, validate and gate a source without publishing; the store is never opened."""
    import json

    from hub.pipeline.check import check_source, format_text

    result = check_source(config, args.source, limit=args.limit, snapshot=args.snapshot)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        print(format_text(result, config, args.lang))
    return result.exit_code


def _decision(config: HubConfig, args: argparse.Namespace, action: str) -> int:
    """approve / reject / rollback: here, or through the running hub that owns the store."""
    config.source(args.source)
    actor = f"{getpass.getuser()} (hub {action})"
    if running_hub(config) is not None:
        answer = call_running_hub(config, action, args.source, args.run, reason=args.reason)
        print(answer["summary"])
        return 0 if answer["status"] in ("published", "unchanged", "rejected") else 1
    with _store(config, owner=f"hub {action}") as store:
        decide = getattr(Publisher(config, store), action)
        report = decide(args.source, args.run, reason=args.reason, actor=actor)
    print_report(report)
    return 0 if report.status in ("published", "unchanged", "rejected") else 1


def cmd_runs(config: HubConfig, args: argparse.Namespace) -> int:
    """The run history of one source, its held runs and its kept versions; or one run's report."""
    config.source(args.source)
    if args.run:
        return _print_run_report(config, args.source, args.run)
    if not config.store_path.exists() and config.store.backend != "sparql":
        print(f"(no store yet at {config.store_path}: run `hub harvest {args.source}`)")
        return 0
    with _store(config, read_only=True) as store:
        total, runs = run_history(store, config, args.source, None, max(1, args.limit), 0)
        publisher = Publisher(config, store, subscribers=[])
        published, held = publisher.published_run(args.source), publisher.held_runs(args.source)
        kept = publisher.versions(args.source)
    rows = [("RUN", "STARTED", "STATUS", "RECORDS", "TRIPLES", "MESSAGE")]
    for run in runs:
        rows.append(
            (
                run["id"].split("/", 1)[-1],
                run["started"][:19],
                run["status"],
                str(run["records"] if run["records"] is not None else "-"),
                str(run["triples"] if run["triples"] is not None else "-"),
                (run["message"] or "")[:100],
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    print(f"({len(runs)} of {total} runs)")
    print(f"published version: {published or 'none'}")
    print(f"held for review: {', '.join(held) or 'none'}")
    print(f"kept versions (hub rollback --run): {', '.join(kept) or 'none'}")
    return 0


def _print_run_report(config: HubConfig, source: str, run_id: str) -> int:
    """A run's report (the file in the data folder; it quotes record values)."""
    import json

    from hub.layout import DataLayout
    from hub.pipeline.reports import load_report
    from hub.review import check_run_id

    check_run_id(run_id)
    report = load_report(DataLayout(config.data_path), source, run_id)
    if report is None:
        raise HubError(
            f"run {run_id} of `{source}` kept no report (decisions keep none; "
            f"reports of old runs are pruned); `hub runs {source}` lists the runs"
        )
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def cmd_user(config: HubConfig, args: argparse.Namespace) -> int:
    """Accounts: add (prints the new token once), list, remove, hash (for [users] in hub.toml)."""
    from hub.accounts import Accounts, add_user, hash_token, remove_user

    if args.action == "add":
        if not args.name:
            raise HubError("give the user's name: hub user add NAME --role steward --source ID")
        token, account = add_user(
            config, args.name, args.role, sources=args.source, projects=args.project
        )
        scope = ", ".join(account.decides_for(config)) or "none"
        print(f"user `{account.name}` ({account.role}); decides for: {scope}")
        print(f"token (shown once; the hub keeps only its hash): {token}")
        return 0
    if args.action == "remove":
        if not args.name:
            raise HubError("give the user's name: hub user remove NAME")
        remove_user(config, args.name)
        print(f"user `{args.name}` removed; its token no longer works")
        return 0
    if args.action == "hash":
        token = sys.stdin.readline().strip()
        if len(token) < 16:
            raise HubError("give the token on standard input (16 characters at least)")
        print(hash_token(token))
        return 0
    for account in Accounts.load(config).by_name.values():
        scope = ", ".join(account.decides_for(config)) or "-"
        print(f"{account.name}\t{account.role}\t{account.origin}\tdecides for: {scope}")
    return 0


def cmd_schedule(config: HubConfig, args: argparse.Namespace) -> int:
    """When each source runs next under `hub serve` (UTC), from its schedule."""
    from hub.scheduler import next_runs

    runs = next_runs(config)  # kept across restarts in the data folder, else counted from now
    rows = [("SOURCE", "SCHEDULE", "NEXT RUN (UTC)")]
    for source in config.sources.values():
        if source.id not in runs or source.schedule is None:
            rows.append((source.id, "manual", "-"))
            continue
        text = source.schedule.cron or f"every {source.schedule.every}"
        upcoming = runs[source.id]
        rows.append((source.id, text, upcoming.strftime("%Y-%m-%d %H:%M") if upcoming else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_sources(config: HubConfig, args: argparse.Namespace) -> int:
    if not config.store_path.exists():
        print(f"(no store yet at {config.store_path}: run `hub harvest`)")
        statuses = None
    else:
        with _store(config, read_only=True) as store:
            statuses = source_statuses(store, config)
    rows = [("SOURCE", "PROJECT", "KIND", "SCHEDULE", "LAST RUN", "STATUS", "TRIPLES", "FRESH")]
    for s in statuses or []:
        rows.append(
            (
                s.id,
                s.project,
                s.kind,
                s.schedule,
                (s.last_run or "never")[:19],
                s.last_status or "-",
                str(s.published_triples),
                "LATE" if s.late else "ok",
            )
        )
    if statuses is None:
        for source in config.sources.values():
            rows.append((source.id, source.project, source.kind, "", "never", "-", "0", "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    failing = [s for s in statuses or [] if s.last_status not in (None, "published")]
    for s in failing:
        print(f"  {s.id}: {s.last_message}")
    return 0


_FORMATS = {
    "table": None,
    "json": ox.QueryResultsFormat.JSON,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "xml": ox.QueryResultsFormat.XML,
}


def cmd_query(config: HubConfig, args: argparse.Namespace) -> int:
    from hub.iris import schema_namespace_warning

    warning = schema_namespace_warning(args.sparql)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    with _store(config, read_only=True) as store:
        # Relative IRIs name the hub's own resources: `<id/places/p1>` (a BASE in the query wins).
        result = store.query(args.sparql, base_iri=config.base_iri)
        if isinstance(result, ox.QueryBoolean):
            print("true" if bool(result) else "false")
            return 0
        if isinstance(result, ox.QueryTriples | GraphResult):
            sys.stdout.buffer.write(result.serialize(format=ox.RdfFormat.TURTLE) or b"")
            return 0
        fmt = _FORMATS[args.format]
        if fmt is not None:
            sys.stdout.buffer.write(result.serialize(format=fmt) or b"")
            return 0
        names = [v.value for v in result.variables]
        print("\t".join(names))
        for row in result:
            print("\t".join("" if row[n] is None else _short(row[n]) for n in names))
    return 0


def _short(term: object) -> str:
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    return str(term)


def serve(config: HubConfig, store: Store, host: str, port: int, *, scheduler: bool) -> None:
    """Serve the API (and run the scheduler) until interrupted."""
    import uvicorn

    from hub.api import create_app
    from hub.api.v1.processes import close_pool
    from hub.scheduler import start_scheduler

    # Jobs persist in the data folder: next run times survive a restart (docs/decisions.md #18).
    jobs = start_scheduler(config, store) if scheduler else None
    app = create_app(config, store, scheduler=jobs)
    print(f"Marittimo Hub serving on http://{host}:{port}/  (SPARQL: http://{host}:{port}/sparql)")
    try:
        with serving(config, f"http://{host}:{port}"):
            # log_config=None: uvicorn's records go through the hub's handler (text or JSON).
            uvicorn.run(app, host=host, port=port, log_level=config.log.level, log_config=None)
    finally:
        close_pool(app.state)  # [serve] api_processes
        if jobs is not None:
            jobs.shutdown(wait=False)
        store.flush()


def cmd_serve(config: HubConfig, args: argparse.Namespace) -> int:
    with _store(config, owner="hub serve") as store:
        load_programme(store, config)
        serve(
            config,
            store,
            args.host or config.serve.host,
            args.port or config.serve.port,
            scheduler=config.serve.scheduler and not args.no_scheduler,
        )
    return 0


def cmd_demo(config: HubConfig, args: argparse.Namespace) -> int:
    from hub.demo import build_demo_databases
    from hub.demo.servers import demo_servers

    build_demo_databases(config.root)
    with demo_servers(), _store(config, owner="hub demo") as store:
        ok = harvest_all(config, store, [])
        if not ok:
            print("some demo sources failed (see above); serving what was published")
        serve(
            config,
            store,
            args.host or config.serve.host,
            args.port or config.serve.port,
            scheduler=False,
        )
    return 0


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--config", default=default, help="config file (default: $HUB_CONFIG or ./hub.toml)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", default=default, help="log more")


def cmd_config_check(config: HubConfig, args: argparse.Namespace) -> int:
    """The config loaded (every check passed): say what it holds."""
    kinds = sorted({s.kind for s in config.sources.values()})
    print(
        f"{config.path}: ok — {len(config.sources)} source(s) ({', '.join(kinds) or 'none'}), "
        f"store backend `{config.store.backend}`, data in {config.data_path}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hub",
        description=__doc__,
        epilog="Exit status: 0 ok; 1 a run failed (or, for `check`, would fail); "
        "2 bad configuration or usage; 3 `check`: the run would be held; 130 interrupted.",
    )
    _global_options(parser, None)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    # The same options after the command (`hub sources --config X`); SUPPRESS keeps the
    # value given before the command when they are not repeated after it.
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    add = functools.partial(sub.add_parser, parents=[common])

    p = add("config", help="check hub.toml and say what it holds (`hub config check`)")
    p.add_argument("action", choices=["check"])
    p.set_defaults(func=cmd_config_check)

    p = add("harvest", help="harvest, map, validate and publish sources")
    p.add_argument("sources", nargs="*", help="source ids (default: all)")
    p.set_defaults(func=cmd_harvest)

    p = add("remap", help="map a source's last raw snapshot again, without fetching")
    p.add_argument("source")
    p.add_argument("--run", help="the run whose snapshot to replay (default: the newest)")
    p.set_defaults(func=cmd_remap)

    p = add(
        "check",
        help="harvest, map and validate a source into a scratch folder and show what a run "
        "would do (exit 0: would publish, 3: held, 1: failed); publishes nothing",
    )
    p.add_argument("source")
    p.add_argument("--limit", type=int, default=3, help="records to show with their triples")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument(
        "--lang", choices=["en", "it", "fr"], default="en", help="language of SHACL messages"
    )
    p.add_argument(
        "--snapshot", action="store_true", help="map the latest raw snapshot instead of harvesting"
    )
    p.set_defaults(func=cmd_check)

    for action, text, run_help in (
        ("approve", "publish a run that was held for review", "the held run (default: the newest)"),
        ("reject", "discard a run that was held for review", "the held run (default: the newest)"),
        (
            "rollback",
            "publish again an earlier version of a source",
            "the version (a run id; default: the one before the current)",
        ),
    ):
        p = add(action, help=text)
        p.add_argument("source")
        p.add_argument("--run", *(["--to"] if action == "rollback" else []), help=run_help)
        p.add_argument(
            "--reason",
            default="",
            required=action == "reject",
            help="why (kept in the run's record; required to reject)",
        )
        p.set_defaults(func=lambda config, args, action=action: _decision(config, args, action))

    p = add("runs", help="a source's runs, newest first, and its held runs and kept versions")
    p.add_argument("source")
    p.add_argument("--limit", type=int, default=20, help="how many runs (default: 20)")
    p.add_argument("--run", help="print this run's report (JSON: errors, gates, SHACL, changes)")
    p.set_defaults(func=cmd_runs)

    p = add("user", help="accounts of stewards, viewers and admins: add, list, remove, hash")
    p.add_argument("action", choices=["add", "list", "remove", "hash"])
    p.add_argument("name", nargs="?", help="the user's name (add, remove)")
    p.add_argument("--role", choices=["admin", "steward", "viewer"], default="steward")
    p.add_argument("--source", action="append", default=[], help="a source the steward decides for")
    p.add_argument("--project", action="append", default=[], help="a project whose sources too")
    p.set_defaults(func=cmd_user)

    p = add("schedule", help="when each scheduled source runs next (under `hub serve`)")
    p.set_defaults(func=cmd_schedule)

    p = add("sources", help="list sources with their last run")
    p.set_defaults(func=cmd_sources)

    p = add("query", help="run a SPARQL query against the store")
    p.add_argument("sparql")
    p.add_argument("--format", choices=sorted(_FORMATS), default="table")
    p.set_defaults(func=cmd_query)

    for name, func, text in (
        ("serve", cmd_serve, "serve the SPARQL endpoint and API, with the scheduler"),
        ("demo", cmd_demo, "harvest the bundled demo sources, then serve"),
    ):
        p = add(name, help=text)
        p.add_argument("--host", default=None)
        p.add_argument("--port", type=int, default=None)
        if name == "serve":
            p.add_argument("--no-scheduler", action="store_true", help="do not run schedules")
        p.set_defaults(func=func)
    return parser


def exit_on_sigterm(signum: int, frame: object) -> None:
    """A SIGTERM handler: exit through `SystemExit`, so `finally` blocks stop the store
    server and the API's worker pool cleanly (uvicorn raises the signal again once it has
    shut down; the default action would end the process before them)."""
    raise SystemExit(128 + signum)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("marittimo-hub")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, exit_on_sigterm)
    configure_logging(verbose=args.verbose)  # until the config says more ([log])
    try:
        config = load_config(args.config)
        configure_logging(config.log.level, config.log.format, verbose=args.verbose)
        return args.func(config, args)
    except HubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
