"""Size caps on uploads, held while the body streams in.

Django caps the form fields of a request (DATA_UPLOAD_MAX_MEMORY_SIZE) but not
its files: FILE_UPLOAD_MAX_MEMORY_SIZE only decides when a file moves from
memory to a temporary file, which then grows as long as the client sends. So a
view that takes a file wraps itself in ``upload_cap``:

- a declared length (Content-Length) over the cap is refused with 413 before
  one byte of the body is read;
- a body without a declared length (chunked) is refused with 411: Django reads
  a WSGI body only up to Content-Length, so such a file could not arrive whole
  anyway, and a browser always states the length of a form;
- while the multipart body is parsed, a handler placed before Django's own
  counts the file bytes and stops the parse the moment they pass the cap, so
  no later handler (memory or temporary file) sees the bytes beyond it, and
  the temporary file already begun is closed, which deletes it.

The view then finds ``request.upload_cap.exceeded`` set for the last case, and
answers with its own form error.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect

# Multipart framing and the small fields sent beside the file (CSRF token,
# campaign, options). A declared length within cap + this is read, and the
# handler holds the cap on the file bytes themselves.
FORM_OVERHEAD_BYTES = 64 * 1024


def size_text(limit: int) -> str:
    megabytes = limit / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes >= 1 else f"{max(1, limit // 1024)} KB"


def too_large_message(limit: int) -> str:
    return (
        f"The file is larger than {size_text(limit)}, the most this upload takes. "
        "Split it into smaller files."
    )


class CappedUploadHandler(FileUploadHandler):
    """Counts the bytes of every file in the request and stops the upload once
    they pass ``limit``; placed first, so nothing after it stores them."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # Not a connection reset: the declared length was checked, so what
            # is left to drain is at most FORM_OVERHEAD_BYTES, and draining it
            # lets the client read our answer.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def declared_size_refusal(meta: dict[str, Any], cap: int) -> tuple[int, str] | None:
    """The status and reason to refuse an upload with from its headers alone,
    before one byte of its body is read; None when its declared size fits."""
    declared = (meta.get("CONTENT_LENGTH") or "").strip()
    if not declared:
        if meta.get("HTTP_TRANSFER_ENCODING"):
            return 411, (
                "The upload did not state its size (it was sent in chunks); send one "
                f"file of at most {size_text(cap)} with a Content-Length."
            )
        return None
    size = int(declared) if declared.isdigit() else -1
    if size < 0 or size > cap + FORM_OVERHEAD_BYTES:
        return 413, too_large_message(cap)
    return None


def _refused(request: HttpRequest, status: int, message: str) -> HttpResponse:
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = ""
    return render(request, "upload_refused.html", {"message": message, "back": back}, status=status)


def upload_cap(limit: Callable[[], int]) -> Callable[[Callable[..., HttpResponse]], Any]:
    """Hold the view's uploads to ``limit()`` bytes (read per request, so a
    setting changed in tests applies)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        protected = csrf_protect(view)

        # CSRF is checked by ``protected``, after the cap is in place: the CSRF
        # middleware reads request.POST, which would parse the body uncapped.
        @csrf_exempt
        @wraps(view)
        def capped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                cap = limit()
                refusal = declared_size_refusal(request.META, cap)
                if refusal is not None:
                    return _refused(request, *refusal)
                handler = CappedUploadHandler(request, cap)
                request.upload_handlers.insert(0, handler)
                request.upload_cap = handler  # type: ignore[attr-defined]
            return protected(request, *args, **kwargs)

        return capped

    return decorator


def upload_exceeded(request: HttpRequest) -> bool:
    handler = getattr(request, "upload_cap", None)
    return bool(handler and handler.exceeded)
