from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from campaigns.models import Campaign, Role, TargetPage, User
from outreach.models import Kind, Prospect, StatusChange
from tests.factories import CampaignFactory, ProspectFactory, UserFactory


def refused(make) -> bool:
    try:
        with transaction.atomic():
            make()
    except IntegrityError:
        return True
    return False


def test_duplicate_normalized_prospect_url_is_refused_by_the_database(campaign):
    ProspectFactory(campaign=campaign, url="https://www.Blog.example/post/")
    twin = Prospect(campaign=campaign, kind=Kind.BLOGGER, url="http://blog.example:80/post#top")
    assert refused(twin.save)


def test_same_prospect_url_is_allowed_in_another_campaign(campaign, other_campaign):
    ProspectFactory(campaign=campaign, url="https://blog.example/post")
    ProspectFactory(campaign=other_campaign, url="https://blog.example/post")
    assert Prospect.objects.filter(url_key="blog.example/post").count() == 2


def test_prospect_url_is_stored_normalized(campaign):
    prospect = ProspectFactory(campaign=campaign, url="HTTPS://Blog.EXAMPLE:443/a b/#frag")
    assert prospect.url == "https://blog.example/a%20b/"
    assert prospect.url_key == "blog.example/a%20b"
    assert prospect.domain == "blog.example"


def test_duplicate_target_page_is_refused(campaign):
    TargetPage.objects.create(campaign=campaign, url="https://ours.example/page/")
    twin = TargetPage(campaign=campaign, url="https://www.ours.example/page")
    assert refused(twin.save)


@pytest.mark.parametrize("rating", [-1, 101])
def test_domain_rating_outside_0_to_100_is_refused(campaign, rating):
    assert refused(lambda: ProspectFactory(campaign=campaign, domain_rating=rating))


def test_fee_belongs_to_guest_posts_only(campaign):
    assert refused(lambda: ProspectFactory(campaign=campaign, kind=Kind.BLOGGER, fee=50))
    assert ProspectFactory(campaign=campaign, kind=Kind.GUEST_POST, fee=50).fee == 50


def test_haro_fields_belong_to_haro_only(campaign):
    assert refused(lambda: ProspectFactory(campaign=campaign, kind=Kind.BLOGGER, query_text="q"))


def test_dead_url_belongs_to_broken_link_only(campaign):
    assert refused(
        lambda: ProspectFactory(
            campaign=campaign, kind=Kind.GUEST_POST, dead_url="https://x.example/"
        )
    )


def test_unknown_kind_and_status_are_refused(campaign):
    assert refused(lambda: ProspectFactory(campaign=campaign, kind="spam"))
    assert refused(lambda: ProspectFactory(campaign=campaign, status="limbo"))


def test_status_change_must_change_something(campaign):
    prospect = ProspectFactory(campaign=campaign)
    assert refused(
        lambda: StatusChange.objects.create(prospect=prospect, from_status="new", to_status="new")
    )


def test_campaign_goal_must_be_positive(db):
    assert refused(lambda: CampaignFactory(goal_links=0))


def test_role_drives_staff_flag(db):
    admin = UserFactory(role=Role.ADMIN)
    manager = UserFactory(role=Role.MANAGER)
    assert admin.is_staff
    assert not manager.is_staff
    manager.role = Role.ADMIN
    manager.save()
    manager.refresh_from_db()
    assert manager.is_staff


def test_createsuperuser_makes_an_admin(db):
    user = User.objects.create_superuser("root", "root@team.example", "pw")
    assert (user.role, user.is_staff, user.is_superuser) == (Role.ADMIN, True, True)


def test_demoted_admin_loses_the_admin_site(db):
    user = UserFactory(role=Role.ADMIN)
    user.role = Role.MANAGER
    user.save()
    assert (user.is_staff, user.is_superuser) == (False, False)


def test_members_see_only_their_campaigns_and_managers_see_all(member, manager):
    mine = CampaignFactory(members=[member])
    theirs = CampaignFactory()
    assert list(Campaign.objects.visible_to(member)) == [mine]
    assert set(Campaign.objects.visible_to(manager)) == {mine, theirs}


def test_campaign_site_is_stored_without_www(db):
    assert CampaignFactory(site="WWW.Shop.example").site == "shop.example"
