"""ETag / If-None-Match for list responses: a client polling a list it already
has gets a 304 and no body."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response


def etag_of(data: Any) -> str:
    body = json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def conditional(request: Request, response: Response) -> Response:
    """The response with its ETag, or a bare 304 when the client's copy is current.
    The tag is of the data, so it is the same for every caller who sees the same
    rows; Vary keeps shared caches from mixing callers."""
    tag = etag_of(response.data)
    patch_vary_headers(response, ["Authorization", "Cookie"])
    wanted = parse_etags(request.headers.get("If-None-Match", ""))
    if tag in wanted or "*" in wanted or f"W/{tag}" in wanted:
        not_modified = Response(status=status.HTTP_304_NOT_MODIFIED)
        not_modified["ETag"] = tag
        patch_vary_headers(not_modified, ["Authorization", "Cookie"])
        return not_modified
    response["ETag"] = tag
    return response
