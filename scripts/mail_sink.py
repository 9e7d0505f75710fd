"""`make run`'s SMTP sink: accepts every email on 127.0.0.1 and files it in a folder,
so the demo's outreach emails and alert digests can be read without a mail server.

    .venv/bin/python scripts/mail_sink.py --port 8025 --folder var/sent-mail

Each message becomes ``<time>-<n>.eml`` (open it in any mail client, or read it as
text). Nothing is relayed anywhere. aiosmtpd is a development dependency: this
script is for `make run` only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

_counter = itertools.count(1)


class FileSink:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data: bytes = envelope.original_content or envelope.content
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.folder / f"{stamp}-{next(_counter):04d}.eml"
        path.write_bytes(data)
        subject = message_from_bytes(data, policy=default_policy).get("Subject", "")
        print(f"mail sink: {', '.join(envelope.rcpt_tos)}: {subject!s} -> {path}", flush=True)
        return "250 OK: filed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--folder", type=Path, default=Path("var/sent-mail"))
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(FileSink(args.folder), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"mail sink: listening on 127.0.0.1:{args.port}, filing mail in {args.folder}/")
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
