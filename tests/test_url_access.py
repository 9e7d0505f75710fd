"""The role-by-URL matrix. Every URL pattern of the project must be listed in
ROUTES with the role it needs; a new view without an entry fails
``test_every_url_pattern_is_in_the_matrix``, and each entry is then requested as
every kind of user to prove the view really checks what the entry says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from campaigns.models import Role
from links.prospecting.models import DeadLinkCheck
from tests.factories import (
    AlertFactory,
    BacklinkExportFactory,
    BacklinkFactory,
    CampaignFactory,
    DeadLinkFactory,
    ImportJobFactory,
    JournalistQueryFactory,
    ProspectFactory,
    ScanPageFactory,
    UserFactory,
)

PUBLIC = "public"


@dataclass(frozen=True)
class Route:
    name: str
    min_role: str = Role.MEMBER
    campaign_scoped: bool = False
    kwargs: Callable[[dict[str, Any]], dict[str, Any]] = lambda ctx: {}
    method: str = "get"
    data: Callable[[dict[str, Any]], dict[str, Any]] = lambda ctx: {}
    ok: tuple[int, ...] = (200,)
    headers: dict[str, str] = field(default_factory=dict)


def slug(ctx: dict[str, Any]) -> dict[str, Any]:
    return {"slug": ctx["campaign"].slug}


def prospect(ctx: dict[str, Any]) -> dict[str, Any]:
    return {"slug": ctx["campaign"].slug, "pk": ctx["prospect"].pk}


def backlink(ctx: dict[str, Any]) -> dict[str, Any]:
    return {"slug": ctx["campaign"].slug, "pk": ctx["backlink"].pk}


def job_pk(ctx: dict[str, Any]) -> dict[str, Any]:
    return {"pk": ImportJobFactory(campaign=ctx["campaign"]).pk}


def finished_job_pk(ctx: dict[str, Any]) -> dict[str, Any]:
    job = ImportJobFactory(campaign=ctx["campaign"], state="done", rejected_count=1)
    job.rejected_file.save("rejected.csv", ContentFile(b"URL,Reason\r\nx,bad\r\n"))
    return {"pk": job.pk}


def scan_kwargs(ctx: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": ctx["campaign"].slug,
        "scan_id": ScanPageFactory(scan__campaign=ctx["campaign"]).scan_id,
    }


def dead_link_kwargs(ctx: dict[str, Any]) -> dict[str, Any]:
    link = DeadLinkFactory(page__scan__campaign=ctx["campaign"])
    return {"slug": ctx["campaign"].slug, "link_id": link.pk}


def broken_prospect_kwargs(ctx: dict[str, Any]) -> dict[str, Any]:
    # A dead URL the fetcher refuses without any lookup or connection.
    prospect = ProspectFactory(
        campaign=ctx["campaign"], kind="broken_link", dead_url="http://127.0.0.1:1/gone"
    )
    return {"slug": ctx["campaign"].slug, "prospect_id": prospect.pk}


def dead_link_check_kwargs(ctx: dict[str, Any]) -> dict[str, Any]:
    kwargs = broken_prospect_kwargs(ctx)
    check = DeadLinkCheck.objects.create(
        prospect_id=kwargs["prospect_id"], url="http://127.0.0.1:1/gone"
    )
    return {**kwargs, "check_id": check.pk}


def export_kwargs(ctx: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": ctx["campaign"].slug,
        "export_id": BacklinkExportFactory(campaign=ctx["campaign"]).pk,
    }


def query_kwargs(ctx: dict[str, Any]) -> dict[str, Any]:
    return {"query_id": JournalistQueryFactory().pk}


def campaign_channel(ctx: dict[str, Any], kind: str = "slack") -> dict[str, Any]:
    from links.channels.models import AlertChannel

    channel = AlertChannel(
        campaign=ctx["campaign"], kind=kind, name="Team", url="https://hooks.slack.example/T/B/x"
    )
    channel.new_secret()
    channel.save()
    return {"slug": ctx["campaign"].slug, "pk": channel.pk}


def campaign_webhook(ctx: dict[str, Any]) -> dict[str, Any]:
    return campaign_channel(ctx, kind="webhook")


def my_channel(ctx: dict[str, Any], kind: str = "slack") -> dict[str, Any]:
    """A channel of the user making the request (each user sees only theirs;
    tests/links/channels/test_views.py shows others' are 404)."""
    from links.channels.models import AlertChannel

    # Without "who" (tests/test_view_conventions.py), the admin that test signs in.
    user = ctx["users"].get(ctx.get("who", "admin")) or ctx["users"]["member_on_campaign"]
    channel = AlertChannel(user=user, kind=kind, name="Mine", url="https://hooks.slack.example/m")
    channel.new_secret()
    channel.save()
    return {"pk": channel.pk}


def my_webhook(ctx: dict[str, Any]) -> dict[str, Any]:
    return my_channel(ctx, kind="webhook")


CHANNEL_FORM = {"kind": "slack", "name": "Team", "url": "https://hooks.slack.example/T/B/new"}

GAP_CSV = b"Referring page URL,Domain rating,Target URL\r\nhttps://a.example/p,40,https://rival.example/\r\n"

ROUTES: list[Route] = [
    Route("home", min_role=PUBLIC, ok=(302,)),
    Route("login", min_role=PUBLIC),
    Route("logout", min_role=PUBLIC, method="post", ok=(302,)),
    Route("about_bot", min_role=PUBLIC),
    Route("password_change"),
    # Personal API tokens: every signed-in user manages their own (revoking one
    # of someone else's finds nothing and says so; tests/api/test_tokens.py).
    Route("api_tokens:list"),
    Route("api_tokens:revoke", method="post", kwargs=lambda ctx: {"pk": 1}, ok=(302,)),
    Route("password_change_done"),
    Route("password_reset", min_role=PUBLIC),
    Route(
        "password_reset",
        min_role=PUBLIC,
        method="post",
        data=lambda ctx: {"email": "nobody@team.example"},
        ok=(302,),
    ),
    Route("password_reset_done", min_role=PUBLIC),
    # A link that never was: the page says so (a real one is tested in
    # tests/campaigns/test_accounts.py).
    Route(
        "password_reset_confirm",
        min_role=PUBLIC,
        kwargs=lambda ctx: {"uidb64": "MQ", "token": "set-password"},
    ),
    Route("password_reset_complete", min_role=PUBLIC),
    Route("campaigns:list"),
    Route("campaigns:detail", campaign_scoped=True, kwargs=slug),
    Route("campaigns:dashboard", min_role=Role.MANAGER, campaign_scoped=True, kwargs=slug),
    Route(
        "campaigns:dashboard_panel",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=lambda ctx: {"slug": ctx["campaign"].slug, "panel": "links-won"},
        headers={"HX-Request": "true"},
    ),
    Route("dashboard:all", min_role=Role.MANAGER),
    Route("dashboard:panel", min_role=Role.MANAGER, kwargs=lambda ctx: {"panel": "funnel"}),
    # Client reports: the campaign's members export too, not only managers.
    Route("campaigns:prospects_export", campaign_scoped=True, kwargs=slug),
    Route("campaigns:backlinks_export", campaign_scoped=True, kwargs=slug),
    # Prospects
    Route("outreach:prospect_list", campaign_scoped=True, kwargs=slug),
    Route(
        "outreach:prospect_list",
        campaign_scoped=True,
        kwargs=slug,
        data=lambda ctx: {"q": "example", "status": "open", "sort": "-dr"},
        headers={"HX-Request": "true", "HX-Target": "prospect-table"},
    ),
    Route(
        "outreach:prospect_bulk",
        campaign_scoped=True,
        kwargs=slug,
        method="post",
        data=lambda ctx: {
            "bulk-ids": [ctx["prospect"].pk],
            "bulk-action": "status",
            "bulk-status": "qualified",
        },
        ok=(302,),
    ),
    Route("outreach:prospect_detail", campaign_scoped=True, kwargs=prospect),
    Route(
        "outreach:prospect_status",
        campaign_scoped=True,
        kwargs=prospect,
        method="post",
        data=lambda ctx: {"status": "contacted"},
        ok=(302,),
    ),
    Route(
        "outreach:prospect_activity",
        campaign_scoped=True,
        kwargs=prospect,
        method="post",
        data=lambda ctx: {"kind": "note", "summary": "Called"},
        ok=(302,),
    ),
    # Backlinks and won links
    Route("links:backlink_list", campaign_scoped=True, kwargs=slug),
    Route("links:backlink_detail", campaign_scoped=True, kwargs=backlink),
    Route("links:backlink_row", campaign_scoped=True, kwargs=backlink),
    Route(
        "links:backlink_recheck", campaign_scoped=True, kwargs=backlink, method="post", ok=(302,)
    ),
    Route("links:mark_won", campaign_scoped=True, kwargs=prospect),
    Route(
        "links:mark_won",
        campaign_scoped=True,
        kwargs=prospect,
        method="post",
        data=lambda ctx: {
            "source_url": "https://won.example/post",
            "target_url": "https://ours.example/",
            "won_on": "2026-01-15",
        },
        ok=(302,),
    ),
    # Alerts and My day: not under a campaign's URL, but an alert of a campaign
    # the user is not on is a 404 like the campaign itself.
    Route("links:my_day"),
    Route("links:alert_list"),
    Route(
        "links:alert_read",
        campaign_scoped=True,
        kwargs=lambda ctx: {"pk": ctx["alert"].pk},
        method="post",
        ok=(302,),
    ),
    Route("links:alert_read_all", method="post", ok=(302,)),
    # Imports: admins only, whatever the campaign.
    Route("imports:history", min_role=Role.ADMIN),
    Route("imports:new", min_role=Role.ADMIN),
    Route(
        "imports:new",
        min_role=Role.ADMIN,
        method="post",
        data=lambda ctx: {
            "campaign": ctx["campaign"].pk,
            "target": "prospects",
            "kind": "blogger",
            "file": SimpleUploadedFile("p.csv", b"URL\r\nhttps://a.example/\r\n"),
        },
        ok=(302,),
    ),
    Route("imports:mapping", min_role=Role.ADMIN, kwargs=job_pk),
    Route("imports:preview", min_role=Role.ADMIN, kwargs=job_pk),
    Route("imports:confirm", min_role=Role.ADMIN, kwargs=job_pk, method="post", ok=(302,)),
    Route("imports:detail", min_role=Role.ADMIN, kwargs=finished_job_pk),
    Route(
        "imports:status",
        min_role=Role.ADMIN,
        kwargs=finished_job_pk,
        headers={"HX-Request": "true"},
        ok=(286,),
    ),
    Route("imports:rejected", min_role=Role.ADMIN, kwargs=finished_job_pk),
    # Exports: as for the lists, members of the campaign and managers.
    Route("exports:prospects_xlsx", campaign_scoped=True, kwargs=slug),
    Route("exports:backlinks_xlsx", campaign_scoped=True, kwargs=slug),
    # Prospecting: members of the campaign; uploading exports is for managers.
    Route("prospecting:scan_list", campaign_scoped=True, kwargs=slug),
    Route(
        "prospecting:scan_list",
        campaign_scoped=True,
        kwargs=slug,
        method="post",
        data=lambda ctx: {"urls": "https://resources.example/links"},
        ok=(302,),
    ),
    Route("prospecting:scan_detail", campaign_scoped=True, kwargs=scan_kwargs),
    Route(
        "prospecting:scan_progress",
        campaign_scoped=True,
        kwargs=scan_kwargs,
        headers={"HX-Request": "true"},
    ),
    Route(
        "prospecting:scan_cancel",
        campaign_scoped=True,
        kwargs=scan_kwargs,
        method="post",
        ok=(302,),
    ),
    Route(
        "prospecting:dead_link_prospect",
        campaign_scoped=True,
        kwargs=dead_link_kwargs,
        method="post",
        ok=(302,),
    ),
    Route(
        "prospecting:recheck_dead_link",
        campaign_scoped=True,
        kwargs=broken_prospect_kwargs,
        method="post",
        ok=(302,),
    ),
    Route(
        "prospecting:dead_link_check",
        campaign_scoped=True,
        kwargs=dead_link_check_kwargs,
        headers={"HX-Request": "true"},
    ),
    Route("prospecting:link_gap", campaign_scoped=True, kwargs=slug),
    Route("campaigns:comparison", campaign_scoped=True, kwargs=slug),
    Route(
        "prospecting:link_gap_upload",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=slug,
        method="post",
        data=lambda ctx: {"file": SimpleUploadedFile("ahrefs.csv", GAP_CSV)},
        ok=(302,),
    ),
    Route(
        "prospecting:link_gap_exports",
        campaign_scoped=True,
        kwargs=slug,
        headers={"HX-Request": "true"},
    ),
    Route(
        "prospecting:link_gap_prospects",
        campaign_scoped=True,
        kwargs=slug,
        method="post",
        data=lambda ctx: {"domain": ["a.example"], "kind": "blogger"},
        ok=(302,),
    ),
    Route(
        "prospecting:link_gap_delete_export",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=export_kwargs,
        method="post",
        ok=(302,),
    ),
    # Journalist queries: every member reads the inbox; a prospect needs the campaign.
    Route("inbox:queries"),
    Route("inbox:paste"),
    Route(
        "inbox:paste",
        method="post",
        data=lambda ctx: {"text": "Summary: Experts wanted\nQuery: Tell us about shoes."},
        ok=(302,),
    ),
    Route("inbox:poll", min_role=Role.ADMIN, method="post", ok=(302,)),
    Route(
        "inbox:query_prospect",
        campaign_scoped=True,
        kwargs=query_kwargs,
        method="post",
        data=lambda ctx: {"campaign": ctx["campaign"].slug},
        ok=(302,),
    ),
    Route("inbox:dismiss", kwargs=query_kwargs, method="post", ok=(302,)),
    # Outreach email: members use templates, managers write them; mailboxes and the
    # do-not-contact list are for admins; the stats for managers.
    Route("outreach:email_templates", campaign_scoped=True, kwargs=slug),
    Route(
        "outreach:email_template_create", min_role=Role.MANAGER, campaign_scoped=True, kwargs=slug
    ),
    Route(
        "outreach:email_template_create",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=slug,
        method="post",
        data=lambda ctx: {"name": "Pitch", "subject": "Hi {{ site }}", "body": "Hello"},
        ok=(302,),
    ),
    Route(
        "outreach:email_template_edit",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=lambda ctx: {"slug": ctx["campaign"].slug, "pk": ctx["template"].pk},
    ),
    Route(
        "outreach:email_template_edit",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=lambda ctx: {"slug": ctx["campaign"].slug, "pk": ctx["template"].pk},
        method="post",
        data=lambda ctx: {"name": "Renamed", "subject": "Hi", "body": "Hello"},
        ok=(302,),
    ),
    Route(
        "outreach:email_preview",
        campaign_scoped=True,
        kwargs=prospect,
        data=lambda ctx: {"template": ctx["template"].pk, "mailbox": ctx["mailbox"].pk},
        headers={"HX-Request": "true", "HX-Target": "email-preview"},
    ),
    Route(
        "outreach:email_start",
        campaign_scoped=True,
        kwargs=prospect,
        method="post",
        data=lambda ctx: {"template": ctx["template"].pk, "mailbox": ctx["mailbox"].pk},
        ok=(302,),
    ),
    Route(
        "outreach:contact_valid", campaign_scoped=True, kwargs=prospect, method="post", ok=(302,)
    ),
    Route(
        "outreach:sequence_stop",
        campaign_scoped=True,
        kwargs=lambda ctx: {"slug": ctx["campaign"].slug, "pk": ctx["sequence"].pk},
        method="post",
        ok=(302,),
    ),
    Route(
        "outreach:email_resolve",
        campaign_scoped=True,
        kwargs=lambda ctx: {"slug": ctx["campaign"].slug, "pk": ctx["uncertain_email"].pk},
        method="post",
        data=lambda ctx: {"was_sent": "no"},
        ok=(302,),
    ),
    Route("outreach:outreach_stats", min_role=Role.MANAGER, campaign_scoped=True, kwargs=slug),
    # Alert channels: a campaign's are for managers and admins; each user's own
    # are theirs, whatever the role.
    Route("alert_channels:campaign_list", min_role=Role.MANAGER, campaign_scoped=True, kwargs=slug),
    Route(
        "alert_channels:campaign_create", min_role=Role.MANAGER, campaign_scoped=True, kwargs=slug
    ),
    Route(
        "alert_channels:campaign_create",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=slug,
        method="post",
        data=lambda ctx: CHANNEL_FORM,
        ok=(302,),
    ),
    Route(
        "alert_channels:campaign_detail",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=campaign_channel,
    ),
    Route(
        "alert_channels:campaign_detail",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=campaign_channel,
        method="post",
        data=lambda ctx: {"name": "Renamed", "enabled": "on"},
        ok=(302,),
    ),
    Route(
        "alert_channels:campaign_delete",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=campaign_channel,
        method="post",
        ok=(302,),
    ),
    Route(
        "alert_channels:campaign_test",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=campaign_channel,
        method="post",
        ok=(302,),
    ),
    Route(
        "alert_channels:campaign_secret",
        min_role=Role.MANAGER,
        campaign_scoped=True,
        kwargs=campaign_webhook,
        method="post",
    ),
    Route("alert_channels:my_list"),
    Route("alert_channels:my_create"),
    Route(
        "alert_channels:my_create",
        method="post",
        data=lambda ctx: CHANNEL_FORM,
        ok=(302,),
    ),
    Route("alert_channels:my_detail", kwargs=my_channel),
    Route(
        "alert_channels:my_detail",
        kwargs=my_channel,
        method="post",
        data=lambda ctx: {"name": "Renamed", "enabled": "on"},
        ok=(302,),
    ),
    Route("alert_channels:my_delete", kwargs=my_channel, method="post", ok=(302,)),
    Route("alert_channels:my_test", kwargs=my_channel, method="post", ok=(302,)),
    Route("alert_channels:my_secret", kwargs=my_webhook, method="post"),
    Route("outreach:mailbox_list", min_role=Role.ADMIN),
    Route("outreach:mailbox_create", min_role=Role.ADMIN),
    Route(
        "outreach:mailbox_edit", min_role=Role.ADMIN, kwargs=lambda ctx: {"pk": ctx["mailbox"].pk}
    ),
    Route(
        "outreach:mailbox_edit",
        min_role=Role.ADMIN,
        kwargs=lambda ctx: {"pk": ctx["mailbox"].pk},
        method="post",
        data=lambda ctx: {
            "name": "Renamed",
            "from_name": "Mia",
            "email": "mia@agency.example",
            "is_active": "on",
            "daily_limit": 30,
            "window_start": "09:00",
            "window_end": "17:00",
            "time_zone": "Europe/Berlin",
            "smtp_host": "smtp.agency.example",
            "smtp_port": 587,
            "smtp_security": "starttls",
            "imap_port": 993,
            "imap_security": "ssl",
            "sent_folder": "Sent",
        },
        ok=(302,),
    ),
    Route("outreach:do_not_contact", min_role=Role.ADMIN),
    Route(
        "outreach:do_not_contact",
        min_role=Role.ADMIN,
        method="post",
        data=lambda ctx: {"value": "nope@blocked.example"},
        ok=(302,),
    ),
    Route(
        "outreach:do_not_contact_delete",
        min_role=Role.ADMIN,
        kwargs=lambda ctx: {"pk": ctx["dnc"].pk},
        method="post",
        ok=(302,),
    ),
]

# Django's admin site checks is_staff itself; the matrix checks that only admins
# get in.
ADMIN_ROUTES = [
    "admin:index",
    "admin:campaigns_campaign_changelist",
    "admin:axes_accessattempt_changelist",
]


def project_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                # The Django admin has its own matrix below; the REST API's
                # twin is tests/api/test_access.py (401s, tokens, bodies).
                if pattern.namespace in ("admin", "api"):
                    continue
                inner = pattern.namespace or namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"URL pattern {pattern.pattern} has no name"
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_pattern_is_in_the_matrix():
    listed = {route.name for route in ROUTES}
    missing = project_url_names() - listed
    assert not missing, f"URL patterns without an access rule in ROUTES: {sorted(missing)}"
    stale = listed - project_url_names()
    assert not stale, f"ROUTES lists URL names that no longer exist: {sorted(stale)}"


@pytest.fixture
def ctx(db) -> dict[str, Any]:
    member = UserFactory(username="m-on", role=Role.MEMBER)
    campaign = CampaignFactory(slug="ours", members=[member])
    prospect = ProspectFactory(campaign=campaign)
    backlink = BacklinkFactory(campaign=campaign, prospect=prospect)
    alert = AlertFactory(campaign=campaign, backlink=backlink)
    return {
        "campaign": campaign,
        "prospect": prospect,
        "backlink": backlink,
        "alert": alert,
        **outreach_email_rows(campaign),
        "users": {
            "anonymous": None,
            "member_on_campaign": member,
            "member_elsewhere": UserFactory(username="m-off", role=Role.MEMBER),
            "manager": UserFactory(username="mgr", role=Role.MANAGER),
            "admin": UserFactory(username="adm", role=Role.ADMIN),
        },
    }


def outreach_email_rows(campaign) -> dict[str, Any]:
    """A template, a mailbox, a running sequence (on another prospect, so that
    starting one on ``prospect`` is allowed) with an uncertain email, a
    do-not-contact entry."""
    from outreach.email.models import ScheduledEmail, Sequence
    from tests.factories import DoNotContactFactory, EmailTemplateFactory, MailboxFactory

    template = EmailTemplateFactory(campaign=campaign, body="Hi", follow_ups=[])
    mailbox = MailboxFactory(email="mia@agency.example")
    running_on = ProspectFactory(campaign=campaign, url="https://elsewhere.example/")
    sequence = Sequence.objects.create(
        campaign=campaign,
        prospect=running_on,
        template=template,
        mailbox=mailbox,
        domain=running_on.domain,
        to_email=running_on.contact_email,
    )
    uncertain = ScheduledEmail.objects.create(
        sequence=sequence,
        mailbox=mailbox,
        step=0,
        to_email=running_on.contact_email,
        subject="Hi",
        body="Hi",
        message_id="<matrix@agency.example>",
        state=ScheduledEmail.State.UNCERTAIN,
        due_at=campaign.created_at,
    )
    return {
        "template": template,
        "mailbox": mailbox,
        "sequence": sequence,
        "uncertain_email": uncertain,
        "dnc": DoNotContactFactory(),
    }


def expected_outcome(route: Route, who: str) -> str:
    if route.min_role == PUBLIC:
        return "ok"
    if who == "anonymous":
        return "login"
    rank = {"member_on_campaign": 0, "member_elsewhere": 0, "manager": 1, "admin": 2}[who]
    needed = {Role.MEMBER: 0, Role.MANAGER: 1, Role.ADMIN: 2}[Role(route.min_role)]
    if rank < needed:
        return "forbidden"
    if route.campaign_scoped and who == "member_elsewhere":
        return "not_found"
    return "ok"


WHO = ["anonymous", "member_on_campaign", "member_elsewhere", "manager", "admin"]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_route_access(client, ctx, route: Route, who: str):
    user = ctx["users"][who]
    if user is not None:
        client.force_login(user)
    # Who asks, for the routes whose rows belong to the user asking.
    ctx["who"] = who
    url = reverse(route.name, kwargs=route.kwargs(ctx))
    response = getattr(client, route.method)(url, data=route.data(ctx), headers=route.headers)
    outcome = expected_outcome(route, who)
    if outcome == "ok":
        assert response.status_code in route.ok, (url, who, response.status_code)
    elif outcome == "login":
        assert response.status_code == 302, (url, who, response.status_code)
        assert response["Location"].startswith(reverse("login")), response["Location"]
    elif outcome == "forbidden":
        assert response.status_code == 403, (url, who, response.status_code)
    else:
        assert response.status_code == 404, (url, who, response.status_code)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("name", ADMIN_ROUTES)
def test_django_admin_is_for_admins_only(client, ctx, name: str, who: str):
    user = ctx["users"][who]
    if user is not None:
        client.force_login(user)
    response = client.get(reverse(name))
    if who == "admin":
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
