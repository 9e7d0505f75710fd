"""The REST API's endpoints. Every queryset starts from ``campaigns_for(user)``
(campaigns/access.py), so a token sees exactly what its user sees on the pages,
and an object of a campaign the caller is not on is a 404."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import transaction
from django.db.models import OuterRef, QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from api import bulk
from api import serializers as s
from api.etag import conditional
from api.permissions import AdminsOnly, ManagersWrite
from campaigns.access import campaigns_for
from campaigns.models import Campaign, TargetPage
from campaigns.uploads import (
    CappedUploadHandler,
    declared_size_refusal,
    too_large_message,
)
from links import budgets
from links import queries as link_queries
from links import services as link_services
from links.models import Alert, Backlink
from outreach import queries as prospect_queries
from outreach import services as prospect_services
from outreach.imports import services as import_services
from outreach.imports.reader import UnreadableFile
from outreach.models import ImportJob, Prospect, Tag

CHECK_HISTORY = 50

CAMPAIGN_PARAM = OpenApiParameter(
    "campaign", OpenApiTypes.INT, description="Only this campaign's rows (a campaign id)."
)


def _campaign_filter(request: Request, queryset: QuerySet, field: str = "campaign") -> QuerySet:
    raw = request.query_params.get("campaign")
    if raw is None or raw == "":
        return queryset
    campaign = s.visible_or_404(campaigns_for(request.user), raw)
    return queryset.filter(**{field: campaign})


class ListViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A list that answers with an ETag and honours If-None-Match."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return conditional(request, super().list(request, *args, **kwargs))


class RecordViewSet(mixins.RetrieveModelMixin, mixins.CreateModelMixin, ListViewSet):
    """List, read one, create."""


class EditableViewSet(mixins.UpdateModelMixin, RecordViewSet):
    """List, read one, create, update."""


class CampaignViewSet(EditableViewSet):
    serializer_class = s.CampaignSerializer
    permission_classes = [ManagersWrite]
    queryset = Campaign.objects.none()

    def get_queryset(self) -> QuerySet[Campaign]:
        return campaigns_for(self.request.user).select_related("owner").order_by("name", "id")


@extend_schema(parameters=[CAMPAIGN_PARAM])
class TargetPageViewSet(EditableViewSet):
    serializer_class = s.TargetPageSerializer
    permission_classes = [ManagersWrite]
    queryset = TargetPage.objects.none()

    def get_queryset(self) -> QuerySet[TargetPage]:
        pages = TargetPage.objects.filter(campaign__in=campaigns_for(self.request.user))
        if self.action == "list":
            pages = _campaign_filter(self.request, pages)
        return pages.order_by("campaign_id", "priority", "url", "id")


PROSPECT_FILTERS = [
    CAMPAIGN_PARAM,
    OpenApiParameter("q", str, description="Search in URL/domain, contact, notes."),
    OpenApiParameter("kind", str),
    OpenApiParameter("status", str, description="A status, or `open`."),
    OpenApiParameter("assignee", str, description="A user id, or `none`."),
    OpenApiParameter("dr_min", int),
    OpenApiParameter("dr_max", int),
    OpenApiParameter("follow_up", str, description="due, overdue, today, week, none"),
    OpenApiParameter("tag", int),
    OpenApiParameter("sort", str, enum=list(prospect_queries.SORTS)),
]


class ProspectViewSet(EditableViewSet):
    serializer_class = s.ProspectSerializer
    queryset = Prospect.objects.none()

    def get_queryset(self) -> QuerySet[Prospect]:
        prospects = Prospect.objects.filter(campaign__in=campaigns_for(self.request.user))
        if self.action == "list":
            # The table's own filter form and ordering: the same rows, in the
            # same order, as the prospects page shows for this query string.
            values = prospect_queries.ProspectFilterForm(self.request.query_params).valid_values()
            prospects = prospect_queries.apply_filters(
                _campaign_filter(self.request, prospects), values
            )
        # The tag names come with each row (a correlated ARRAY(SELECT ...),
        # evaluated for the page's rows only) instead of a prefetch query and a
        # Tag object per tag; the assignee is its id, so no join.
        names = Tag.objects.filter(prospects=OuterRef("pk")).order_by("name").values("name")
        return prospects.annotate(tag_names=ArraySubquery(names))

    @extend_schema(parameters=PROSPECT_FILTERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        # The page's service, so the prospect gets its first history row.
        serializer.instance = prospect_services.create_prospect(
            by=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=s.StatusSerializer, responses=s.ProspectSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request: Request, pk: str | None = None) -> Response:
        """Move the prospect in the pipeline; the change is kept in its history."""
        prospect = self.get_object()
        body = s.StatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        prospect_services.change_status(
            prospect, to_status=body.validated_data["status"], by=request.user
        )
        prospect.refresh_from_db()
        return Response(self.get_serializer(prospect).data)

    @extend_schema(responses=s.StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        prospect = self.get_object()
        changes = prospect.status_changes.select_related("changed_by").order_by(
            "-changed_at", "-id"
        )
        return Response(s.StatusChangeSerializer(changes, many=True).data)

    @extend_schema(
        request=s.BulkProspectsSerializer,
        responses={200: bulk.BulkResultSerializer, 201: bulk.BulkResultSerializer},
    )
    @action(detail=False, methods=["post"], permission_classes=[AdminsOnly])
    def bulk(self, request: Request) -> Response:
        """Create (or merge into) many prospects at once, through the import
        engine: the same cleaning, dedupe and per-row reasons as a spreadsheet
        import. Admins only, as on the import pages."""
        body = s.BulkProspectsSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        rows = body.validated_data["rows"]
        if len(rows) > settings.API_BULK_MAX_ROWS:
            raise ValidationError(
                {"rows": [f"At most {settings.API_BULK_MAX_ROWS} rows per request."]}
            )
        result = bulk.import_prospects(body.validated_data["campaign"], rows, by=request.user)
        code = status.HTTP_201_CREATED if result["created"] else status.HTTP_200_OK
        return Response(result, status=code)


BACKLINK_FILTERS = [
    CAMPAIGN_PARAM,
    OpenApiParameter("q", str, description="Search in source URL and anchor text."),
    OpenApiParameter("state", str, enum=[v for v, _ in link_queries.STATE_CHOICES if v]),
    OpenApiParameter("flag", str, enum=[v for v, _ in link_queries.FLAG_CHOICES if v]),
    OpenApiParameter("sort", str, enum=list(link_queries.SORTS)),
]


class BacklinkViewSet(RecordViewSet):
    queryset = Backlink.objects.none()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return s.BacklinkCreateSerializer
        if self.action == "retrieve":
            return s.BacklinkDetailSerializer
        return s.BacklinkSerializer

    def get_queryset(self) -> QuerySet[Backlink]:
        backlinks = Backlink.objects.filter(campaign__in=campaigns_for(self.request.user))
        if self.action == "list":
            values = link_queries.BacklinkFilterForm(self.request.query_params).valid_values()
            backlinks = link_queries.apply_filters(
                _campaign_filter(self.request, backlinks), values
            )
        return backlinks

    @extend_schema(parameters=BACKLINK_FILTERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        backlink = self.get_object()
        checks = backlink.checks.order_by("-checked_at", "-id")[:CHECK_HISTORY]
        folded = backlink.check_summaries.order_by("-last_checked_at", "-id")[:CHECK_HISTORY]
        context = {**self.get_serializer_context(), "checks": checks, "folded_checks": folded}
        return Response(s.BacklinkDetailSerializer(backlink, context=context).data)

    @extend_schema(request=s.BacklinkCreateSerializer, responses={201: s.BacklinkSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a won link from its prospect (the prospect becomes won), and
        queue its first check: the "mark won" page's service."""
        body = s.BacklinkCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        backlink = link_services.record_won_link(
            data["prospect"],
            by=request.user,
            source_url=data["source_url"],
            target_page=data.get("target_page"),
            target_url=data.get("target_url", ""),
            anchor_text=data.get("anchor_text", ""),
            cost=data.get("cost"),
            won_on=data.get("won_on"),
        )
        return Response(s.BacklinkSerializer(backlink).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "RecheckQueued", fields={"requested_at": serializers.DateTimeField()}
            )
        },
    )
    @action(detail=True, methods=["post"])
    def recheck(self, request: Request, pk: str | None = None) -> Response:
        """ "Re-check now", within the same budgets as the button: 429 with
        Retry-After when the link or the caller's hourly budget is spent."""
        backlink = self.get_object()
        try:
            requested_at = link_services.request_recheck(backlink, by=request.user)
        except budgets.OverBudget as exc:
            response = Response({"detail": exc.message, "errors": {}}, status=429)
            if exc.retry_after:
                response["Retry-After"] = str(exc.retry_after)
            return response
        return Response({"requested_at": requested_at}, status=status.HTTP_202_ACCEPTED)


class AlertViewSet(ListViewSet):
    serializer_class = s.AlertSerializer
    queryset = Alert.objects.none()

    def get_queryset(self) -> QuerySet[Alert]:
        unread = self.request.query_params.get("unread") in ("1", "true")
        alerts = link_queries.alerts_for(self.request.user, unread_only=unread)
        if self.action == "list":
            alerts = _campaign_filter(self.request, alerts)
        return alerts

    @extend_schema(
        parameters=[
            CAMPAIGN_PARAM,
            OpenApiParameter("unread", bool, description="Only unread alerts."),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        alert = self.get_object()
        with transaction.atomic():
            link_services.mark_alerts_read(Alert.objects.filter(pk=alert.pk), by=request.user)
        alert.refresh_from_db()
        return Response(s.AlertSerializer(alert).data)


class UploadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class LengthRequired(APIException):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_code = "length_required"


class ImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Spreadsheet imports: upload a CSV/XLSX and poll how it goes. Admins only,
    as on the import pages; the mapping is guessed from the headers (the page
    lets a person correct it), then a worker imports the file."""

    serializer_class = s.ImportJobSerializer
    permission_classes = [AdminsOnly]
    parser_classes = [MultiPartParser]
    queryset = ImportJob.objects.none()

    def get_queryset(self) -> QuerySet[ImportJob]:
        return ImportJob.objects.filter(
            campaign__in=campaigns_for(self.request.user)
        ).select_related("created_by")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # The upload page's cap (campaigns/uploads.py), before authentication:
        # a session caller's CSRF check parses the body, so a declared size over
        # the cap is refused unread and the handler holds it while it streams.
        if request.method == "POST":
            refusal = declared_size_refusal(request.META, settings.IMPORT_MAX_BYTES)
            if refusal is not None:
                status_code, message = refusal
                raise (LengthRequired if status_code == 411 else UploadTooLarge)(message)
            self.cap = CappedUploadHandler(request._request, settings.IMPORT_MAX_BYTES)
            request._request.upload_handlers.insert(0, self.cap)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": s.ImportUploadSerializer},
        responses={202: s.ImportJobSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upload a file and queue its import: 202 with the job and its
        Location, to poll until ``state`` is ``done`` or ``failed``."""
        body = s.ImportUploadSerializer(data=request.data, context={"request": request})
        if self.cap.exceeded:
            raise UploadTooLarge(too_large_message(settings.IMPORT_MAX_BYTES))
        body.is_valid(raise_exception=True)
        try:
            job, problems = import_services.start_and_queue_job(
                campaign=body.validated_data["campaign"],
                target=body.validated_data["target"],
                upload=body.validated_data["file"],
                by=request.user,
                options=body.options(),
            )
        except UnreadableFile as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        if job is None:
            raise ValidationError({"file": problems})
        response = Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = request.build_absolute_uri(
            reverse("api:importjob-detail", args=[job.pk])
        )
        return response
