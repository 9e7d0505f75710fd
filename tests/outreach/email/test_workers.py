"""The real path: beat's dispatcher → Redis → a Celery worker process (gevent pool)
→ SMTP on 127.0.0.1, with the worker killed (SIGKILL) in the middle of a send.

The SMTP server holds the conversation at RCPT or DATA until the test releases
it, so the kill lands exactly where it must: before the message was handed over
(it is sent again, once) or after (it is settled from the Sent folder, or left
for a person; never sent twice)."""

from __future__ import annotations

import pytest

from outreach.email import tasks
from outreach.email.models import Mailbox, ScheduledEmail
from outreach.models import OutreachActivity
from tests.support.waiting import wait_until
from tests.support.workers import Worker, broker_idle, purge_queue, stop_all

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Email = ScheduledEmail.State


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(**kwargs) -> Worker:
        worker = Worker(f"mailer{len(started)}", log_dir=tmp_path, concurrency=4, **kwargs)
        started.append(worker)
        worker.wait_ready()
        return worker

    purge_queue()
    yield start
    stop_all(started)
    purge_queue()


@pytest.fixture
def pitch(outreach, monkeypatch):
    """A pitch due now, from a mailbox whose passwords come from the environment
    (the worker process reads the same variables)."""
    env = {
        "ANCHORAGE_SECRET_OUTREACH_TEST_SMTP": outreach.smtp.password,
        "ANCHORAGE_SECRET_OUTREACH_TEST_IMAP": outreach.imap.password,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # The worker processes talk to the test servers on 127.0.0.1 too.
    env["MAIL_ALLOW_PRIVATE_NETWORKS"] = "1"
    Mailbox.objects.filter(pk=outreach.mailbox.pk).update(
        smtp_password="",
        smtp_password_env="ANCHORAGE_SECRET_OUTREACH_TEST_SMTP",
        imap_password="",
        imap_password_env="ANCHORAGE_SECRET_OUTREACH_TEST_IMAP",
    )
    from outreach.email import sequences

    (sequence,) = sequences.start_sequences(
        outreach.campaign,
        prospect_ids=[outreach.prospect.pk],
        template=outreach.template,
        mailbox=Mailbox.objects.get(pk=outreach.mailbox.pk),
        by=outreach.member,
    ).started
    email = sequence.emails.get(step=0)
    email.worker_env = env
    return email


def kill_mid_send(outreach, pitch, workers) -> None:
    first = workers(env=pitch.worker_env)
    assert tasks.send_due_emails() == 1
    assert outreach.smtp.held.wait(30), first.output()
    first.kill()
    outreach.smtp.hold_at = ""
    outreach.smtp.release.set()


SEND_TASK = "outreach.email.tasks.send_email"


def settle_with_a_new_worker(pitch, workers, settings) -> Worker:
    """What the next minutes bring: a new worker, and beat's dispatcher once the
    dead claim's lease has run out (here at once), three times, each after the
    worker finished every send the one before queued."""
    settings.OUTREACH_SEND_LEASE_SECONDS = 0
    worker = workers(env=pitch.worker_env)
    queued = 0
    for _ in range(3):
        queued += tasks.send_due_emails()
        # Sends are acknowledged on receipt: the worker's log says when they end.
        wait_until(
            lambda queued=queued: broker_idle() and worker.finished(SEND_TASK) == queued,
            30,
            f"the worker to finish {queued} sends",
            explain=worker.output,
        )
    return worker


def test_killed_after_data_and_found_in_sent_it_is_recorded_once(
    outreach, pitch, workers, settings
):
    outreach.smtp.hold_at = "data"
    outreach.smtp.file_sent_in = lambda data: outreach.imap.deliver(data, mailbox="Sent")
    kill_mid_send(outreach, pitch, workers)
    pitch.refresh_from_db()
    assert pitch.state == Email.SENDING
    assert pitch.transmit_started_at is not None

    settle_with_a_new_worker(pitch, workers, settings)
    pitch.refresh_from_db()
    assert pitch.state == Email.SENT
    assert len(outreach.smtp.messages) == 1
    activity = OutreachActivity.objects.get(prospect=outreach.prospect)
    assert "found in the Sent folder" in activity.summary
    outreach.prospect.refresh_from_db()
    assert outreach.prospect.status == "contacted"


def test_killed_after_data_and_not_in_sent_it_waits_for_a_person(
    outreach, pitch, workers, settings
):
    outreach.smtp.hold_at = "data"
    kill_mid_send(outreach, pitch, workers)
    settle_with_a_new_worker(pitch, workers, settings)
    pitch.refresh_from_db()
    assert pitch.state == Email.UNCERTAIN
    assert len(outreach.smtp.messages) == 1
    assert not OutreachActivity.objects.exists()
    # Its follow-ups wait for the decision too.
    assert set(pitch.sequence.emails.exclude(step=0).values_list("state", flat=True)) == {
        Email.QUEUED
    }


def test_killed_before_data_it_is_sent_again_exactly_once(outreach, pitch, workers, settings):
    outreach.smtp.hold_at = "rcpt"
    kill_mid_send(outreach, pitch, workers)
    pitch.refresh_from_db()
    assert (pitch.state, pitch.transmit_started_at) == (Email.SENDING, None)
    assert outreach.smtp.messages == []

    worker = settle_with_a_new_worker(pitch, workers, settings)
    assert ScheduledEmail.objects.get(pk=pitch.pk).state == Email.SENT
    # Every send queued so far has ended, so a duplicate would have landed.
    assert worker.busy() == 0
    (received,) = outreach.smtp.messages
    assert received.message["Message-ID"] == pitch.message_id
    assert OutreachActivity.objects.filter(prospect=outreach.prospect).count() == 1


def test_a_worker_sends_due_mail_and_reads_the_reply(outreach, pitch, workers):
    """The ordinary day: beat's tasks on a real worker, both ways."""
    workers(env=pitch.worker_env)
    tasks.send_due_emails()
    wait_until(lambda: len(outreach.smtp.messages) == 1, 30, "the pitch")
    wait_until(
        lambda: ScheduledEmail.objects.get(pk=pitch.pk).state == Email.SENT, 30, "sent recorded"
    )
    outreach.imap.deliver(
        f"From: jo@runner-blog.example\nSubject: Re: {pitch.subject}\n"
        f"In-Reply-To: {pitch.message_id}\nMessage-ID: <r@runner-blog.example>\n\nYes!\n"
    )
    assert tasks.poll_reply_mailboxes() == 1
    wait_until(lambda: OutreachActivity.objects.filter(kind="reply").exists(), 30, "the reply read")
    pitch.sequence.refresh_from_db()
    assert pitch.sequence.stop_reason == "replied"
