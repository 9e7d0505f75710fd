"""Import pages, admins only: upload → fix the column mapping → preview →
confirm → progress → result (with the rejected rows as CSV) and the history.

Backlink imports use the same pages: the importer is looked up by the job's
target (see registry.py), so nothing here imports links.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from campaigns.access import admin_required, campaigns_for
from campaigns.uploads import too_large_message, upload_cap, upload_exceeded
from outreach.imports import services
from outreach.imports.mapping import mapping_from_json
from outreach.imports.reader import UnreadableFile
from outreach.imports.registry import importer_class, targets
from outreach.imports.validate import RowError
from outreach.models import ImportJob, Kind

IGNORE = ""


class UploadForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=None, empty_label="Choose a campaign")
    target = forms.ChoiceField(label="What the file holds")
    file = forms.FileField(
        label="CSV or XLSX file",
        help_text="UTF-8, UTF-16 or Windows (cp1252) CSV with commas, semicolons or tabs; "
        "or an Excel .xlsx workbook (first sheet).",
    )
    kind = forms.ChoiceField(
        label="Prospect type for rows without one",
        choices=Kind.choices,
        initial=Kind.BLOGGER,
        required=False,
        help_text="Prospect imports only.",
    )
    target_url = forms.CharField(
        label="Target URL for rows without one",
        required=False,
        max_length=2000,
        help_text="Backlink imports only. Search Console exports have no target column; "
        "blank means the campaign's home page.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns_for(user).order_by("name")
        self.fields["target"].choices = [(i.target, i.label) for i in targets()]
        size = settings.IMPORT_MAX_BYTES / (1024 * 1024)
        self.fields["file"].help_text += f" At most {size:.0f} MB and "
        self.fields["file"].help_text += f"{settings.IMPORT_MAX_ROWS:,} rows."

    def clean_target_url(self) -> str:
        try:
            return services.clean_default_target_url(self.cleaned_data["target_url"])
        except RowError as exc:
            raise forms.ValidationError(exc.reason) from exc

    def options(self) -> dict[str, str]:
        data = self.cleaned_data
        return services.job_options(
            data["target"], kind=data["kind"], target_url=data["target_url"]
        )


def _jobs_for(request: HttpRequest) -> Any:
    return ImportJob.objects.filter(campaign__in=campaigns_for(request.user)).select_related(
        "campaign", "created_by"
    )


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return get_object_or_404(_jobs_for(request), pk=pk)


@admin_required
def import_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(_jobs_for(request).order_by("-created_at", "-id"), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "imports/import_list.html", {"page": page})


@admin_required
@upload_cap(lambda: settings.IMPORT_MAX_BYTES)
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=request.user)
        if upload_exceeded(request):
            # In place of "This field is required": the file was cut off.
            form.errors["file"] = form.error_class([too_large_message(settings.IMPORT_MAX_BYTES)])
        if form.is_valid():
            try:
                job = services.start_job(
                    campaign=form.cleaned_data["campaign"],
                    target=form.cleaned_data["target"],
                    upload=form.cleaned_data["file"],
                    by=request.user,
                    options=form.options(),
                )
            except UnreadableFile as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("imports:mapping", pk=job.pk)
    else:
        initial: dict[str, Any] = {"target": request.GET.get("target", "prospects")}
        slug = request.GET.get("campaign")
        if slug:
            initial["campaign"] = campaigns_for(request.user).filter(slug=slug).first()
        form = UploadForm(initial=initial, user=request.user)
    return render(request, "imports/upload.html", {"form": form})


def _mapping_form(job: ImportJob, headers: list[str], data: Any = None) -> forms.Form:
    importer = importer_class(job.target)
    choices = [(IGNORE, "— ignore this column —")] + [(f.name, f.label) for f in importer.fields]
    current = mapping_from_json(job.mapping)
    form = forms.Form(data)
    for index, header in enumerate(headers):
        form.fields[f"col_{index}"] = forms.ChoiceField(
            label=header or f"Column {index + 1}",
            choices=choices,
            required=False,
            initial=current.get(index, IGNORE),
        )
    return form


def _uploaded_job(request: HttpRequest, pk: int) -> ImportJob | None:
    job = _job(request, pk)
    return job if job.state == ImportJob.State.UPLOADED else None


@admin_required
def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = _uploaded_job(request, pk)
    if job is None:
        return redirect("imports:detail", pk=pk)
    try:
        headers, sample = services.head(job)
    except UnreadableFile as exc:
        messages.error(request, str(exc))
        return redirect("imports:new")
    form = _mapping_form(job, headers, request.POST if request.method == "POST" else None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        chosen = {
            int(name.removeprefix("col_")): value
            for name, value in form.cleaned_data.items()
            if value != IGNORE
        }
        problems = services.set_mapping(job, chosen, width=len(headers))
        if not problems:
            return redirect("imports:preview", pk=job.pk)
    columns = [
        {
            "field": form[f"col_{index}"],
            "samples": [row[index] for row in sample if row[index] not in (None, "")][:3],
        }
        for index in range(len(headers))
    ]
    importer = importer_class(job.target)
    context = {"job": job, "columns": columns, "problems": problems, "importer": importer}
    return render(request, "imports/mapping.html", context)


@admin_required
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    job = _uploaded_job(request, pk)
    if job is None:
        return redirect("imports:detail", pk=pk)
    try:
        summary = services.preview_job(job)
    except UnreadableFile as exc:
        messages.error(request, str(exc))
        return redirect("imports:mapping", pk=job.pk)
    importer = importer_class(job.target)
    context = {
        "job": job,
        "summary": summary,
        "columns": importer.preview_columns,
        "preview_rows": [
            {
                "row": row["row"],
                "action": row["action"],
                "cells": [row.get(column, "") for column in importer.preview_columns],
            }
            for row in summary.preview
        ],
        "updated_fields": [
            (importer.field_label(name), count)
            for name, count in summary.updated_fields.most_common()
        ]
        if summary.updated
        else [],
    }
    return render(request, "imports/preview.html", context)


@admin_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if services.queue_job(job):
        messages.success(request, f"Importing {job.original_name}: this page shows how far it got.")
    return redirect("imports:detail", pk=job.pk)


def _status_context(job: ImportJob) -> dict[str, Any]:
    summary = job.summary or {}
    return {
        "job": job,
        "repeated": summary.get("repeated", 0),
        "unchanged": summary.get("unchanged", 0),
        "rejections": summary.get("rejections", [])[:20],
    }


@admin_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.state == ImportJob.State.UPLOADED:
        return redirect("imports:mapping", pk=job.pk)
    return render(request, "imports/detail.html", _status_context(job))


@admin_required
@vary_on_headers("HX-Request")
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """The #import-status fragment the detail page polls every second."""
    job = _job(request, pk)
    if not request.htmx:
        return redirect("imports:detail", pk=job.pk)
    html = render_to_string(
        "imports/detail.html#import-status", _status_context(job), request=request
    )
    if job.is_finished:
        return HttpResponseStopPolling(html)
    return HttpResponse(html)


@admin_required
def rejected_rows(request: HttpRequest, pk: int) -> FileResponse:
    job = _job(request, pk)
    if not job.rejected_file:
        raise Http404("This import rejected no rows.")
    try:
        handle = job.rejected_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The rejected rows are no longer stored.") from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{job.original_name.rsplit('.', 1)[0]}-rejected.csv",
        content_type="text/csv; charset=utf-8",
    )
