"""The steward pages at /steward: sources and their agreements, runs, a run's report, the
`hub check` view, and the approve / reject / rollback / harvest buttons.

Server-rendered (Jinja2 templates in `templates/steward/`), no JavaScript. A steward signs
in with an account token (`hub user add`); the session is an HttpOnly, SameSite=Strict
cookie holding it, and every form carries a token tied to that session (CSRF). Decisions
go through `hub.review.decide`, the one path the API and the CLI use.
"""

from __future__ import annotations

import hmac
import threading
from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from hub.accounts import Account
from hub.api.auth import SESSION_COOKIE, accounts, actor_of, csrf_token, current_account
from hub.api.deps import ConfigDep, StoreDep
from hub.catalog import source_statuses
from hub.config import HubConfig, SourceConfig
from hub.errors import HubError
from hub.layout import DataLayout
from hub.pipeline.check import display_prefixes, short_iri
from hub.review import ReviewError, decide, run_detail, source_runs

router = APIRouter(prefix="/steward", include_in_schema=False)
LANGUAGES = ("en", "it", "fr")
SESSION_SECONDS = 8 * 3600


@cache
def templates() -> Environment:
    """The pages' templates (autoescaped: every value from a source is text, never markup)."""
    return Environment(
        loader=PackageLoader("hub.api", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(
    request: Request, name: str, account: Account | None, http_status: int = 200, **values: Any
) -> HTMLResponse:
    source = values.get("source")
    if isinstance(source, SourceConfig):
        prefixes = display_prefixes(request.app.state.config, source.id)
        values["short"] = lambda iri: short_iri(iri, prefixes) if iri else ""
    page = (
        templates()
        .get_template(f"steward/{name}.html")
        .render(
            account=account,
            csrf=csrf_token(request),
            done=request.query_params.get("done", "")[:300],
            failed=request.query_params.get("failed", "")[:600],
            **values,
        )
    )
    return HTMLResponse(
        page,
        status_code=http_status,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self'; frame-ancestors 'none'",
            "X-Frame-Options": "DENY",
        },
    )


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/steward/login?{urlencode({'next': target})}", status_code=303)


def _back(path: str, *, done: str = "", failed: str = "") -> RedirectResponse:
    query = urlencode({k: v for k, v in (("done", done), ("failed", failed)) if v})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def _source_or_404(
    request: Request, config: HubConfig, source_id: str, account: Account
) -> SourceConfig | HTMLResponse:
    source = config.sources.get(source_id)
    if source is None:
        return _render(request, "error", account, 404, message=f"no source `{source_id}`")
    return source


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang", "en")
    return lang if lang in LANGUAGES else "en"


# -- signing in ------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """The sign-in form (a token from `hub user add`)."""
    return _render(request, "login", current_account(request), next=_safe_next(request))


def _safe_next(request: Request, given: str | None = None) -> str:
    target = given if given is not None else request.query_params.get("next", "")
    # Only paths of these pages: never an absolute URL (no open redirect).
    return target if target.startswith("/steward") and "//" not in target else "/steward"


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request, token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""
) -> Response:
    """Check the token; on success set the session cookie and go where the steward was going."""
    account = accounts(request).authenticate(token.strip())
    if account is None:
        return _render(
            request,
            "login",
            None,
            401,
            next=_safe_next(request, next),
            error="That token belongs to no account. Ask an admin for one (`hub user add`).",
        )
    response = RedirectResponse(_safe_next(request, next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token.strip(),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """Forget the session."""
    response = RedirectResponse("/steward/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- reading -----------------------------------------------------------------------
@router.get("", response_class=HTMLResponse)
def sources_page(request: Request, config: ConfigDep, store: StoreDep) -> Response:
    """Every source: status, owner, stewards, freshness against its expected update."""
    account = current_account(request)
    if account is None:
        return _to_login(request)
    known = accounts(request)
    layout = DataLayout(config.data_path)
    rows = []
    for status in source_statuses(store, config):
        source = config.sources[status.id]
        rows.append(
            {
                "source": source,
                "status": status,
                "stewards": known.stewards_of(source),
                "held": len(list(layout.held(source.id).glob("*.nt"))),
                "mine": account.may_decide(source),
            }
        )
    return _render(request, "sources", account, rows=rows)


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source_page(source_id: str, request: Request, config: ConfigDep, store: StoreDep) -> Response:
    """One source: its agreement, what is published, held runs, runs, kept versions."""
    account = current_account(request)
    if account is None:
        return _to_login(request)
    source = _source_or_404(request, config, source_id, account)
    if isinstance(source, HTMLResponse):
        return source
    runs = source_runs(store, config, source_id, size=50)
    status = {s.id: s for s in source_statuses(store, config)}[source_id]
    return _render(
        request,
        "source",
        account,
        source=source,
        status=status,
        runs=runs,
        stewards=accounts(request).stewards_of(source),
        may_decide=account.may_decide(source),
    )


@router.get("/sources/{source_id}/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    source_id: str, run_id: str, request: Request, config: ConfigDep, store: StoreDep
) -> Response:
    """A run's report: errors, gates (drift), SHACL by shape, change preview; the decisions."""
    account = current_account(request)
    if account is None:
        return _to_login(request)
    source = _source_or_404(request, config, source_id, account)
    if isinstance(source, HTMLResponse):
        return source
    may_decide = account.may_decide(source)
    try:
        detail = run_detail(store, config, source_id, run_id, with_values=may_decide)
    except ReviewError as exc:
        return _render(request, "error", account, exc.status, message=str(exc))
    return _render(
        request,
        "run",
        account,
        source=source,
        detail=detail,
        report=detail["report"],
        may_decide=may_decide,
        lang=_lang(request),
        languages=LANGUAGES,
    )


@router.get("/sources/{source_id}/check", response_class=HTMLResponse)
def check_page(source_id: str, request: Request, config: ConfigDep) -> Response:
    """`hub check` of the source: harvest, map, validate and gate in a scratch folder."""
    from hub.pipeline.check import check_source

    account = current_account(request)
    if account is None:
        return _to_login(request)
    source = _source_or_404(request, config, source_id, account)
    if isinstance(source, HTMLResponse):
        return source
    if not account.may_decide(source):
        return _render(
            request, "error", account, 403,
            message=f"checking `{source_id}` fetches from its source: for its stewards and admins",
        )  # fmt: skip
    snapshot = request.query_params.get("snapshot") == "1"
    try:
        result = check_source(config, source_id, limit=3, snapshot=snapshot)
    except HubError as exc:
        return _render(request, "error", account, 409, message=str(exc))
    return _render(request, "check", account, source=source, result=result.as_dict())


# -- deciding ------------------------------------------------------------------------
def _decider(request: Request, config: HubConfig, source_id: str, csrf: str) -> Account | Response:
    """The signed-in account that may decide for the source, or the response that says why not."""
    account = current_account(request)
    if account is None:
        return _render(request, "error", None, 401, message="sign in first (your session ended)")
    if not hmac.compare_digest(csrf, csrf_token(request)):
        return _render(
            request, "error", account, 403,
            message="this form is out of date (or came from another site): reload the page",
        )  # fmt: skip
    source = config.sources.get(source_id)
    if source is None:
        return _render(request, "error", account, 404, message=f"no source `{source_id}`")
    if not account.may_decide(source):
        return _render(
            request, "error", account, 403,
            message=f"`{account.name}` ({account.role}) may not decide for `{source_id}`",
        )  # fmt: skip
    return account


def _decide(
    request: Request,
    config: HubConfig,
    store: Any,
    action: str,
    source_id: str,
    run_id: str | None,
    reason: str,
    csrf: str,
) -> Response:
    account = _decider(request, config, source_id, csrf)
    if isinstance(account, Response):
        return account
    back = f"/steward/sources/{quote(source_id)}"
    try:
        report = decide(
            config, store, action, source_id, run_id, reason=reason, actor=actor_of(account)
        )
    except ReviewError as exc:
        return _back(back, failed=str(exc))
    return _back(back, done=f"{action}: {report.summary()}")


@router.post("/sources/{source_id}/runs/{run_id}/{action}")
def approve_or_reject(
    source_id: str,
    run_id: str,
    action: Literal["approve", "reject"],
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    csrf: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """The approve and reject buttons of a held run's page."""
    return _decide(request, config, store, action, source_id, run_id, reason, csrf)


@router.post("/sources/{source_id}/rollback")
def rollback(
    source_id: str,
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    csrf: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    to: Annotated[str, Form()] = "",
) -> Response:
    return _decide(request, config, store, "rollback", source_id, to or None, reason, csrf)


@router.post("/sources/{source_id}/harvest")
def harvest(
    source_id: str,
    request: Request,
    config: ConfigDep,
    store: StoreDep,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Run the source now, in the background; its run appears on the source's page."""
    account = _decider(request, config, source_id, csrf)
    if isinstance(account, Response):
        return account
    from hub.scheduler import run_locked

    threading.Thread(target=run_locked, args=(config, store, source_id), daemon=True).start()
    return _back(
        f"/steward/sources/{quote(source_id)}",
        done="harvest started: reload in a moment to see its run",
    )
