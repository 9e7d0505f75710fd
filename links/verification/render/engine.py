"""One headless Chromium per process, and the rules it renders a page under.

Chromium never opens a connection itself. Every request a page makes is
intercepted (Playwright's routing, set on the context before the page exists)
and either answered with what the caller's ``fetch`` returns (in the checks,
the guarded fetcher: private addresses refused, byte caps, the per-site slot)
or aborted: images, media, fonts, stylesheets, known trackers, other frames'
documents, anything but GET, and anything past ``max_requests``. As defense in
depth the browser is also started with a proxy that does not exist and a host
resolver that resolves nothing, so a request that somehow escaped the routing
(a WebSocket, a prefetch) fails instead of reaching the network; background
networking, component updates and the like are switched off.

The sync Playwright API binds its objects to the thread that made them, so one
thread of our own owns the browser and renders one page at a time; callers
hand it jobs and wait. A page that never finishes (a script in an endless loop
blocks Chromium's renderer, and Playwright calls that read the page with it)
is bounded twice: Playwright's own timeouts, and past the deadline plus a grace
the caller kills the browser's processes, which fails the stuck call at once;
the next render starts a new browser. After each render the browser's memory
(PSS of its processes) is read, and past ``memory_limit_mb`` it is restarted.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from links.verification.fetch import ErrorKind, FetchResult
from links.verification.pool import HostBusy
from links.verification.urls import InvalidURL, registrable_domain

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Resource types that cannot put a link in the DOM: refused unread.
BLOCKED_TYPES = frozenset(
    {"image", "media", "font", "stylesheet", "texttrack", "manifest", "ping", "eventsource",
     "websocket", "beacon", "csp_report", "imageset", "object", "other"}
)  # fmt: skip
# Third-party trackers and ad networks: they never build the page's links, and
# answering them costs fetches on every render.
TRACKER_SITES = frozenset(
    {"google-analytics.com", "googletagmanager.com", "doubleclick.net", "googlesyndication.com",
     "googleadservices.com", "facebook.net", "facebook.com", "hotjar.com", "segment.com",
     "segment.io", "mixpanel.com", "clarity.ms", "scorecardresearch.com", "quantserve.com",
     "criteo.com", "criteo.net", "taboola.com", "outbrain.com", "newrelic.com", "nr-data.net",
     "amplitude.com", "fullstory.com", "adnxs.com", "amazon-adsystem.com", "chartbeat.com",
     "yandex.ru", "mc.yandex.ru", "cloudflareinsights.com", "sentry.io", "intercom.io"}
)  # fmt: skip
CHROMIUM_ARGS = (
    # Nothing may leave without our routing: a proxy nobody listens on (the
    # discard port of an address reserved for documentation) and no names.
    "--proxy-server=http://192.0.2.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--dns-prefetch-disable",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--no-pings",
    "--no-first-run",
    "--disable-breakpad",
    "--disable-features=InterestFeedContentSuggestions,OptimizationHints,MediaRouter,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-dev-shm-usage",
    "--mute-audio",
    # No GPU here: software compositing of a page nobody looks at is wasted CPU.
    "--disable-gpu",
    "--disable-software-rasterizer",
    "--disable-extensions",
    "--blink-settings=imagesEnabled=false",
)
# How long a browser may take to start before the render is given up.
LAUNCH_TIMEOUT_SECONDS = 60.0
# Past the deadline, how long the stuck call gets before the browser is killed.
KILL_GRACE_SECONDS = 5.0
# After the load event: the page counts as settled once no request was routed
# for this long (scripts that fetch their data have had their answer).
QUIET_SECONDS = 1.0
_STEP_MS = 200
# The anchors the page has now, whose href contains one of the needles (the
# target's host, lower-cased): enough to stop waiting, the verdict is judged
# on the serialized DOM by the same code as any page.
_HAS_CANDIDATE = """(needles) => {
  for (const a of document.querySelectorAll('a[href]')) {
    const href = String(a.href).toLowerCase();
    for (const needle of needles) { if (href.includes(needle)) return true; }
  }
  return false;
}"""


def chromium_path(configured: str | None = None) -> str | None:
    """The Chromium to drive (``configured``, else ``RENDER_CHROMIUM_PATH``, else
    Debian's), or None when it is not installed."""
    candidate = configured or os.environ.get("RENDER_CHROMIUM_PATH") or DEFAULT_CHROMIUM
    found = shutil.which(candidate)
    return found if found and os.access(found, os.X_OK) else None


@dataclass(frozen=True, slots=True)
class RenderLimits:
    timeout: float = 20.0
    memory_limit_mb: int = 1024
    max_requests: int = 100
    user_agent: str = ""
    max_bytes: int = 5 * 1024 * 1024


@dataclass(slots=True)
class RenderOutcome:
    """What a render produced: the page's DOM serialized as HTML, or an error."""

    html: str = ""
    final_url: str = ""
    elapsed_ms: int = 0
    requests: int = 0
    fetched: int = 0
    aborted: int = 0
    refused: list[str] = field(default_factory=list)
    # A request refused for the site's budget, or past max_requests: a link the
    # page would have built from it may be missing through no fault of its own.
    incomplete: str | None = None
    error_kind: str | None = None
    error: str | None = None


Fetch = Callable[[str], FetchResult]


@dataclass(slots=True)
class _Job:
    url: str
    document: FetchResult
    fetch: Fetch
    needles: Sequence[str]
    deadline: float = 0.0
    future: Future[RenderOutcome] = field(default_factory=Future)
    # Set when the render thread starts on the page (a browser is running): the
    # limit is the page's, not the browser's start-up.
    begun: threading.Event = field(default_factory=threading.Event)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def chromium_pids() -> list[int]:
    """This process's Chromium processes (children of Playwright's driver)."""
    pids = []
    for pid in _descendants(os.getpid()):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if name.startswith("chrom"):
            pids.append(pid)
    return pids


def _memory_kb(pid: int, pss: bool) -> int:
    try:
        if pss:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1])
            return 0
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError, IndexError):
        return 0


class Renderer:
    """One browser for this process, started on first use, rendering one page at a time."""

    def __init__(self, limits: RenderLimits, executable: str | None = None) -> None:
        self.limits = limits
        self.executable = executable or chromium_path()
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # Serializes callers: the thread renders one page at a time anyway, and
        # the deadline of a job should not include the wait for another's.
        self._turn = threading.Lock()
        self.restarts = 0

    @property
    def available(self) -> bool:
        return self.executable is not None

    def render(
        self, url: str, document: FetchResult, fetch: Fetch, needles: Sequence[str]
    ) -> RenderOutcome:
        """Render ``url``, whose document was already fetched (``document``: the
        browser is given these bytes, not a second request), answering every
        other request with ``fetch``. Never raises for what the page does."""
        if self.executable is None:
            return RenderOutcome(error_kind="render_unavailable", error="Chromium is not installed")
        with self._turn:
            job = _Job(url, document, fetch, needles)
            self._start()
            self._jobs.put(job)
            if not job.begun.wait(LAUNCH_TIMEOUT_SECONDS):
                self.kill()
            try:
                return job.future.result(timeout=self.limits.timeout + KILL_GRACE_SECONDS)
            except FutureTimeout:
                # The render thread is stuck in a call to a page that does not
                # answer: killing the browser fails that call at once.
                self.kill()
                try:
                    return job.future.result(timeout=KILL_GRACE_SECONDS * 2)
                except FutureTimeout:
                    return RenderOutcome(
                        error_kind=str(ErrorKind.TIMEOUT),
                        error=f"rendering gave up after {self.limits.timeout:g} s",
                    )

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="anchorage-render", daemon=True
                )
                self._thread.start()

    def kill(self) -> None:
        for pid in chromium_pids():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is not None and thread.is_alive():
            self._jobs.put(None)
            thread.join(timeout=10)

    def chromium_memory_mb(self, *, pss: bool = True) -> float:
        return sum(_memory_kb(pid, pss) for pid in chromium_pids()) / 1024

    def chromium_cpu_seconds(self) -> float:
        """CPU used by this process's Chromium so far, reaped children included."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in chromium_pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            total += sum(int(value) for value in fields[11:15])
        return total / ticks

    # -- the render thread --

    def _run(self) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        try:
            playwright = sync_playwright().start()
        except (PlaywrightError, OSError) as exc:
            # No driver: every job waiting, and this thread, end with the reason.
            self._fail_waiting(f"Playwright could not start: {exc}")
            return
        browser: Any = None
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                if browser is None or not browser.is_connected():
                    browser = self._launch(playwright, browser)
                job.deadline = time.monotonic() + self.limits.timeout
                job.begun.set()
                outcome = RenderOutcome(
                    error_kind="render_failed", error="Chromium could not be started"
                )
                try:
                    if browser is not None:
                        outcome = self._render(browser, job)
                finally:
                    # Whatever went wrong, the caller gets an answer now rather
                    # than after its timeout.
                    job.future.set_result(outcome)
                if browser is not None and self.chromium_memory_mb() > self.limits.memory_limit_mb:
                    # Chromium's renderers and caches grow over thousands of
                    # pages; a fresh browser costs one start (about a second).
                    self._close_browser(browser)
                    browser = None
                    self.restarts += 1
        finally:
            if browser is not None:
                self._close_browser(browser)
            playwright.stop()

    def _fail_waiting(self, reason: str) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job.begun.set()
                job.future.set_result(RenderOutcome(error_kind="render_failed", error=reason))

    def _launch(self, playwright: Any, old: Any) -> Any:
        from playwright.sync_api import Error as PlaywrightError

        if old is not None:
            self._close_browser(old)
            self.restarts += 1
        try:
            return playwright.chromium.launch(
                executable_path=self.executable, headless=True, args=list(CHROMIUM_ARGS)
            )
        except PlaywrightError:
            return None

    def _close_browser(self, browser: Any) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            browser.close()
        except PlaywrightError:
            self.kill()

    def _render(self, browser: Any, job: _Job) -> RenderOutcome:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        started = time.monotonic()
        outcome = RenderOutcome(final_url=job.url)
        gate = _Gate(job, self.limits, outcome)
        context = None
        try:
            context = browser.new_context(
                user_agent=self.limits.user_agent or None,
                service_workers="block",
                accept_downloads=False,
                viewport={"width": 1280, "height": 900},
            )
            context.route("**/*", gate.handle)
            context.route_web_socket("**/*", lambda ws: ws.close())
            page = context.new_page()
            page.on("dialog", lambda dialog: dialog.dismiss())
            remaining_ms = max(1, int((job.deadline - time.monotonic()) * 1000))
            page.goto(job.url, wait_until="load", timeout=remaining_ms)
            loaded = time.monotonic()
            needles = list(job.needles)
            while True:
                remaining_ms = int((job.deadline - time.monotonic()) * 1000)
                if remaining_ms <= 0:
                    break
                try:
                    page.wait_for_function(
                        _HAS_CANDIDATE,
                        arg=needles,
                        timeout=min(_STEP_MS, remaining_ms),
                        polling=50,
                    )
                    break
                except PlaywrightTimeout:
                    pass
                now = time.monotonic()
                if now - max(loaded, gate.last_activity) >= QUIET_SECONDS:
                    break
            # A page whose scripts never yield cannot be read: ask it something
            # trivial first, under a timeout, rather than hang in content().
            remaining_ms = int((job.deadline - time.monotonic()) * 1000)
            page.wait_for_function("() => true", timeout=max(1, min(2000, remaining_ms)))
            outcome.html = page.content()
            outcome.final_url = page.url
        except PlaywrightTimeout:
            outcome.error_kind = str(ErrorKind.TIMEOUT)
            outcome.error = f"the page's scripts did not finish within {self.limits.timeout:g} s"
        except PlaywrightError as exc:
            if time.monotonic() >= job.deadline:
                # Past its deadline the browser was killed under a page stuck in
                # its scripts (Renderer.render): that is the page's timeout.
                outcome.error_kind = str(ErrorKind.TIMEOUT)
                outcome.error = (
                    f"the page's scripts did not finish within {self.limits.timeout:g} s"
                )
            else:
                outcome.error_kind = "render_failed"
                outcome.error = f"rendering failed: {str(exc).splitlines()[0][:300]}"
        finally:
            if context is not None:
                with contextlib.suppress(PlaywrightError):
                    context.close()
        outcome.elapsed_ms = round((time.monotonic() - started) * 1000)
        return outcome


class _Gate:
    """Answers every request one page makes (runs on the render thread)."""

    def __init__(self, job: _Job, limits: RenderLimits, outcome: RenderOutcome) -> None:
        self.job = job
        self.limits = limits
        self.outcome = outcome
        self.last_activity = time.monotonic()
        self.document_served = False
        try:
            self.site = registrable_domain(urlsplit(job.url).hostname or "")
        except (InvalidURL, ValueError):
            self.site = ""

    def handle(self, route: Any, request: Any) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            self._answer(route, request)
        except PlaywrightError:
            # The page went away (closed at its deadline) while we fetched for it.
            self.outcome.aborted += 1

    def _answer(self, route: Any, request: Any) -> None:
        self.last_activity = time.monotonic()
        outcome = self.outcome
        outcome.requests += 1
        reason = self._refusal(request)
        if reason is not None:
            outcome.aborted += 1
            route.abort("blockedbyclient")
            return
        if not self.document_served and request.is_navigation_request():
            self.document_served = True
            self._fulfill(route, self.job.document)
            return
        try:
            fetched = self.job.fetch(request.url)
        except HostBusy as exc:
            # The site's budget had no slot: this request is not made, and a
            # missing link proves nothing.
            outcome.aborted += 1
            outcome.incomplete = f"a request was not made: {exc}"
            route.abort("blockedbyclient")
            return
        finally:
            self.last_activity = time.monotonic()
        if fetched.status is None:
            outcome.aborted += 1
            if fetched.error_kind == ErrorKind.BLOCKED_ADDRESS:
                outcome.refused.append(request.url[:300])
            route.abort("blockedbyclient" if fetched.error_kind else "failed")
            return
        outcome.fetched += 1
        self._fulfill(route, fetched)

    def _refusal(self, request: Any) -> str | None:
        if self.outcome.requests > self.limits.max_requests:
            self.outcome.incomplete = f"the page made more than {self.limits.max_requests} requests"
            return "too many requests"
        if request.method != "GET":
            return "not GET"
        if request.resource_type in BLOCKED_TYPES:
            return "resource type"
        if request.is_navigation_request() and request.frame.parent_frame is not None:
            return "another frame's document"
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            return "scheme"
        try:
            site = registrable_domain(parts.hostname or "")
        except (InvalidURL, ValueError):
            return "host"
        if site != self.site and site in TRACKER_SITES:
            return "tracker"
        return None

    def _fulfill(self, route: Any, fetched: FetchResult) -> None:
        headers = {
            name: value
            for name, value in fetched.headers
            # The body is already decoded and cut to size: the length and
            # encoding it came with no longer describe it.
            if name not in ("content-length", "content-encoding", "transfer-encoding", "set-cookie")
        }
        route.fulfill(status=fetched.status or 200, headers=headers, body=fetched.body)


_renderers: dict[tuple[RenderLimits, str | None], Renderer] = {}
_renderers_lock = threading.Lock()


def _after_fork_in_child() -> None:
    # A forked worker has no render thread and no browser of its own.
    global _renderers, _renderers_lock
    _renderers = {}
    _renderers_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def shared_renderer(limits: RenderLimits, executable: str | None = None) -> Renderer:
    """The process's renderer for these limits, reused across renders."""
    with _renderers_lock:
        renderer = _renderers.get((limits, executable))
        if renderer is None:
            renderer = _renderers[limits, executable] = Renderer(limits, executable)
        return renderer
