"""Hostile mail costs milliseconds: every regular expression and parser that reads
a stranger's email, tried with hypothesis and with an adversarial input at its cap.

The time budget is a generous constant on purpose: the quadratic shapes these
tests guard against take seconds to hours at these sizes, the linear ones a few
milliseconds, so the line sits far from both.
"""

from __future__ import annotations

import time
from email.message import Message

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.email.wire import imap, merge, message, secrets

BUDGET = 0.5  # seconds, for one call on an input at its cap
PROPERTY = settings(max_examples=150, deadline=None)
# Characters the patterns care about, so hypothesis reaches their corners.
MAIL_ALPHABET = st.sampled_from(
    [*"aeOnw@<>()[]\"'=?:;-_ \t\r\n>.,", "wrote:", "On ", "From: ", "=?utf-8?q?", "\n\n"]
)
mail_text = st.lists(MAIL_ALPHABET, max_size=300).map("".join)


def timed(call, *args):
    # CPU time, not wall time: the bound is on what the input costs to process;
    # wall time would also count whatever else shares the cores (the suite runs
    # in parallel, scripts/run-tests.sh).
    started = time.process_time()
    result = call(*args)
    return result, time.process_time() - started


# --- the whole reader ----------------------------------------------------------------


@PROPERTY
@given(st.binary(max_size=4096))
def test_any_bytes_are_read_without_error(raw):
    parsed, elapsed = timed(message.read, raw)
    assert parsed.kind in {"reply", "auto_reply", "unsubscribe", "bounce", "notice"}
    assert elapsed < BUDGET


@PROPERTY
@given(headers=st.lists(mail_text, max_size=6), body=mail_text)
def test_any_headers_and_body_are_read_without_error(headers, body):
    names = ["From", "Subject", "References", "In-Reply-To", "Content-Type", "Date"]
    lines = [f"{name}: {value}" for name, value in zip(names, headers, strict=False)]
    raw = ("\n".join(lines) + "\n\n" + body).encode()
    parsed, elapsed = timed(message.read, raw)
    assert all(ref.startswith("<") and ref.endswith(">") for ref in parsed.referenced_ids)
    assert elapsed < BUDGET


def reply_with(body: bytes, headers: bytes = b"") -> bytes:
    return b"From: jo@runner-blog.example\r\nSubject: Re: hi\r\n" + headers + b"\r\n" + body


ADVERSARIAL = {
    # The one from the issue: QUOTE_START took 16 s on 64 KB of these.
    "1 MB of blank lines": reply_with(b"\n" * (1024 * 1024)),
    "2 MB of CRLF and blanks": reply_with(b"\r\n \t" * (512 * 1024)),
    "full-length lines that start like a quote header": reply_with(
        (b"On " + b"x" * 995 + b"\n") * 2000
    ),
    "lines of 'Am ... schrieb' teeth": reply_with((b"Am " + b"schrieb " * 124 + b"\n") * 2000),
    "a message-id header of a@a@a@": reply_with(b"hi", b"References: <" + b"a@" * 4000 + b"\r\n"),
    "an encoded-word subject that never closes": reply_with(
        b"hi", b"Subject: " + b"=?a?q?" * 1400 + b"\r\n"
    ),
    "a From of nested comments": b"From: " + b"(" * 8000 + b"\r\n\r\nhi",
    "a Content-Type of nested comments": reply_with(
        b"hi", b"Content-Type: text/plain; charset=" + b"(" * 8000 + b"\r\n"
    ),
    "a 2 MB header": reply_with(b"hi", b"X-Junk: " + b"a" * (2 * 1024 * 1024) + b"\r\n"),
    "an HTML body of unclosed tags": reply_with(
        b"<a" * (256 * 1024), b"Content-Type: text/html\r\n"
    ),
    "a 2 MB line of unsubscribe teeth": reply_with(b"stop e-" * (300 * 1024)),
}


@pytest.mark.parametrize("raw", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_mail_is_read_within_budget(raw):
    _, elapsed = timed(message.read, raw)
    assert elapsed < BUDGET


def test_the_blank_line_reply_reads_as_an_empty_reply():
    parsed, elapsed = timed(message.read, ADVERSARIAL["1 MB of blank lines"])
    assert (parsed.kind, parsed.text) == ("reply", "")
    assert elapsed < BUDGET


# --- caps ----------------------------------------------------------------------------


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from(["X-A", "References", " "]), st.integers(0, 20_000))))
def test_bound_caps_every_header_field_and_the_block(fields):
    head = b"".join(
        (b" " if name == " " else name.encode() + b": ") + b"a" * size + b"\r\n"
        for name, size in fields
    )
    bounded = message.bound(head + b"\r\nbody")
    block = bounded[: bounded.index(b"\r\n\r\n") + 2] if b"\r\n\r\n" in bounded else bounded
    assert len(block) <= message.MAX_HEADER_BLOCK_BYTES
    field = 0
    for line in block.splitlines(keepends=True):
        field = field + len(line) if line[:1] in (b" ", b"\t") else len(line)
        assert field <= message.MAX_HEADER_BYTES
    assert len(bounded) <= message.MAX_RAW_BYTES


def test_bound_leaves_a_normal_message_alone():
    raw = reply_with(b"Thanks!\r\n\r\n> quoted\r\n", b"References: <a@b.example>\r\n")
    assert message.bound(raw) == raw


def test_bound_caps_the_body_lines():
    bounded = message.bound(reply_with(b"x\n" * (message.MAX_BODY_LINES * 2)))
    assert bounded.count(b"\n") <= message.MAX_BODY_LINES + 3


# --- each pattern --------------------------------------------------------------------


@PROPERTY
@given(mail_text)
def test_new_text_keeps_only_unquoted_lines_above_the_quote(text):
    kept, elapsed = timed(message._new_text, text + "\nOn Mon, Jo wrote:\nQUOTED-TAIL")
    assert "QUOTED-TAIL" not in kept
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    source = {line.strip() for line in lines}
    for line in filter(str.strip, kept.split("\n")):
        assert line.strip() in source
        assert not line.lstrip().startswith(">")
    assert elapsed < BUDGET


@pytest.mark.parametrize(
    "header",
    [
        "On Mon, 2 Mar 2026 at 09:30, Mia Chen <mia@agency.example> wrote:",
        "-----Original Message-----",
        "________________________________",
        "From: Mia Chen <mia@agency.example>",
        "Le lun. 2 mars 2026 à 09:30, Mia Chen a écrit :",
        "Am Mo., 2. März 2026 um 09:30 Uhr schrieb Mia Chen <mia@agency.example>:",
    ],
)
def test_quote_headers_are_recognized(header):
    assert message._new_text(f"Yes!\n\n{header}\n> old") == "Yes!"


def test_a_wrapped_quote_header_is_recognized():
    text = "Yes!\n\nOn Mon, 2 Mar 2026 at 09:30, Mia Chen <mia@agency.example>\nwrote:\n> old"
    assert message._new_text(text) == "Yes!"


@PROPERTY
@given(mail_text)
def test_message_ids_are_found_whole_and_in_linear_time(text):
    found, elapsed = timed(message._ids, text + " <id-1@agency.example>")
    assert "<id-1@agency.example>" in found
    for msgid in found:
        assert msgid in text + " <id-1@agency.example>"
        assert "@" in msgid
        assert not any(c in msgid[1:-1] for c in "<> \t\r\n")
    assert elapsed < BUDGET


@pytest.mark.parametrize(
    "text",
    ["<" + "a@" * 4000, "<a" * 4000, "<" * 8000 + "@", ("<a@" + "b" * 100 + " ") * 80],
    ids=["a@a@", "<a<a", "<<<@", "unclosed"],
)
def test_message_id_search_at_the_header_cap(text):
    _, elapsed = timed(message._ids, text[: message.MAX_HEADER_BYTES])
    assert elapsed < BUDGET


SUBJECT_PATTERNS = {
    "bounce": (message.BOUNCE_SUBJECT.search, "Mail delivery failed"),
    "auto-reply": (message.AUTO_REPLY_SUBJECT.match, "Automatic reply: hi"),
    "unsubscribe": (message.UNSUBSCRIBE.search, "please unsubscribe me"),
}


@pytest.mark.parametrize("name", SUBJECT_PATTERNS)
@PROPERTY
@given(prefix=mail_text, suffix=mail_text)
def test_subject_and_body_patterns_find_their_words(name, prefix, suffix):
    find, sample = SUBJECT_PATTERNS[name]
    text = (" " if name == "auto-reply" else prefix + " ") + sample + " " + suffix
    found, elapsed = timed(find, text)
    assert found
    assert elapsed < BUDGET


@pytest.mark.parametrize("name", SUBJECT_PATTERNS)
def test_subject_and_body_patterns_at_the_text_cap(name):
    find, _ = SUBJECT_PATTERNS[name]
    for teeth in (" ", "stop e-", "delivery has ", "out of the ", "don"):
        _, elapsed = timed(find, (teeth * message.MAX_TEXT_CHARS)[: message.MAX_TEXT_CHARS])
        assert elapsed < BUDGET


@PROPERTY
@given(st.lists(st.tuples(mail_text, mail_text), max_size=20))
def test_delivery_status_text_splits_into_blocks(pairs):
    part = Message()
    part.set_payload("\n\n".join(f"Action{i}: {v}" for i, (_, v) in enumerate(pairs)))
    blocks, elapsed = timed(message._status_blocks, part)
    assert all(isinstance(block, dict) for block in blocks)
    assert elapsed < BUDGET


def test_delivery_status_text_at_the_cap():
    part = Message()
    part.set_payload("\n \n" * (message.MAX_TEXT_CHARS // 3 - 10) + "Action: failed")
    blocks, elapsed = timed(message._status_blocks, part)
    assert blocks == [{"action": "failed"}]
    assert elapsed < BUDGET


# --- flufl.bounce's detectors, fed the bounded copy ------------------------------------


def test_the_detectors_see_short_lines_and_a_bounded_text():
    body = ("x" * 5000 + "\n") * 100
    raw = f"From: MAILER-DAEMON@mx.example\nSubject: failure notice\n\n{body}".encode()
    copy = message._for_detectors(message.email.message_from_bytes(raw))
    text = copy.get_payload()
    assert len(text) <= message.DETECTOR_TEXT_CHARS
    assert max(len(line) for line in text.splitlines()) <= message.DETECTOR_LINE_CHARS


def detector_bait() -> str:
    from flufl.bounce._detectors import simplematch

    # Every start phrase of Mailman's heuristics, so each runs its address pattern
    # on the hostile lines that follow.
    return "\n".join(
        start.pattern.replace("\\", "").strip("^$")
        for start, _, _ in simplematch.PATTERNS
        if isinstance(start.pattern, str)
    )


@pytest.mark.parametrize("teeth", ["<", "a@", "<a@", " \t", " a@", "'", "[a@", "-- a@"])
def test_the_detectors_on_hostile_lines_stay_within_budget(teeth):
    line = (teeth * 2000)[:4000]
    body = detector_bait() + "\n" + "\n".join([line] * 400)
    raw = (
        "From: Mailer-Daemon@mx.example\nSubject: failed\n"
        "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n"
        f"Content-Description: notification\n\nThe Postfix program\n{body}\n--b--\n"
    ).encode()
    parsed, elapsed = timed(message.read, raw)
    assert parsed.kind in {"bounce", "notice"}
    assert elapsed < BUDGET


# --- classification ------------------------------------------------------------------

EXIM_DELAY = b"""From: Mail Delivery System <Mailer-Daemon@mx.runner-blog.example>
To: mia@agency.example
Subject: Warning: message 1vABCD-0001xY-2Q delayed 24 hours
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mx.runner-blog.example.

The message identifier is:     1vABCD-0001xY-2Q
The subject of the message is: A resource for runner-blog.example

The address to which the message has not yet been delivered is:

  jo@runner-blog.example
    Delay reason: SMTP error from remote mail server after RCPT TO:<jo@runner-blog.example>:
    451 4.7.1 Please try again later

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered.
"""


def test_a_plain_text_delay_warning_is_not_a_bounce():
    parsed = message.read(EXIM_DELAY)
    assert parsed.kind == "notice"
    assert parsed.failed_recipients == []


def test_the_delay_warning_without_its_warning_words_would_fool_mailmans_heuristics():
    # Why the warning check runs before flufl.bounce: its "rcpt to:<...>" heuristic
    # reads the delay reason as a permanent failure (for a domain its address
    # check accepts: it has no hyphens).
    from flufl.bounce import scan_message

    stripped = EXIM_DELAY.replace(b"Warning: ", b"").replace(b"not yet been", b"not been")
    stripped = stripped.replace(b"No action is required on your part. ", b"")
    stripped = stripped.replace(b"runner-blog", b"runnerblog")
    assert scan_message(message.email.message_from_bytes(stripped)) == {b"jo@runnerblog.example"}
    assert message.read(EXIM_DELAY.replace(b"runner-blog", b"runnerblog")).kind == "notice"


@pytest.mark.parametrize(
    ("action", "status", "kind"),
    [
        ("failed", "5.1.1", "bounce"),
        ("failed", "4.4.7", "notice"),
        ("delayed", "4.4.7", "notice"),
        ("relayed", "2.0.0", "notice"),
        ("delivered", "2.0.0", "notice"),
    ],
)
def test_rfc_3464_reports_bounce_only_on_a_permanent_failure(action, status, kind):
    raw = f"""From: MAILER-DAEMON@mx.example
Subject: Delivery Status Notification
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Report.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: rfc822; jo@runner-blog.example
Action: {action}
Status: {status}

--B--
""".encode()
    parsed = message.read(raw)
    assert parsed.kind == kind
    assert parsed.failed_recipients == (["jo@runner-blog.example"] if kind == "bounce" else [])


# --- merge fields (templates are written by members) ----------------------------------

template_text = st.lists(
    st.sampled_from([*'{}|:" a_1%', "{{", "}}", "default", "first_name", " "]), max_size=300
).map("".join)


@PROPERTY
@given(prefix=template_text, suffix=template_text)
def test_merge_fields_are_found_in_any_text(prefix, suffix):
    text = f"{prefix} {{{{ first_name }}}} {suffix}"
    used, elapsed = timed(merge.fields_used, text)
    assert "first_name" in used
    assert elapsed < BUDGET
    _, elapsed = timed(merge.problems, text)
    assert elapsed < BUDGET


@pytest.mark.parametrize(
    "text",
    [
        "{{" + " " * merge.MAX_TEMPLATE_CHARS,
        "{{ a" * (merge.MAX_TEMPLATE_CHARS // 4),
        "{{" + "a" * merge.MAX_TEMPLATE_CHARS,
        '{{ a|default:"' + "x" * merge.MAX_TEMPLATE_CHARS,
        '{{ a | default : "x"' + " " * merge.MAX_TEMPLATE_CHARS,
        "{" * merge.MAX_TEMPLATE_CHARS,
    ],
    ids=["spaces", "names", "long-name", "open-default", "default-spaces", "braces"],
)
def test_merge_fields_at_the_template_cap(text):
    _, elapsed = timed(merge.problems, text)
    assert elapsed < BUDGET
    _, elapsed = timed(merge.render, text, {"a": "x"})
    assert elapsed < BUDGET


def test_the_template_form_refuses_text_beyond_the_cap():
    from outreach.email.forms import TemplateForm

    body = "x" * (merge.MAX_TEMPLATE_CHARS + 1)
    form = TemplateForm(data={"name": "Pitch", "subject": "Hi", "body": body})
    assert not form.is_valid()
    assert "body" in form.errors


# --- IMAP responses (the server's lines; imaplib caps one at 1 MB) ---------------------

IMAP_LINE_CAP = 1_000_000
imap_line = st.lists(
    st.sampled_from([b"(", b")", b'"', b"\\", b" ", b"UID ", b"NIL", b"\\Sent", b"7", b"x"]),
    max_size=200,
).map(b"".join)


@PROPERTY
@given(prefix=imap_line, suffix=imap_line)
def test_the_uid_of_a_fetch_response_is_found(prefix, suffix):
    found, elapsed = timed(imap._UID.search, prefix + b" UID 42 " + suffix)
    assert found is not None
    assert found.group(1).isdigit()
    assert elapsed < BUDGET


@PROPERTY
@given(flags=imap_line.filter(lambda f: b")" not in f), name=imap_line.filter(bool))
def test_list_lines_give_flags_and_name(flags, name):
    line = b"(" + flags + b') "/" ' + name
    match, elapsed = timed(imap._LIST_LINE.match, line)
    assert match is not None
    assert match["flags"] == flags
    assert elapsed < BUDGET


@pytest.mark.parametrize(
    ("pattern", "line"),
    [
        (imap._UID.search, b"UID " * (IMAP_LINE_CAP // 4)),
        (imap._UID.search, b"UID" + b"9" * IMAP_LINE_CAP),
        (imap._LIST_LINE.match, b"(" + b"\\" * IMAP_LINE_CAP),
        (imap._LIST_LINE.match, b'() "' + b"x" * IMAP_LINE_CAP),
        (imap._LIST_LINE.match, b"() NIL " + b" " * IMAP_LINE_CAP),
    ],
    ids=["uid-words", "uid-digits", "list-flags", "list-delimiter", "list-name"],
)
def test_imap_patterns_on_a_line_at_imaplibs_cap(pattern, line):
    _, elapsed = timed(pattern, line)
    assert elapsed < BUDGET


# --- mailbox secrets: the variable name -------------------------------------------------


@PROPERTY
@given(st.text(alphabet="ANCHORAGE_SECRET_x0 ", max_size=100))
def test_only_names_under_the_prefix_pass(name):
    try:
        secrets.check_name(name)
    except secrets.SecretNameRefused:
        accepted = False
    else:
        accepted = True
    rest = name.removeprefix("ANCHORAGE_SECRET_")
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
    expected = name.startswith("ANCHORAGE_SECRET_") and rest != "" and set(rest) <= allowed
    assert accepted == expected
