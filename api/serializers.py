"""What the API reads and writes. Ids in request bodies are resolved only among
the objects the caller may see (``visible_*`` below), so an id from a campaign
they are not on is answered exactly like an id that does not exist: 404."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.models import ApiToken
from campaigns.access import campaigns_for
from campaigns.models import Campaign, TargetPage, User
from links.history import SIGNATURE_FIELDS
from links.models import Alert, Backlink, CheckSummary, LinkCheck
from links.verification.urls import InvalidURL
from outreach import queries as prospect_queries
from outreach.imports import services as import_services
from outreach.imports.engine import KEPT_REJECTIONS
from outreach.imports.validate import RowError
from outreach.models import ImportJob, Kind, Prospect, Status, StatusChange

_User: Any = User


def visible_or_404(queryset: QuerySet, pk: Any) -> Any:
    """``queryset.get(pk=pk)``, with a missing or invisible row as a 404."""
    try:
        return queryset.get(pk=int(pk))
    except (TypeError, ValueError, queryset.model.DoesNotExist) as exc:
        raise Http404(f"No such {queryset.model._meta.verbose_name}.") from exc


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign-key id in a body, looked up only among the rows the caller may
    see (``scope(user)``): an unknown or invisible id is a 404, not a 400 that
    would confirm the row exists."""

    def __init__(self, *, scope: Any, **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        return self.scope(self.context["request"].user)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str) and not data.isdigit():
            self.fail("incorrect_type", data_type="str")
        return visible_or_404(self.get_queryset(), data)


def visible_campaigns(user: User) -> QuerySet[Campaign]:
    return campaigns_for(user)


def visible_target_pages(user: User) -> QuerySet[TargetPage]:
    return TargetPage.objects.filter(campaign__in=campaigns_for(user))


def visible_prospects(user: User) -> QuerySet[Prospect]:
    return Prospect.objects.filter(campaign__in=campaigns_for(user))


# --- Campaigns and target pages ------------------------------------------------------


class CampaignSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "slug", "site", "owner", "status", "goal_links", "goal_date"]
        read_only_fields = ["id", "owner"]

    def create(self, validated_data: dict[str, Any]) -> Campaign:
        return Campaign.objects.create(owner=self.context["request"].user, **validated_data)


class TargetPageSerializer(serializers.ModelSerializer):
    campaign = VisibleRelatedField(scope=visible_campaigns, queryset=Campaign.objects.all())

    class Meta:
        model = TargetPage
        fields = ["id", "campaign", "url", "is_domain", "title", "keywords", "priority"]
        read_only_fields = ["id"]
        # The model's check constraint, said per field before the database does.
        extra_kwargs = {"priority": {"min_value": 1, "max_value": 5}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        moved = "campaign" in attrs and attrs["campaign"].pk != getattr(
            self.instance, "campaign_id", attrs["campaign"].pk
        )
        if moved:
            raise serializers.ValidationError({"campaign": ["A target page cannot move."]})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> TargetPage:
        return _save_target_page(TargetPage(**validated_data))

    def update(self, instance: TargetPage, validated_data: dict[str, Any]) -> TargetPage:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return _save_target_page(instance)


def _save_target_page(page: TargetPage) -> TargetPage:
    """Model validation (the priority's range) and the per-campaign uniqueness of
    the normalized URL, which only the database can judge once save() has
    normalized it: a duplicate is a message, not a 500."""
    page.full_clean(exclude=["url_key"])
    try:
        with transaction.atomic():
            page.save()
    except InvalidURL as exc:
        raise serializers.ValidationError({"url": [f"Not a usable URL: {exc}."]}) from exc
    except IntegrityError as exc:
        raise serializers.ValidationError(
            {"url": ["This campaign already has this target page."]}
        ) from exc
    return page


# --- Prospects -----------------------------------------------------------------------


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class TagNamesField(serializers.Field):
    """The prospect's tag names, A to Z: from the list query's ``tag_names``
    annotation when there is one, else from its tags."""

    def get_attribute(self, instance: Prospect) -> list[str]:
        names = getattr(instance, "tag_names", None)
        if names is None:
            names = [tag.name for tag in instance.tags.all()]
        return list(names)

    def to_representation(self, value: list[str]) -> list[str]:
        return value


class ProspectSerializer(serializers.ModelSerializer):
    campaign = VisibleRelatedField(scope=visible_campaigns, queryset=Campaign.objects.all())
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=_User.objects.all(), allow_null=True, required=False
    )
    offered_target = VisibleRelatedField(
        scope=visible_target_pages,
        queryset=TargetPage.objects.all(),
        allow_null=True,
        required=False,
    )
    tags = TagNamesField(read_only=True)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Prospect
        fields = [
            "id",
            "campaign",
            "kind",
            "url",
            "domain",
            "contact_name",
            "contact_email",
            "domain_rating",
            "niche",
            "tags",
            "assignee",
            "status",
            "next_follow_up",
            "notes",
            "outlet",
            "query_text",
            "deadline",
            "dead_url",
            "offered_target",
            "fee",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "domain", "status", "created_at", "updated_at"]
        # The per-campaign uniqueness of the normalized URL is checked by the
        # model (after normalizing), not by DRF on the raw text.
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        campaign = attrs.get("campaign") or getattr(self.instance, "campaign", None)
        if self.instance is not None and attrs.get("campaign", campaign) != self.instance.campaign:
            raise serializers.ValidationError({"campaign": ["A prospect cannot move."]})
        target = attrs.get("offered_target")
        if target is not None and campaign is not None and target.campaign_id != campaign.pk:
            raise serializers.ValidationError(
                {"offered_target": ["That target page belongs to another campaign."]}
            )
        assignee = attrs.get("assignee")
        if (
            assignee is not None
            and campaign is not None
            and not prospect_queries.assignable_users(campaign).filter(pk=assignee.pk).exists()
        ):
            raise serializers.ValidationError(
                {"assignee": ["That person is not on this campaign."]}
            )
        return attrs

    def update(self, instance: Prospect, validated_data: dict[str, Any]) -> Prospect:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.set_url(instance.url)
        instance.full_clean()
        instance.save()
        return instance


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)


class StatusChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = StatusChange
        fields = ["from_status", "to_status", "changed_by", "changed_at"]


class BulkProspectsSerializer(serializers.Serializer):
    campaign = VisibleRelatedField(scope=visible_campaigns, queryset=Campaign.objects.all())
    rows = serializers.ListField(
        child=serializers.DictField(child=serializers.JSONField()), min_length=1
    )


# --- Backlinks and alerts ------------------------------------------------------------


class LinkCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = LinkCheck
        fields = [
            "id",
            "checked_at",
            "verdict",
            "http_status",
            "final_url",
            "anchors",
            "flags",
            "differences",
            "error",
            "duration_ms",
            "rendered",
            "render_ms",
        ]


class CheckSummarySerializer(serializers.ModelSerializer):
    """Older checks that found what the check before them found, folded into
    one row per backlink and period (links.history)."""

    class Meta:
        model = CheckSummary
        fields = [
            "period_kind",
            "period_start",
            "count",
            "first_checked_at",
            "last_checked_at",
            *SIGNATURE_FIELDS,
        ]


class BlankAsNullURLField(serializers.URLField):
    """A URL the model stores as "" when there is none: null in the API, as
    "" is not a URL (schemathesis found the lists answering "")."""

    def to_representation(self, value: str) -> str | None:
        return value or None


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice the model stores as "" when unknown: null in the API."""

    def to_representation(self, value: str) -> str | None:
        return value or None


class BacklinkSerializer(serializers.ModelSerializer):
    placement = BlankAsNullChoiceField(
        choices=[c for c in Backlink._meta.get_field("placement").choices if c[0]],
        read_only=True,
        allow_null=True,
        help_text="Where the link sits on its page; null until a check found it.",
    )
    last_verdict = BlankAsNullChoiceField(
        choices=[c for c in Backlink._meta.get_field("last_verdict").choices if c[0]],
        read_only=True,
        allow_null=True,
        help_text="The last check's verdict; null before the first check.",
    )
    canonical_url = BlankAsNullURLField(
        read_only=True,
        allow_null=True,
        help_text="Where the page's canonical points, if elsewhere.",
    )

    class Meta:
        model = Backlink
        fields = [
            "id",
            "campaign",
            "prospect",
            "target_page",
            "source_url",
            "source_domain",
            "target_url",
            "expected_anchor_text",
            "won_on",
            "cost",
            "state",
            "last_verdict",
            "noindex",
            "canonical_url",
            "robots_txt_blocked",
            "placement",
            "first_seen_at",
            "last_checked_at",
            "next_check_at",
            "lost_at",
        ]
        read_only_fields = fields


class BacklinkDetailSerializer(BacklinkSerializer):
    checks = serializers.SerializerMethodField()
    folded_checks = serializers.SerializerMethodField(
        help_text="Older unchanged checks, folded: newest first, as many as checks."
    )

    class Meta(BacklinkSerializer.Meta):
        fields = [*BacklinkSerializer.Meta.fields, "checks", "folded_checks"]
        read_only_fields = fields

    def get_checks(self, backlink: Backlink) -> list[dict[str, Any]]:
        return LinkCheckSerializer(self.context["checks"], many=True).data

    get_checks.__annotations__["return"] = LinkCheckSerializer(many=True)

    def get_folded_checks(self, backlink: Backlink) -> list[dict[str, Any]]:
        return CheckSummarySerializer(self.context["folded_checks"], many=True).data

    get_folded_checks.__annotations__["return"] = CheckSummarySerializer(many=True)


class BacklinkCreateSerializer(serializers.Serializer):
    """A won link, recorded like the "mark won" page does: from its prospect."""

    prospect = VisibleRelatedField(scope=visible_prospects, queryset=Prospect.objects.all())
    source_url = serializers.CharField(max_length=2000)
    target_page = VisibleRelatedField(
        scope=visible_target_pages,
        queryset=TargetPage.objects.all(),
        allow_null=True,
        required=False,
    )
    target_url = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    anchor_text = serializers.CharField(max_length=500, required=False, allow_blank=True)
    cost = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True
    )
    won_on = serializers.DateField(required=False, allow_null=True)


class AlertSerializer(serializers.ModelSerializer):
    read_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "campaign",
            "backlink",
            "kind",
            "message",
            "created_at",
            "read_at",
            "read_by",
        ]
        read_only_fields = fields


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
        read_only_fields = fields


# --- Imports ---------------------------------------------------------------------------


class ImportUploadSerializer(serializers.Serializer):
    """The upload form's fields (outreach/imports/views.UploadForm), as multipart."""

    campaign = VisibleRelatedField(scope=visible_campaigns, queryset=Campaign.objects.all())
    target = serializers.ChoiceField(
        choices=ImportJob.Target.choices,
        default=ImportJob.Target.PROSPECTS,
        help_text="What the file holds.",
    )
    file = serializers.FileField(help_text="A CSV or XLSX file (first sheet).")
    kind = serializers.ChoiceField(
        choices=Kind.choices,
        required=False,
        help_text="Prospect imports: the type of rows without one (default blogger).",
    )
    target_url = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="Backlink imports: the target URL of rows without one "
        "(default: the campaign's home page).",
    )

    def validate_target_url(self, value: str) -> str:
        try:
            return import_services.clean_default_target_url(value)
        except RowError as exc:
            raise serializers.ValidationError(exc.reason) from exc

    def options(self) -> dict[str, str]:
        data = self.validated_data
        return import_services.job_options(
            data["target"], kind=data.get("kind", ""), target_url=data.get("target_url", "")
        )


class ImportRejectionSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The spreadsheet's row number (the header is 1).")
    reason = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    percent = serializers.IntegerField(read_only=True)
    rejections = serializers.SerializerMethodField(
        help_text=f"Why rows were rejected: the first {KEPT_REJECTIONS} (the engine keeps those)."
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "campaign",
            "target",
            "source",
            "options",
            "original_name",
            "file_format",
            "created_by",
            "created_at",
            "state",
            "rows_total",
            "rows_done",
            "percent",
            "created_count",
            "updated_count",
            "duplicate_count",
            "rejected_count",
            "rejections",
            "error",
            "queued_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ImportRejectionSerializer(many=True))
    def get_rejections(self, job: ImportJob) -> list[dict[str, Any]]:
        if job.state != ImportJob.State.DONE:
            return []  # a preview's rejections are not the import's
        kept = (job.summary or {}).get("rejections", [])
        return [{"row": r["row"], "reason": r["reason"]} for r in kept]
