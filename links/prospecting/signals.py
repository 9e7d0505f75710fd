"""What the link gap tells the rest of links without importing it.

The quality score reads the ratings competitor exports give (links.quality
imports the link gap's models), so the link gap cannot call it back: it says
that a campaign's exports changed, and links' app config connects the refresh.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that read or deleted an export, with campaign_id.
exports_changed = Signal()
