from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from campaigns.models import Campaign, User
from links.models import Alert, Backlink, LinkCheck
from outreach.models import Kind, OutreachActivity, Prospect, Status, StatusChange


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Campaign,
            Prospect,
            StatusChange,
            OutreachActivity,
            Backlink,
            LinkCheck,
            Alert,
        )
    }


def test_seed_demo_twice_gives_the_same_counts(db, tmp_path):
    out = StringIO()
    call_command("seed_demo", stdout=out, credentials_file=str(tmp_path / "logins.txt"))
    first = counts()
    assert "admin:" in out.getvalue()

    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert counts() == first
    assert "admin:" not in again.getvalue()  # passwords are printed once


def test_seed_demo_covers_every_kind_status_and_90_days(db):
    call_command("seed_demo", stdout=StringIO())
    demo = Campaign.objects.get(slug="demo")
    prospects = Prospect.objects.filter(campaign=demo)
    assert 250 <= prospects.count() <= 350
    assert set(prospects.values_list("kind", flat=True)) == set(Kind.values)
    assert set(prospects.values_list("status", flat=True)) == set(Status.values)
    history = StatusChange.objects.filter(prospect__campaign=demo)
    oldest = history.order_by("changed_at").first().changed_at
    newest = history.order_by("changed_at").last().changed_at
    assert (newest - oldest).days >= 80
    assert 100 <= Backlink.objects.filter(campaign=demo).count() <= 140
    assert LinkCheck.objects.filter(backlink__campaign=demo).count() > Backlink.objects.count()
    assert set(User.objects.values_list("username", flat=True)) >= {"admin", "manager", "member"}


def test_seed_demo_writes_the_credentials_file_privately(db, tmp_path):
    path = tmp_path / "logins.txt"
    call_command("seed_demo", stdout=StringIO(), credentials_file=str(path))
    assert path.stat().st_mode & 0o777 == 0o600
    admin_password = dict(line.split(": ", 1) for line in path.read_text().splitlines())["admin"]
    assert User.objects.get(username="admin").check_password(admin_password)
