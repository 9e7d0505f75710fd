from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar's vendored files, its start-up script served
    as a separate JavaScript response: the page needs no inline script or style."""

    template_name = "api/swagger_ui.html"
    title = "Anchorage API"
