from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import Q
from django.urls import reverse

from links.verification.urls import host_of, normalize_url, url_key


class Role(models.TextChoices):
    MEMBER = "member", "Member"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


ROLE_RANK = {Role.MEMBER: 0, Role.MANAGER: 1, Role.ADMIN: 2}


class UserManager(DjangoUserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    objects = UserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
        ]

    def save(self, *args, **kwargs):
        # The role is the one source of truth; Django's flags follow it so that
        # the admin site opens exactly for admins, with every permission.
        self.is_staff = self.is_superuser = self.role == Role.ADMIN
        super().save(*args, **kwargs)

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]

    @property
    def sees_all_campaigns(self) -> bool:
        return self.has_role(Role.MANAGER)


class CampaignQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> CampaignQuerySet:
        if not user.is_authenticated:
            return self.none()
        if user.sees_all_campaigns:
            return self
        return self.filter(memberships__user=user)


class Campaign(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    site = models.CharField(max_length=253, help_text="The domain we build links for.")
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="owned_campaigns")
    members = models.ManyToManyField(
        User, through="Membership", related_name="campaigns", blank=True
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    goal_links = models.PositiveIntegerField(null=True, blank=True)
    goal_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "paused", "archived"]),
                name="campaign_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(goal_links__isnull=True) | Q(goal_links__gt=0),
                name="campaign_goal_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.site = self.site.strip().lower().removeprefix("www.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("campaigns:detail", args=[self.slug])


class Membership(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.campaign}"


class TargetPage(models.Model):
    """A page of ours we want links to, or with ``is_domain`` any page of a domain."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="target_pages")
    url = models.URLField(max_length=2000)
    url_key = models.CharField(max_length=2000, editable=False)
    is_domain = models.BooleanField(
        default=False, help_text="Any link to this domain counts, not only to this page."
    )
    title = models.CharField(max_length=300, blank=True)
    keywords = models.TextField(blank=True, help_text="Comma-separated.")
    priority = models.PositiveSmallIntegerField(default=3, help_text="1 (highest) to 5.")

    class Meta:
        ordering = ["priority", "url"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "url_key"], name="targetpage_unique_url"),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=5), name="targetpage_priority_range"
            ),
        ]

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs):
        self.url = normalize_url(self.url)
        # A domain target is a host (Target.host): blog.ours.com is not ours.com.
        self.url_key = host_of(self.url) if self.is_domain else url_key(self.url)
        super().save(*args, **kwargs)

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.split(",") if k.strip()]


class TallyTimeZone(models.Model):
    """The time zone the database's per-day counts (config.tallies) are in: one
    row, the site's TIME_ZONE when they were last counted. The triggers read it;
    the compaction task counts again when the site's time zone changes."""

    name = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.name
