"""A local SMTP server that keeps what it receives (aiosmtpd on 127.0.0.1): for tests and for previewing digest
e-mails without sending them anywhere. ``python -m digest.mailsink --port 8025 --out DIR`` saves each message."""

from __future__ import annotations

import argparse
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any


@dataclass(frozen=True, slots=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        item = Received(str(envelope.mail_from), tuple(str(r) for r in envelope.rcpt_tos), bytes(envelope.content))
        with self.sink.lock:
            self.sink.received.append(item)
        if self.sink.out_dir is not None:
            self.sink.out_dir.mkdir(parents=True, exist_ok=True)
            (self.sink.out_dir / f"{time.time_ns()}.eml").write_bytes(item.data)
        return "250 Message accepted for delivery"


class MailSink:
    """``with MailSink() as sink:`` an SMTP server on ``sink.host:sink.port``; ``sink.received`` fills up."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, out_dir: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.out_dir = out_dir
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._controller: Any = None

    def __enter__(self) -> MailSink:
        from aiosmtpd.controller import Controller

        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                      data_size_limit=50 * 1024 * 1024)
        self._controller.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise TimeoutError(f"expected {count} messages, got {len(self.received)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--out", type=Path, default=Path("data/mailsink"))
    args = parser.parse_args(argv)
    with MailSink(port=args.port, out_dir=args.out) as sink:
        print(f"SMTP sink on {sink.host}:{sink.port}, saving to {args.out} (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
