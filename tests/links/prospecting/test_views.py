"""Pages of the broken-link finder and the link gap: forms, fragments, errors,
empty states, and query counts that do not grow with rows."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from links.prospecting import gap, services
from links.prospecting.models import (
    BacklinkExport,
    BrokenLinkScan,
    ExportState,
    ReferringDomain,
    ScanState,
)
from outreach.models import Prospect
from tests.factories import (
    BacklinkExportFactory,
    BrokenLinkScanFactory,
    DeadLinkFactory,
    ScanPageFactory,
    TargetPageFactory,
)

pytestmark = pytest.mark.django_db


def test_scan_list_empty_state(signed_in, campaign):
    response = signed_in.get(reverse("prospecting:scan_list", args=[campaign.slug]))
    assert "No scans yet" in response.content.decode()


def test_starting_a_scan_redirects_to_its_progress(signed_in, campaign, member):
    response = signed_in.post(
        reverse("prospecting:scan_list", args=[campaign.slug]),
        {"urls": "https://resources.example/links\nblog.example/list"},
    )
    scan = BrokenLinkScan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("prospecting:scan_detail", args=[campaign.slug, scan.pk])
    assert [p.url for p in scan.pages.all()] == [
        "https://resources.example/links",
        "https://blog.example/list",
    ]
    assert (scan.state, scan.created_by) == (ScanState.QUEUED, member)
    page = signed_in.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert "Cancel scan" in page


def test_hostile_urls_are_refused_with_the_reason(signed_in, campaign):
    response = signed_in.post(
        reverse("prospecting:scan_list", args=[campaign.slug]),
        {"urls": "http://169.254.169.254/latest/meta-data/\nfile:///etc/passwd\nhttp://localhost/"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "169.254.169.254 is not a public internet address" in text
    assert "not file:" in text
    assert "localhost is a name on the local network" in text
    assert not BrokenLinkScan.objects.exists()


def test_an_empty_form_says_what_to_do(signed_in, campaign):
    response = signed_in.post(reverse("prospecting:scan_list", args=[campaign.slug]), {})
    assert response.status_code == 400
    assert "Enter at least one page" in response.content.decode()


def test_progress_poll_reloads_the_page_when_the_scan_is_done(signed_in, campaign):
    scan = BrokenLinkScanFactory(campaign=campaign, state=ScanState.RUNNING, pages_total=2)
    url = reverse("prospecting:scan_progress", args=[campaign.slug, scan.pk])
    running = signed_in.get(url, headers={"HX-Request": "true"})
    assert 'id="scan-progress"' in running.content.decode()
    assert "Pages done: 1 / 2" in running.content.decode()
    BrokenLinkScan.objects.filter(pk=scan.pk).update(state=ScanState.DONE)
    done = signed_in.get(url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_cancel_from_the_progress_box(signed_in, campaign):
    scan = BrokenLinkScanFactory(campaign=campaign, state=ScanState.RUNNING)
    response = signed_in.post(
        reverse("prospecting:scan_cancel", args=[campaign.slug, scan.pk]),
        headers={"HX-Request": "true"},
    )
    assert "Cancelling" in response.content.decode()
    scan.refresh_from_db()
    assert scan.cancel_requested


def test_scan_results_rank_targets_and_make_a_prospect(signed_in, campaign, member):
    shoes = TargetPageFactory(campaign=campaign, title="Trail shoes", keywords="trail shoes")
    TargetPageFactory(campaign=campaign, title="Socks", keywords="socks")
    link = DeadLinkFactory(
        page__scan__campaign=campaign,
        anchor_text="guide to trail shoes",
        context="A guide to trail shoes for beginners.",
    )
    page = signed_in.get(
        reverse("prospecting:scan_detail", args=[campaign.slug, link.scan_id])
    ).content.decode()
    assert "guide to trail shoes" in page
    assert f"Best match: {shoes.url}" in page
    assert page.index(f'<option value="{shoes.pk}">') < page.index("Socks")

    response = signed_in.post(
        reverse("prospecting:dead_link_prospect", args=[campaign.slug, link.pk]),
        {"target": shoes.pk},
        headers={"HX-Request": "true"},
    )
    fragment = response.content.decode()
    assert fragment.lstrip().startswith(f'<tr id="dead-link-{link.pk}"')
    assert "Prospect created" in fragment
    assert "Re-check the dead link" in fragment
    prospect = Prospect.objects.get()
    assert (prospect.dead_url, prospect.offered_target) == (link.url, shoes)


def test_a_target_page_of_another_campaign_is_ignored(signed_in, campaign, other_campaign):
    link = DeadLinkFactory(page__scan__campaign=campaign)
    foreign = TargetPageFactory(campaign=other_campaign)
    signed_in.post(
        reverse("prospecting:dead_link_prospect", args=[campaign.slug, link.pk]),
        {"target": foreign.pk},
    )
    assert Prospect.objects.get().offered_target is None


def test_dead_links_of_another_campaign_are_not_found(signed_in, campaign, other_campaign):
    link = DeadLinkFactory(page__scan__campaign=other_campaign)
    response = signed_in.post(
        reverse("prospecting:dead_link_prospect", args=[campaign.slug, link.pk])
    )
    assert response.status_code == 404


def test_scan_detail_empty_state(signed_in, campaign):
    scan = ScanPageFactory(scan__campaign=campaign).scan
    page = signed_in.get(reverse("prospecting:scan_detail", args=[campaign.slug, scan.pk]))
    assert "No dead links on these pages" in page.content.decode()


def test_recheck_fragment(signed_in, campaign, settings, fresh_budgets):
    settings.VERIFIER_ALLOW_PRIVATE_NETWORKS = False
    prospect = Prospect.objects.create(
        campaign=campaign,
        kind="broken_link",
        url="https://r.example/",
        dead_url="http://10.1.2.3/x",
    )
    response = signed_in.post(
        reverse("prospecting:recheck_dead_link", args=[campaign.slug, prospect.pk]),
        headers={"HX-Request": "true"},
    )
    text = response.content.decode()
    assert f'id="recheck-{prospect.pk}"' in text
    assert "Checking the dead link" in text
    check = prospect.dead_checks.get()
    services.run_dead_link_check(check.pk)
    response = signed_in.get(
        reverse("prospecting:dead_link_check", args=[campaign.slug, prospect.pk, check.pk]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 286  # htmx stops polling
    text = response.content.decode()
    assert "Could not tell" in text
    assert "10.1.2.3" in text


def make_dead_links(campaign, count: int) -> BrokenLinkScan:
    scan = BrokenLinkScanFactory(campaign=campaign)
    for n in range(count):
        page = ScanPageFactory(scan=scan, position=n)
        DeadLinkFactory(page=page, scan=scan)
    TargetPageFactory.create_batch(3, campaign=campaign)
    return scan


@pytest.mark.parametrize("count", [3, 30])
def test_scan_detail_queries_do_not_grow_with_rows(
    signed_in, campaign, django_assert_max_num_queries, count
):
    scan = make_dead_links(campaign, count)
    with django_assert_max_num_queries(12):
        response = signed_in.get(reverse("prospecting:scan_detail", args=[campaign.slug, scan.pk]))
    assert response.content.decode().count('<tr id="dead-link-') == min(count, 25)


@pytest.mark.parametrize("count", [3, 30])
def test_scan_list_queries_do_not_grow_with_rows(
    signed_in, campaign, member, django_assert_max_num_queries, count
):
    BrokenLinkScanFactory.create_batch(count, campaign=campaign, created_by=member)
    for n in range(count):
        prospect = Prospect.objects.create(
            campaign=campaign,
            kind="broken_link",
            url=f"https://res{n}.example/",
            dead_url=f"https://gone{n}.example/",
            offered_target=TargetPageFactory(campaign=campaign),
        )
        prospect.dead_checks.create(
            url=prospect.dead_url,
            outcome="dead",
            reason="answered 404",
            checked_at=timezone.now(),
        )
    with django_assert_max_num_queries(10):
        response = signed_in.get(reverse("prospecting:scan_list", args=[campaign.slug]))
    text = response.content.decode()
    assert text.count('id="recheck-') == min(count, 25)
    assert "dead (answered 404)" in text


# -- link gap -----------------------------------------------------------------------------------


def test_link_gap_empty_state_for_members(signed_in, campaign):
    text = signed_in.get(reverse("prospecting:link_gap", args=[campaign.slug])).content.decode()
    assert "Upload the backlink exports of two or more competitors" in text
    assert "A manager uploads" in text


def test_manager_uploads_an_export_and_a_job_reads_it(client, manager, campaign):
    client.force_login(manager)
    csv = b"Referring page URL,Domain rating,Target URL\r\nhttps://a.example/p,40,https://r.example/\r\n"
    response = client.post(
        reverse("prospecting:link_gap_upload", args=[campaign.slug]),
        {"file": SimpleUploadedFile("ahrefs.csv", csv)},
        follow=True,
    )
    text = response.content.decode()
    assert "Reading ahrefs.csv" in text
    assert 'hx-trigger="every 1s"' in text  # the exports table polls while it is read
    export = BacklinkExport.objects.get()
    assert (export.state, export.uploaded_by) == (ExportState.QUEUED, manager)

    gap.run_export(export.pk)  # what the Celery task does
    poll = client.get(
        reverse("prospecting:link_gap_exports", args=[campaign.slug]),
        headers={"HX-Request": "true"},
    )
    assert poll["HX-Refresh"] == "true"
    text = client.get(reverse("prospecting:link_gap", args=[campaign.slug])).content.decode()
    assert "r.example" in text
    assert 'hx-trigger="every 1s"' not in text


def test_a_file_that_is_no_spreadsheet_is_refused_at_once(client, manager, campaign):
    client.force_login(manager)
    response = client.post(
        reverse("prospecting:link_gap_upload", args=[campaign.slug]),
        {"file": SimpleUploadedFile("report.pdf", b"%PDF-1.4 ...")},
        follow=True,
    )
    assert "report.pdf: Only CSV and XLSX files" in response.content.decode()
    assert not BacklinkExport.objects.exists()


def test_a_job_that_cannot_use_the_file_says_why_on_the_page(client, manager, campaign):
    client.force_login(manager)
    client.post(
        reverse("prospecting:link_gap_upload", args=[campaign.slug]),
        {"file": SimpleUploadedFile("notes.csv", b"Title,Anchor\r\nx,y\r\n")},
    )
    gap.run_export(BacklinkExport.objects.get().pk)
    text = client.get(reverse("prospecting:link_gap", args=[campaign.slug])).content.decode()
    assert "Failed" in text
    assert "No column with the linking page or domain" in text


def gap_rows(campaign, count: int) -> None:
    for competitor in ("rival-a.example", "rival-b.example"):
        export = BacklinkExportFactory(campaign=campaign, competitor=competitor, state="done")
        ReferringDomain.objects.bulk_create(
            ReferringDomain(
                export=export,
                campaign=campaign,
                competitor=competitor,
                domain=f"ref{n}.example",
                domain_rating=n,
                sample_url=f"https://ref{n}.example/p",
            )
            for n in range(count)
        )


@pytest.mark.parametrize("count", [3, 30])
def test_link_gap_queries_do_not_grow_with_rows(
    signed_in, campaign, django_assert_max_num_queries, count
):
    gap_rows(campaign, count)
    with django_assert_max_num_queries(10):
        response = signed_in.get(reverse("prospecting:link_gap", args=[campaign.slug]))
    text = response.content.decode()
    assert text.count('name="domain"') == count
    assert "rival-a.example, rival-b.example" in text


def test_link_gap_bulk_prospects(signed_in, campaign):
    gap_rows(campaign, 3)
    response = signed_in.post(
        reverse("prospecting:link_gap_prospects", args=[campaign.slug]),
        {"domain": ["ref1.example", "ref2.example"], "kind": "guest_post"},
        follow=True,
    )
    assert "2 new prospects." in response.content.decode()
    assert set(Prospect.objects.values_list("domain", "kind")) == {
        ("ref1.example", "guest_post"),
        ("ref2.example", "guest_post"),
    }


def test_link_gap_bulk_needs_a_pick(signed_in, campaign):
    response = signed_in.post(
        reverse("prospecting:link_gap_prospects", args=[campaign.slug]), {}, follow=True
    )
    assert "Tick at least one domain" in response.content.decode()


def test_next_must_stay_on_this_site(signed_in, campaign):
    gap_rows(campaign, 1)
    response = signed_in.post(
        reverse("prospecting:link_gap_prospects", args=[campaign.slug]),
        {"domain": ["ref0.example"], "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("prospecting:link_gap", args=[campaign.slug])


def test_the_prospect_page_of_a_broken_link_prospect_has_the_recheck_button(signed_in, campaign):
    prospect = Prospect.objects.create(
        campaign=campaign,
        kind="broken_link",
        url="https://r.example/",
        dead_url="https://g.example/",
    )
    text = signed_in.get(
        reverse("outreach:prospect_detail", args=[campaign.slug, prospect.pk])
    ).content.decode()
    assert f'id="recheck-{prospect.pk}"' in text
    assert reverse("prospecting:recheck_dead_link", args=[campaign.slug, prospect.pk]) in text


def test_campaign_tabs_lead_to_the_finders(signed_in, campaign):
    text = signed_in.get(reverse("campaigns:detail", args=[campaign.slug])).content.decode()
    assert reverse("prospecting:scan_list", args=[campaign.slug]) in text


def test_a_rows_own_button_makes_just_that_domain_a_prospect(signed_in, campaign):
    gap_rows(campaign, 3)
    signed_in.post(
        reverse("prospecting:link_gap_prospects", args=[campaign.slug]),
        {"domain": ["ref1.example"], "one": "ref2.example", "kind": "blogger"},
    )
    assert list(Prospect.objects.values_list("domain", flat=True)) == ["ref2.example"]
