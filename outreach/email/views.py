"""Outreach email pages: templates (managers write, members use), the email panel
of a prospect (preview, start, stop, settle an uncertain send), mailboxes and the
do-not-contact list (admins), and the outreach stats (managers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from campaigns.access import (
    admin_required,
    get_campaign_for_user,
    manager_required,
    member_required,
)
from campaigns.models import Campaign, Role
from outreach.email import configuration, mailboxes, recovery, sequences, stats, templates
from outreach.email.forms import DoNotContactForm, MailboxForm, StartSequenceForm, TemplateForm
from outreach.email.models import DoNotContact, EmailTemplate, Mailbox, ScheduledEmail, Sequence
from outreach.email.safety import safety_reasons
from outreach.email.wire import merge
from outreach.models import Prospect

PAGE_SIZE = 50


def _htmx_target(request: HttpRequest) -> str | None:
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target


# --- templates --------------------------------------------------------------------


@member_required
def template_list(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    templates = (
        EmailTemplate.objects.filter(campaign=campaign)
        .annotate(
            follow_up_count=Count("follow_ups", distinct=True),
            sequence_count=Count("sequences", distinct=True),
        )
        .order_by("is_archived", "name")
    )
    page = Paginator(templates, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "outreach/email_template_list.html",
        {
            "campaign": campaign,
            "page": page,
            "can_edit": request.user.has_role(Role.MANAGER),
            "tab": "templates",
        },
    )


def _template_form_page(
    request: HttpRequest, campaign: Campaign, template: EmailTemplate | None
) -> HttpResponse:
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = configuration.save_template(
                    campaign,
                    template=template,
                    name=data["name"],
                    subject=data["subject"],
                    body=data["body"],
                    follow_ups=data["follow_ups"],
                    is_archived=data["is_archived"],
                    by=request.user,
                )
            except ValidationError as exc:
                _errors_onto(form, exc)
            else:
                messages.success(request, f"Template “{saved.name}” saved.")
                return redirect("outreach:email_templates", campaign.slug)
        status = 400
    else:
        form = TemplateForm(initial=TemplateForm.initial_for(template))
        status = 200
    return render(
        request,
        "outreach/email_template_form.html",
        {"campaign": campaign, "form": form, "template": template, "tab": "templates"},
        status=status,
    )


def _errors_onto(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


@manager_required
def template_create(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    return _template_form_page(request, campaign, None)


@manager_required
def template_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    template = get_object_or_404(EmailTemplate, campaign=campaign, pk=pk)
    return _template_form_page(request, campaign, template)


# --- the prospect's email panel ---------------------------------------------------


def _panel_response(
    request: HttpRequest,
    campaign: Campaign,
    prospect: Prospect,
    *,
    notice: str = "",
    ok: bool = True,
    reasons: list[str] | None = None,
) -> HttpResponse:
    if _htmx_target(request) == "prospect-email":
        context = {
            "campaign": campaign,
            "prospect": prospect,
            "email": sequences.panel_context(campaign, prospect),
            "email_notice": notice,
            "email_notice_ok": ok,
            "email_reasons": reasons or [],
        }
        return render(request, "outreach/prospect_detail.html#prospect-email", context)
    if notice:
        (messages.success if ok else messages.error)(request, " ".join([notice, *(reasons or [])]))
    return redirect("outreach:prospect_detail", campaign.slug, prospect.pk)


def _prospect(campaign: Campaign, pk: int) -> Prospect:
    return get_object_or_404(
        Prospect.objects.select_related("offered_target"), campaign=campaign, pk=pk
    )


@member_required
@vary_on_headers("HX-Request")
def email_preview(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The pitch and follow-ups as this prospect would get them, or what blocks them."""
    campaign = get_campaign_for_user(request, slug)
    prospect = _prospect(campaign, pk)
    form = StartSequenceForm(
        request.GET, campaign=campaign, mailboxes=mailboxes.for_campaign(campaign)
    )
    context: dict[str, Any] = {"campaign": campaign, "prospect": prospect, "form": form}
    if form.is_valid():
        template, mailbox = form.cleaned_data["template"], form.cleaned_data["mailbox"]
        values = templates.merge_values(
            prospect,
            campaign=campaign,
            mailbox=mailbox,
            target_url=templates.top_target_url(campaign),
        )
        try:
            context["emails"] = templates.render_emails(
                template, list(template.follow_ups.all()), values
            )
        except merge.MissingValues as exc:
            context["missing"] = str(exc)
        context["blocked"] = safety_reasons(campaign, [prospect]).get(prospect.pk, [])
        context["mailbox"] = mailbox
    if _htmx_target(request) == "email-preview":
        return render(request, "outreach/email_preview.html#email-preview", context)
    return render(request, "outreach/email_preview.html", {**context, "tab": "prospects"})


@member_required
@require_POST
def email_start(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    prospect = _prospect(campaign, pk)
    form = StartSequenceForm(
        request.POST, campaign=campaign, mailboxes=mailboxes.for_campaign(campaign)
    )
    if not form.is_valid():
        return _panel_response(
            request, campaign, prospect, notice="Choose a template and a mailbox.", ok=False
        )
    try:
        result = sequences.start_sequences(
            campaign,
            prospect_ids=[prospect.pk],
            template=form.cleaned_data["template"],
            mailbox=form.cleaned_data["mailbox"],
            by=request.user,
        )
    except ValidationError as exc:
        return _panel_response(request, campaign, prospect, notice=" ".join(exc.messages), ok=False)
    if result.blocked:
        return _panel_response(
            request,
            campaign,
            prospect,
            notice="Not started:",
            ok=False,
            reasons=result.blocked[0].reasons,
        )
    mailbox = form.cleaned_data["mailbox"]
    when = mailboxes.next_window_start(mailbox, timezone.now())
    if when <= timezone.now():
        note = "The pitch goes out within a minute or two"
    else:
        note = f"The pitch goes out when {mailbox.email}'s sending hours begin"
    return _panel_response(
        request, campaign, prospect, notice=f"Sequence started. {note}; follow-ups stop on a reply."
    )


@member_required
@require_POST
def sequence_stop(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    sequence = get_object_or_404(
        Sequence.objects.select_related("prospect"), campaign=campaign, pk=pk
    )
    stopped = sequences.stop_sequence(sequence, reason=Sequence.StopReason.MANUAL)
    notice = "Sequence stopped: nothing more will be sent." if stopped else "It had already ended."
    return _panel_response(request, campaign, sequence.prospect, notice=notice)


@member_required
@require_POST
def email_resolve(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A person's answer for an email whose sending was interrupted."""
    campaign = get_campaign_for_user(request, slug)
    email = get_object_or_404(
        ScheduledEmail.objects.select_related("sequence__prospect"),
        sequence__campaign=campaign,
        pk=pk,
    )
    answer = request.POST.get("was_sent")
    prospect = email.sequence.prospect
    if answer not in {"yes", "no"}:
        return _panel_response(
            request, campaign, prospect, notice="Say whether it was sent.", ok=False
        )
    try:
        recovery.resolve_by_hand(email, was_sent=answer == "yes", by=request.user)
    except ValidationError as exc:
        return _panel_response(request, campaign, prospect, notice=" ".join(exc.messages), ok=False)
    notice = (
        "Recorded as sent."
        if answer == "yes"
        else "Recorded as not sent: it goes out again if the sequence is still running."
    )
    return _panel_response(request, campaign, prospect, notice=notice)


@member_required
@require_POST
def contact_valid(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Clear "contact invalid" after the address was corrected."""
    campaign = get_campaign_for_user(request, slug)
    prospect = _prospect(campaign, pk)
    sequences.clear_contact_invalid(prospect)
    return _panel_response(request, campaign, prospect, notice="The contact can be emailed again.")


# --- mailboxes (admins) ------------------------------------------------------------


@admin_required
def mailbox_list(request: HttpRequest) -> HttpResponse:
    boxes = mailboxes.for_admin_list()
    page = Paginator(boxes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "outreach/mailbox_list.html", {"page": page})


def _mailbox_form_page(request: HttpRequest, mailbox: Mailbox | None) -> HttpResponse:
    if request.method == "POST":
        form = MailboxForm(request.POST, instance=mailbox)
        if form.is_valid():
            data = form.cleaned_data
            saved = mailboxes.save_mailbox(
                form.save(commit=False),
                smtp_password=data["smtp_password_new"],
                imap_password=data["imap_password_new"],
                clear_passwords=data["clear_passwords"],
            )
            form.save_m2m()
            messages.success(request, f"Mailbox “{saved.name}” saved.")
            return redirect("outreach:mailbox_list")
        status = 400
    else:
        form = MailboxForm(instance=mailbox)
        status = 200
    return render(
        request, "outreach/mailbox_form.html", {"form": form, "mailbox": mailbox}, status=status
    )


@admin_required
def mailbox_create(request: HttpRequest) -> HttpResponse:
    return _mailbox_form_page(request, None)


@admin_required
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _mailbox_form_page(request, get_object_or_404(Mailbox, pk=pk))


# --- do-not-contact list (admins) ---------------------------------------------------


@admin_required
def do_not_contact(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = DoNotContactForm(request.POST)
        if form.is_valid():
            try:
                entry, created = configuration.add_do_not_contact(
                    form.cleaned_data["value"], reason=form.cleaned_data["reason"], by=request.user
                )
            except ValidationError as exc:
                form.add_error("value", exc)
            else:
                if created:
                    messages.success(request, f"{entry.value} will not be contacted.")
                else:
                    messages.info(request, f"{entry.value} was already on the list.")
                return redirect("outreach:do_not_contact")
    else:
        form = DoNotContactForm()
    query = request.GET.get("q", "").strip()
    entries = DoNotContact.objects.select_related("added_by").order_by("-created_at", "-id")
    if query:
        entries = entries.filter(value__icontains=query.lower())
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    status = 400 if form.is_bound else 200
    return render(
        request,
        "outreach/do_not_contact.html",
        {"form": form, "page": page, "q": query, "query": urlencode({"q": query}) if query else ""},
        status=status,
    )


@admin_required
@require_POST
def do_not_contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(DoNotContact, pk=pk)
    configuration.remove_do_not_contact(entry)
    messages.success(request, f"{entry.value} removed from the do-not-contact list.")
    return redirect("outreach:do_not_contact")


# --- stats (managers) ---------------------------------------------------------------


@manager_required
@vary_on_headers("HX-Request")
def outreach_stats(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_campaign_for_user(request, slug)
    context = {"campaign": campaign, "stats": stats.outreach_stats(campaign), "tab": "dashboard"}
    if _htmx_target(request) == "outreach-stats":
        return render(request, "outreach/outreach_stats.html#outreach-stats", context)
    return render(request, "outreach/outreach_stats.html", context)
