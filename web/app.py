"""The Starlette application behind `rezonans serve`: pages in Russian and a JSON API under /api/."""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from elasticsearch import Elasticsearch
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from indexer.client import connect
from pipeline.corrections import corrections_for, set_tone
from report import render
from report.labels import Labels
from rezonans import formats
from rezonans.config import Settings
from rezonans.errors import RezonansError, ServiceError, UserError
from search import exports
from search.engine import Hit
from search.saved import SearchFilters, delete_saved, list_saved, resolve_saved, save_search
from web import charts, views
from web.auth import LOCAL_USER, new_token, same_token, verify_password

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TONES = {"positive": "позитив", "neutral": "нейтрально", "negative": "негатив"}
METRICS = {"volume": "объём", "negative": "негатив", "negative_share": "доля негатива", "new_story": "новый сюжет"}
KINDS = {
    "spike": "всплеск",
    "drop": "спад",
    "level_up": "устойчивый рост",
    "level_down": "устойчивое падение",
    "new_story": "новый сюжет",
}
TYPES = {
    "rss": "RSS",
    "sitemap": "карта сайта",
    "site": "сайт",
    "telegram": "Telegram",
    "vk": "ВКонтакте",
    "reviews": "отзывы",
    "forum": "форум",
    "manual": "вручную",
}
PUBLIC_PATHS = ("/login", "/static/")


def marked(snippet: str, spans: list[Any]) -> Markup:
    """A snippet with <mark> around the matches; every piece of crawled text is escaped."""
    out, last = [], 0
    for s, e in spans:
        out.append(escape(snippet[last:s]))
        out.append(Markup("<mark>") + escape(snippet[s:e]) + Markup("</mark>"))
        last = e
    out.append(escape(snippet[last:]))
    return Markup("").join(out)


def safe_url(url: str | None) -> str:
    """A crawled link only when it is http(s) (no javascript: or data: URLs on the page)."""
    return url if url and url.lower().startswith(("http://", "https://")) else ""


def safe_next(target: str | None, default: str = "/feed") -> str:
    """A redirect target inside this site only."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


class AuthMiddleware(BaseHTTPMiddleware):
    """With users configured, every page but /login needs a logged-in session (the API answers 401)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Let the request through, or send it to the login page."""
        users = request.app.state.users
        path = request.url.path
        if users and not request.session.get("user") and not path.startswith(PUBLIC_PATHS):
            if path.startswith("/api/"):
                return JSONResponse({"error": "login required: POST /login first"}, status_code=401)
            return RedirectResponse("/login?" + urlencode({"next": str(request.url.path)}), status_code=303)
        return await call_next(request)


def current_user(request: Request) -> str:
    """The logged-in user, or 'local' on a loopback server without users."""
    return str(request.session.get("user") or LOCAL_USER)


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = new_token()
        request.session["csrf"] = token
    return str(token)


async def checked_form(request: Request) -> Any:
    """The posted form, after checking its CSRF token against the session's (403 otherwise)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError as exc:
            raise HTTPException(400, "the body is not JSON") from exc
        form: Any = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    else:
        form = await request.form()
    given = form.get("csrf") or request.headers.get("x-csrf-token")
    if not same_token(str(given) if given else None, request.session.get("csrf")):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")
    return form


class Web:
    """The routes, sharing one Elasticsearch client, the templates and the brand names."""

    def __init__(self, settings: Settings, client: Elasticsearch | None = None) -> None:
        self.settings = settings
        self.client = client or connect(settings)
        self.names = views.brand_names(settings)
        self.options = views.OptionsCache()
        # Autoescape every template (the .j2 names would escape nothing by the default extension rule).
        env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True)
        self.templates = Jinja2Templates(env=env)
        env.filters.update(marked=marked, safe_url=safe_url, local_time=views.local_time)
        labels = Labels(settings.language)
        env.filters["num"] = lambda value, digits=0: formats.number(value, max(digits, 1), settings.language)
        env.filters["change"] = labels.change
        env.globals.update(
            TONES=TONES, TYPES=TYPES, METRICS=METRICS, KINDS=KINDS, brand_name=lambda b: self.names.get(b, b)
        )

    # -- helpers ---------------------------------------------------------------------------------
    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        """Render a page with the common context (user, CSRF token, login state)."""
        context.update(
            user=current_user(request),
            login=bool(request.app.state.users),
            csrf=csrf_token(request),
            path=request.url.path,
        )
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def ex(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking library call in the thread pool."""
        return run_in_threadpool(func, *args, **kwargs)

    # -- feed ------------------------------------------------------------------------------------
    async def feed(self, request: Request) -> Response:
        """The mention feed: query box, filters, highlighted results, paging, exports, saved searches."""
        params = request.query_params
        saved_name = params.get("saved", "").strip()
        error = ""
        if saved_name:
            saved = await self.ex(resolve_saved, self.client, self.settings, saved_name)
            query, filters = saved.query, saved.filters
        else:
            query, filters = views.filters_from(params)
        try:
            page_no = max(1, int(params.get("page", "1") or 1))
        except ValueError:
            page_no = 1
        result = None
        try:
            result = await self.ex(views.feed_page, self.client, self.settings, query, filters, page_no)
        except UserError as exc:
            error = exc.display()
        options = await self.ex(self.options.get, self.client, self.settings)
        saved_list = await self.ex(list_saved, self.client, self.settings)
        fixes: dict[str, dict[str, Any]] = {}
        if result and result.hits:
            found = await self.ex(corrections_for, self.client, self.settings, [h.id for h in result.hits])
            fixes = {i: {c.brand: c for c in cs if c.mention_start is None} for i, cs in found.items()}
        state = _feed_params(query, filters)
        pages = max(1, -(-result.total // result.size)) if result else 1
        return self.page(
            request,
            "feed.html.j2",
            status=400 if error else 200,
            q=query,
            f=filters,
            result=result,
            error=error,
            options=options,
            saved=saved_list,
            saved_name=saved_name,
            fixes=fixes,
            state=state,
            qs=urlencode(state, doseq=True),
            pages=pages,
            page_link=lambda n: "/feed?" + urlencode({**state, "page": n}, doseq=True),
        )

    async def feed_export(self, request: Request) -> Response:
        """The whole current result as CSV (Excel, Russian locale), XLSX or JSON lines."""
        fmt = request.path_params["fmt"]
        query, filters = views.filters_from(request.query_params)

        def collect() -> list[Hit]:
            return list(views.feed_all(self.client, self.settings, query, filters))

        hits = await self.ex(collect)
        if fmt == "csv":
            body, kind = exports.to_csv(hits), "text/csv; charset=utf-8"
        elif fmt == "xlsx":
            body = await self.ex(exports.to_xlsx, hits)
            kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        elif fmt == "jsonl":
            body, kind = exports.to_jsonl(hits), "application/x-ndjson; charset=utf-8"
        else:
            raise HTTPException(404, "export formats: csv, xlsx, jsonl")
        return Response(
            body, media_type=kind, headers={"Content-Disposition": f'attachment; filename="rezonans-feed.{fmt}"'}
        )

    async def tone(self, request: Request) -> Response:
        """Correct the tone of an article (or one mention) towards a brand, then go back."""
        form = await checked_form(request)
        start = str(form.get("mention_start") or "").strip()
        await self.ex(
            set_tone,
            self.client,
            self.settings,
            str(form.get("article_id") or ""),
            str(form.get("brand") or ""),
            str(form.get("sentiment") or ""),
            current_user(request),
            int(start) if start.isdigit() else None,
            str(form.get("placement") or "") or None,
        )
        return RedirectResponse(safe_next(str(form.get("next") or "")), status_code=303)

    async def save(self, request: Request) -> Response:
        """Save the feed's current query and filters under a name."""
        form = await checked_form(request)
        query, filters = views.filters_from(form)
        saved = await self.ex(
            save_search, self.client, self.settings, str(form.get("name") or ""), query, filters, current_user(request)
        )
        return RedirectResponse("/feed?" + urlencode({"saved": saved.name}), status_code=303)

    async def unsave(self, request: Request) -> Response:
        """Delete a saved search."""
        form = await checked_form(request)
        await self.ex(delete_saved, self.client, self.settings, str(form.get("name") or ""))
        return RedirectResponse("/feed", status_code=303)

    # -- reports ---------------------------------------------------------------------------------
    def _report_args(self, request: Request) -> dict[str, Any]:
        params = request.query_params
        return {
            "brand": params.get("brand", "").strip().lower(),
            "week": params.get("week", "").strip() or None,
            "month": params.get("month", "").strip() or None,
            "date_from": params.get("from", "").strip() or None,
            "date_to": params.get("to", "").strip() or None,
        }

    async def report(self, request: Request) -> Response:
        """The weekly/monthly report for a brand with charts and downloads (figures from report.build)."""
        args = self._report_args(request)
        options = await self.ex(self.options.get, self.client, self.settings)
        brands = sorted(set(self.names) | set(options.brands))
        rep, error = None, ""
        if args["brand"]:
            try:
                rep = await self.ex(views.report_data, self.client, self.settings, **args)
            except UserError as exc:
                error = exc.display()
        context: dict[str, Any] = {"args": args, "brands": brands, "rep": rep, "error": error}
        if rep:
            names = {r["brand"]: self.names.get(r["brand"], r["brand"]) for r in rep["share_of_voice"]}
            context["charts"] = {
                "daily": charts.daily_chart(rep["daily"]),
                "tone": charts.tone_chart(rep["tone"]),
                "sov": charts.sov_chart(rep["share_of_voice"], rep["brand"], names),
            }
            query = {k: v for k, v in args.items() if v}
            context["download"] = lambda fmt: "/report/download?" + urlencode({**_report_qs(query), "format": fmt})
            context["pdf"] = True
        return self.page(request, "report.html.j2", status=400 if error else 200, **context)

    async def report_download(self, request: Request) -> Response:
        """The report as HTML, XLSX, Markdown, JSON (or PDF when report.render offers it), as `rezonans report` writes it."""
        args = self._report_args(request)
        fmt = request.query_params.get("format", "html")
        if not args["brand"]:
            raise UserError("choose a brand")
        rep = await self.ex(views.report_data, self.client, self.settings, **args)
        name = f"report-{rep['brand']}-{rep['period'].replace('..', '_')}"
        if fmt == "html":
            body: bytes = (await self.ex(render.to_html, rep, self.settings.language)).encode("utf-8")
            kind = "text/html; charset=utf-8"
        elif fmt == "md":
            body, kind = render.to_markdown(rep, self.settings.language).encode("utf-8"), "text/markdown; charset=utf-8"
        elif fmt == "json":
            body, kind = json.dumps(rep, ensure_ascii=False, indent=2).encode("utf-8"), "application/json"
        elif fmt in ("xlsx", "pdf"):
            writer = render.to_pdf if fmt == "pdf" else render.to_xlsx
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"{name}.{fmt}"
                await self.ex(writer, rep, path, self.settings.language)
                body = path.read_bytes()
            kind = (
                "application/pdf"
                if fmt == "pdf"
                else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
        else:
            raise UserError("format must be html, xlsx, md, json or pdf")
        return Response(body, media_type=kind, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})

    # -- alerts ----------------------------------------------------------------------------------
    async def alerts(self, request: Request) -> Response:
        """Recent alerts from the alert state file, with their spike and a link to the mentions behind them."""
        rows = await self.ex(views.recent_alerts, self.settings)
        options = await self.ex(self.options.get, self.client, self.settings)
        known = set(self.names) | set(options.brands)  # brands on the cards or in the index
        for row in rows:
            row["chart"] = charts.spike_chart(float(row.get("observed") or 0), float(row.get("expected") or 0))
            row["feed"] = "/feed?" + urlencode(views.alert_feed_params(row, known))
            row["when"] = views.local_time(row.get("bucket_start_iso"))
        return self.page(request, "alerts.html.j2", rows=rows)

    # -- login -----------------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        """Login form (GET) and check (POST)."""
        users: dict[str, str] = request.app.state.users
        nxt = safe_next(request.query_params.get("next"))
        if request.method == "GET":
            return self.page(request, "login.html.j2", next=nxt, error="")
        form = await checked_form(request)
        name, password = str(form.get("user") or ""), str(form.get("password") or "")
        hashed = users.get(name)
        ok = await run_in_threadpool(verify_password, password, hashed) if hashed else False
        if not ok:
            return self.page(request, "login.html.j2", status=401, next=nxt, error="Неверное имя или пароль")
        request.session.clear()
        request.session["user"] = name
        request.session["csrf"] = new_token()
        return RedirectResponse(safe_next(str(form.get("next") or "")), status_code=303)

    async def logout(self, request: Request) -> Response:
        """End the session."""
        await checked_form(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- API -------------------------------------------------------------------------------------
    async def api_search(self, request: Request) -> Response:
        """/api/search?q=…&from=…&to=…&brand=…: the records of `rezonans search --json` (format=jsonl: every one,
        line by line, exactly as the CLI writes them; default: one page as JSON with the total)."""
        params = request.query_params
        query, filters = views.filters_from(params)
        if params.get("format") == "jsonl":
            hits = await self.ex(lambda: list(views.feed_all(self.client, self.settings, query, filters)))
            return StreamingResponse(iter([exports.to_jsonl(hits)]), media_type="application/x-ndjson; charset=utf-8")
        try:
            page_no = int(params.get("page", "1"))
            size = int(params.get("size", str(views.PAGE_SIZE)))
        except ValueError as exc:
            raise UserError("page and size must be whole numbers") from exc
        from search.engine import search

        request_ = views.request_for(query, filters)
        result = await self.ex(search, self.client, self.settings, request_, page_no, size)
        return JSONResponse(
            {
                "total": result.total,
                "page": result.page,
                "size": result.size,
                "took_ms": result.took_ms,
                "results": [h.as_dict() for h in result.hits],
            }
        )

    async def api_report(self, request: Request) -> Response:
        """/api/report?brand=…&week=…: the same JSON as `rezonans report --format json`."""
        args = self._report_args(request)
        if not args["brand"]:
            raise UserError("give brand=ID (and week=YYYY-Www, month=YYYY-MM or from/to)")
        rep = await self.ex(views.report_data, self.client, self.settings, **args)
        return Response(json.dumps(rep, ensure_ascii=False, indent=2), media_type="application/json")

    async def api_saved(self, request: Request) -> Response:
        """/api/saved: every saved search; /api/saved/NAME: one."""
        name = request.path_params.get("name")
        if name:
            saved = await self.ex(resolve_saved, self.client, self.settings, name)
            return JSONResponse(saved.as_dict())
        items = await self.ex(list_saved, self.client, self.settings)
        return JSONResponse([s.as_dict() for s in items])

    async def api_tone(self, request: Request) -> Response:
        """POST /api/tone (form or JSON fields article_id, brand, sentiment[, mention_start]; X-CSRF-Token header)."""
        form = await checked_form(request)
        start = str(form.get("mention_start") or "").strip()
        article = await self.ex(
            set_tone,
            self.client,
            self.settings,
            str(form.get("article_id") or ""),
            str(form.get("brand") or ""),
            str(form.get("sentiment") or ""),
            current_user(request),
            int(start) if start.isdigit() else None,
        )
        return JSONResponse({"id": article.id, "brand_tone": [t.model_dump() for t in article.brand_tone]})

    async def api_csrf(self, request: Request) -> Response:
        """This session's CSRF token, for API clients that post."""
        return JSONResponse({"csrf": csrf_token(request)})


def _feed_params(query: str, filters: SearchFilters) -> dict[str, Any]:
    """The feed's URL parameters for a query and filters (used by paging, exports and 'save')."""
    out: dict[str, Any] = {"q": query}
    if filters.brands:
        out["brand"] = filters.brands
    for key, value in (
        ("tone", filters.tone),
        ("source", filters.source),
        ("type", filters.source_type),
        ("from", filters.date_from),
        ("to", filters.date_to),
    ):
        if value:
            out[key] = value
    if filters.fold_reprints:
        out["fold"] = "1"
    if filters.sort != "date":
        out["sort"] = filters.sort
    return out


def _report_qs(args: dict[str, Any]) -> dict[str, Any]:
    """Report arguments as URL parameters."""
    rename = {"date_from": "from", "date_to": "to"}
    return {rename.get(k, k): v for k, v in args.items()}


async def _error(request: Request, exc: Exception) -> Response:
    """A library error as a page (or JSON under /api/): user errors 400, service errors 503."""
    if isinstance(exc, HTTPException):
        status, message = exc.status_code, str(exc.detail)
    elif isinstance(exc, RezonansError):
        status, message = (503 if isinstance(exc, ServiceError) else 400), exc.display()
    else:
        log.exception("%s %s failed", request.method, request.url.path)
        status, message = 500, "internal error: see the server's log"
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    web: Web = request.app.state.web
    try:
        return web.page(request, "error.html.j2", status=status, message=message)
    except Exception:  # a session-less error page still says what happened
        return PlainTextResponse(message, status_code=status)


def create_app(settings: Settings, client: Elasticsearch | None = None) -> Starlette:
    """The application for `settings` (web_users, web_secret, Elasticsearch and brand cards)."""
    web = Web(settings, client)
    routes = [
        Route("/", lambda r: RedirectResponse("/feed", status_code=303)),
        Route("/feed", web.feed),
        Route("/feed/export.{fmt}", web.feed_export),
        Route("/tone", web.tone, methods=["POST"]),
        Route("/saved", web.save, methods=["POST"]),
        Route("/saved/delete", web.unsave, methods=["POST"]),
        Route("/report", web.report),
        Route("/report/download", web.report_download),
        Route("/alerts", web.alerts),
        Route("/login", web.login, methods=["GET", "POST"]),
        Route("/logout", web.logout, methods=["POST"]),
        Route("/api/search", web.api_search),
        Route("/api/report", web.api_report),
        Route("/api/saved", web.api_saved),
        Route("/api/saved/{name}", web.api_saved),
        Route("/api/tone", web.api_tone, methods=["POST"]),
        Route("/api/csrf", web.api_csrf),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=settings.web_secret or secrets.token_urlsafe(32),
            session_cookie="rezonans_session",
            same_site="strict",
            https_only=False,
            max_age=12 * 3600,
        ),
        Middleware(AuthMiddleware),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={RezonansError: _error, HTTPException: _error, Exception: _error},
    )
    app.state.users = dict(settings.web_users)
    app.state.web = web
    return app
