"""Digest emails in the layouts of the services, written by the tests.

HARO's classic plain-text digest (an index of titles, then numbered entries
with "Summary / Name / Category / Email / Media Outlet / Deadline / Query /
Requirements"), Qwoted's HTML opportunity email ("Opportunity / Reporter /
Media Outlet / Deadline / Details / View & Pitch" button), SourceBottle's
call-outs ("Call-out / Posted by / Publication / Category / Deadline /
Details"), and a newsletter that follows no layout at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

RECEIVED = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)

HARO_TEXT = """\
HARO -- Help A Reporter Out

****************************
INDEX
****************************

Lifestyle and Fitness
1) Trail running shoes for beginners (Runner's Weekly)
2) Sleep habits of endurance athletes (Health Desk)

Business and Finance
3) Small business budgeting apps (Anonymous)

****************************
Lifestyle and Fitness
****************************

-----------------------------------
1) Summary: Trail running shoes for beginners
Name: Jane Doe Runner's Weekly
Category: Lifestyle and Fitness
Email: query-a1b2@helpareporter.net
Media Outlet: Runner's Weekly
Deadline: 7:00 PM EST - 12 March

Query:

I'm writing about how beginners should choose their first pair of
trail running shoes. What should they look for in grip and cushioning?

Requirements:

Running coaches or podiatrists only.

Back to Top Back to Category Index
-----------------------------------
2) Summary: Sleep habits of endurance athletes
Name: Sam Lee Health Desk
Category: Lifestyle and Fitness
Email: query-c3d4@helpareporter.net
Media Outlet: Health Desk
Deadline: 5:00 PM PDT - 13 March

Query:

How much sleep do marathon runners need during a training block?

Requirements:

Sleep scientists, MDs.

Back to Top Back to Category Index
-----------------------------------
****************************
Business and Finance
****************************
-----------------------------------
3) Summary: Small business budgeting apps
Name: Anonymous
Category: Business and Finance
Email: query-e5f6@helpareporter.net
Media Outlet: Anonymous
Deadline: 12:00 PM EST - 11 March

Query:

Which budgeting apps do small business owners swear by, and why?

Requirements:

Small business owners in the US.

Back to Top Back to Category Index
-----------------------------------

To unsubscribe from HARO, click here.
"""

QWOTED_HTML = """\
<html><head><style>p {margin:0}</style></head><body>
<h1>New opportunities matching your expertise</h1>
<div class="opportunity">
  <p><b>Opportunity:</b> Looking for running coaches on marathon taper mistakes</p>
  <p><b>Reporter:</b> Alex Kim</p>
  <p><b>Media Outlet:</b> Outdoor Today</p>
  <p><b>Deadline:</b> Mar 14, 2026 5:00 PM EDT</p>
  <p><b>Details:</b> What are the most common mistakes runners make in the last
  three weeks before a marathon?</p>
  <p><a href="https://app.qwoted.com/opportunities/98765">View &amp; Pitch</a></p>
</div>
<hr>
<div class="opportunity">
  <p><b>Opportunity:</b> Fintech founders on invoicing</p>
  <p><b>Reporter:</b> Priya Shah</p>
  <p><b>Media Outlet:</b> Money Matters</p>
  <p><b>Deadline:</b> Mar 20, 2026 9:00 AM PST</p>
  <p><b>Details:</b> How are small firms automating invoices in 2026?</p>
  <p><a href="https://app.qwoted.com/opportunities/98766">View &amp; Pitch</a></p>
</div>
<p>You are receiving this email because you have a Qwoted account.</p>
</body></html>
"""

SOURCEBOTTLE_TEXT = """\
SourceBottle call-outs for you

Call-out: Experts wanted on choosing hiking boots
Posted by: Mia Chen
Publication: Trek Australia
Category: Travel & Outdoors
Deadline: 15/03/2026 17:00 AEDT
Details: We need a gear expert to explain how to fit hiking boots for long
walks, and what to avoid when buying online.
"""

NEWSLETTER_TEXT = """\
Hi there,

This week we are looking for stories about community sports clubs. If you run
one, reply to this email with a few lines about your club before Friday.

Thanks!
"""


def email_bytes(
    *,
    sender: str,
    subject: str,
    text: str | None = None,
    html: str | None = None,
    message_id: str | None = None,
    date: datetime = RECEIVED,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "digests@ours.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id or make_msgid(domain="digests.test")
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return bytes(message)


def haro_email(**kwargs) -> bytes:
    return email_bytes(
        sender="HARO <haro@helpareporter.com>",
        subject="[HARO] Tuesday Afternoon Edition",
        text=HARO_TEXT,
        **kwargs,
    )


def qwoted_email(*, deadline_year: int = 2026, **kwargs) -> bytes:
    return email_bytes(
        sender="Qwoted <opportunities@qwoted.com>",
        subject="2 new opportunities for you",
        html=QWOTED_HTML.replace("2026", str(deadline_year)),
        **kwargs,
    )


def sourcebottle_email(**kwargs) -> bytes:
    return email_bytes(
        sender="SourceBottle <callouts@sourcebottle.com>",
        subject="Today's call-outs",
        text=SOURCEBOTTLE_TEXT,
        **kwargs,
    )


def newsletter_email(**kwargs) -> bytes:
    return email_bytes(
        sender="Club News <news@clubs.example>",
        subject="Stories wanted",
        text=NEWSLETTER_TEXT,
        **kwargs,
    )
