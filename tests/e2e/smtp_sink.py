"""A test SMTP server for the e2e harness: accepts every message and saves it as one file
<dir>/<ns>-<hex>.eml (written under a temporary name, then renamed, so readers never see half a
message), with the envelope in X-Envelope-From / X-Envelope-To lines before the message.
No TLS and no AUTH: svc-users sends without STARTTLS only when the server does not offer it and
no credentials are set, which is this case.

    python smtp_sink.py --port P --dir D      (runs until SIGTERM or SIGINT)
"""
import argparse
import os
import signal
import threading
import time
import uuid

from aiosmtpd.controller import Controller


class SaveToDir:
    def __init__(self, directory: str):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{uuid.uuid4().hex}"
        tmp = os.path.join(self.directory, f".{name}.tmp")
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        with open(tmp, "wb") as f:
            f.write(f"X-Envelope-From: {envelope.mail_from}\r\n".encode())
            f.write(f"X-Envelope-To: {','.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(content)
        os.rename(tmp, os.path.join(self.directory, f"{name}.eml"))
        return "250 Message accepted for delivery"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller = Controller(SaveToDir(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"smtp sink on {args.host}:{args.port}, saving to {args.dir}", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
