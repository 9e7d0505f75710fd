"""The API twin of tests/test_url_access.py: every endpoint against every kind of
caller. A token has exactly its user's role and campaign access: anonymous,
revoked and expired tokens get 401; a member gets 404 for another campaign's
objects, whether named in the URL or by an id in the body (bulk payloads too);
a role too low for a write gets 403; managers and admins reach everything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, resolve

from campaigns.models import Role
from tests.factories import (
    AlertFactory,
    BacklinkFactory,
    CampaignFactory,
    ImportJobFactory,
    ProspectFactory,
    TargetPageFactory,
)

pytestmark = pytest.mark.django_db

Ctx = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[Ctx], str]
    body: Callable[[Ctx], Any] = lambda ctx: None
    min_role: str = Role.MEMBER
    ok: tuple[int, ...] = (200,)
    # True when the URL or the body names an object of one campaign (the "where").
    scoped: bool = True
    format: str = "json"


def objects_of(campaign) -> Ctx:
    page = TargetPageFactory(campaign=campaign)
    prospect = ProspectFactory(campaign=campaign)
    backlink = BacklinkFactory(campaign=campaign)
    return {
        "campaign": campaign,
        "page": page,
        "prospect": prospect,
        "backlink": backlink,
        "alert": AlertFactory(campaign=campaign, backlink=backlink),
        "import": ImportJobFactory(campaign=campaign),
    }


ENDPOINTS = [
    Endpoint("campaign list", "get", lambda c: "/api/v1/campaigns/", scoped=False),
    Endpoint("campaign detail", "get", lambda c: f"/api/v1/campaigns/{c['campaign'].pk}/"),
    Endpoint(
        "campaign create",
        "post",
        lambda c: "/api/v1/campaigns/",
        lambda c: {"name": "New", "slug": "new-one", "site": "new.example"},
        min_role=Role.MANAGER,
        ok=(201,),
        scoped=False,
    ),
    Endpoint(
        "campaign update",
        "patch",
        lambda c: f"/api/v1/campaigns/{c['campaign'].pk}/",
        lambda c: {"goal_links": 12},
        min_role=Role.MANAGER,
    ),
    Endpoint(
        "campaign filter", "get", lambda c: f"/api/v1/target-pages/?campaign={c['campaign'].pk}"
    ),
    Endpoint("target page detail", "get", lambda c: f"/api/v1/target-pages/{c['page'].pk}/"),
    Endpoint(
        "target page create",
        "post",
        lambda c: "/api/v1/target-pages/",
        lambda c: {"campaign": c["campaign"].pk, "url": "https://ours.example/new/"},
        min_role=Role.MANAGER,
        ok=(201,),
    ),
    Endpoint(
        "target page update",
        "patch",
        lambda c: f"/api/v1/target-pages/{c['page'].pk}/",
        lambda c: {"priority": 1},
        min_role=Role.MANAGER,
    ),
    Endpoint("prospect list", "get", lambda c: f"/api/v1/prospects/?campaign={c['campaign'].pk}"),
    Endpoint("prospect detail", "get", lambda c: f"/api/v1/prospects/{c['prospect'].pk}/"),
    Endpoint(
        "prospect create",
        "post",
        lambda c: "/api/v1/prospects/",
        lambda c: {
            "campaign": c["campaign"].pk,
            "kind": "blogger",
            "url": "https://fresh.example/post/",
        },
        ok=(201,),
    ),
    Endpoint(
        "prospect create naming a target page",
        "post",
        lambda c: "/api/v1/prospects/",
        lambda c: {
            "campaign": c["own"]["campaign"].pk,
            "kind": "broken_link",
            "url": "https://fresh.example/links/",
            "dead_url": "https://gone.example/",
            "offered_target": c["page"].pk,
        },
        # With another campaign's page the body is wrong for a manager too (the
        # page is not the prospect's campaign's): only the member's 404 matters.
        ok=(201, 400),
    ),
    Endpoint(
        "prospect update",
        "patch",
        lambda c: f"/api/v1/prospects/{c['prospect'].pk}/",
        lambda c: {"notes": "called"},
    ),
    Endpoint(
        "prospect status",
        "post",
        lambda c: f"/api/v1/prospects/{c['prospect'].pk}/status/",
        lambda c: {"status": "qualified"},
    ),
    Endpoint("prospect history", "get", lambda c: f"/api/v1/prospects/{c['prospect'].pk}/history/"),
    Endpoint(
        "prospect bulk",
        "post",
        lambda c: "/api/v1/prospects/bulk/",
        lambda c: {"campaign": c["campaign"].pk, "rows": [{"url": "https://bulk.example/"}]},
        min_role=Role.ADMIN,
        ok=(201,),
    ),
    Endpoint("backlink list", "get", lambda c: f"/api/v1/backlinks/?campaign={c['campaign'].pk}"),
    Endpoint("backlink detail", "get", lambda c: f"/api/v1/backlinks/{c['backlink'].pk}/"),
    Endpoint(
        "backlink create",
        "post",
        lambda c: "/api/v1/backlinks/",
        lambda c: {
            "prospect": c["prospect"].pk,
            "source_url": "https://blog.example/review/",
            "target_url": "https://ours.example/",
        },
        ok=(201,),
    ),
    Endpoint(
        "backlink create naming a target page",
        "post",
        lambda c: "/api/v1/backlinks/",
        lambda c: {
            "prospect": c["own"]["prospect"].pk,
            "source_url": "https://blog.example/review/",
            "target_page": c["page"].pk,
        },
        ok=(201, 400),
    ),
    Endpoint(
        "backlink recheck",
        "post",
        lambda c: f"/api/v1/backlinks/{c['backlink'].pk}/recheck/",
        ok=(202,),
    ),
    Endpoint("alert list", "get", lambda c: f"/api/v1/alerts/?campaign={c['campaign'].pk}"),
    Endpoint("alert read", "post", lambda c: f"/api/v1/alerts/{c['alert'].pk}/read/"),
    Endpoint(
        "import upload",
        "post",
        lambda c: "/api/v1/imports/",
        lambda c: {
            "campaign": c["campaign"].pk,
            "target": "prospects",
            "file": SimpleUploadedFile("list.csv", b"URL\r\nhttps://imported.example/\r\n"),
        },
        min_role=Role.ADMIN,
        ok=(202,),
        format="multipart",
    ),
    Endpoint(
        "import poll",
        "get",
        lambda c: f"/api/v1/imports/{c['import'].pk}/",
        min_role=Role.ADMIN,
    ),
]


@pytest.fixture
def world(member, campaign):
    other = CampaignFactory(slug="theirs")
    own = objects_of(campaign)
    theirs = objects_of(other)
    return {"on": {**own, "own": own}, "off": {**theirs, "own": own}}


def call(client, endpoint: Endpoint, ctx: Ctx):
    body = endpoint.body(ctx)
    kwargs = {"format": endpoint.format} if body is not None else {}
    return getattr(client, endpoint.method)(endpoint.path(ctx), body, **kwargs)


def assert_error_body(response) -> None:
    assert set(response.json()) == {"detail", "errors"}, response.json()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("caller", ["api_anonymous", "api_revoked", "api_expired"])
def test_without_a_usable_token_every_endpoint_is_401(request, world, endpoint, caller, queue):
    response = call(request.getfixturevalue(caller), endpoint, world["on"])
    assert response.status_code == 401
    assert_error_body(response)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_member_on_the_campaign(api_member, world, endpoint, queue):
    response = call(api_member, endpoint, world["on"])
    if endpoint.min_role == Role.MEMBER:
        # On their own campaign everything named is theirs: the success code.
        assert response.status_code == endpoint.ok[0], response.content
    else:
        assert response.status_code == 403
        assert_error_body(response)


@pytest.mark.parametrize(
    "endpoint",
    [e for e in ENDPOINTS if e.scoped and e.min_role == Role.MEMBER],
    ids=lambda e: e.name,
)
def test_a_member_off_the_campaign_gets_404(api_member, world, endpoint, queue):
    response = call(api_member, endpoint, world["off"])
    assert response.status_code == 404, response.content
    assert_error_body(response)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("caller", ["api_manager", "api_admin"])
def test_managers_and_admins_reach_every_campaign(request, world, endpoint, caller, queue):
    response = call(request.getfixturevalue(caller), endpoint, world["off"])
    if caller == "api_manager" and endpoint.min_role == Role.ADMIN:
        assert response.status_code == 403
    else:
        assert response.status_code in endpoint.ok, response.content


def test_lists_show_a_member_only_their_campaigns_rows(api_member, world):
    own, theirs = world["on"], world["off"]
    for path, key in [
        ("/api/v1/campaigns/", "campaign"),
        ("/api/v1/target-pages/", "page"),
        ("/api/v1/prospects/", "prospect"),
        ("/api/v1/backlinks/", "backlink"),
        ("/api/v1/alerts/", "alert"),
    ]:
        ids = {row["id"] for row in api_member.get(path).json()["results"]}
        assert own[key].pk in ids, path
        assert theirs[key].pk not in ids, path


def test_a_bulk_payload_naming_an_unknown_campaign_is_404(api_admin, world):
    response = api_admin.post(
        "/api/v1/prospects/bulk/",
        {"campaign": 10**9, "rows": [{"url": "https://bulk.example/"}]},
        format="json",
    )
    assert response.status_code == 404
    assert_error_body(response)


def test_a_member_cannot_assign_to_someone_off_the_campaign(api_member, world, manager):
    from tests.factories import UserFactory

    stranger = UserFactory(username="stranger")
    response = api_member.patch(
        f"/api/v1/prospects/{world['on']['prospect'].pk}/", {"assignee": stranger.pk}, format="json"
    )
    assert response.status_code == 400
    assert "assignee" in response.json()["errors"]


def test_every_api_route_is_in_the_matrix(world):
    """The page matrix (tests/test_url_access.py) leaves the API to this one: every
    API URL name must be reached by an ENDPOINTS entry (the schema and the docs
    are public and tested in test_schema.py)."""
    api = next(
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and p.namespace == "api"
    )
    names: set[str] = set()

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif pattern.name:
                names.add(pattern.name)

    walk(api.url_patterns)
    reached = {resolve(endpoint.path(world["on"]).split("?")[0]).url_name for endpoint in ENDPOINTS}
    assert names - reached == {"schema", "docs"}
