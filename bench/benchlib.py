"""Helpers the benchmarks share: an SMTP sink on loopback, a free port, and
a practice that sends orders by email through a server it starts.
Standard library only."""

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request


class Sink:
    """An SMTP server on 127.0.0.1 that takes every message."""

    def __init__(self, port=0):
        self.arrived = {}  # subject -> time.time() when the 250 was sent
        self.count = 0
        self.hold = threading.Event()  # set: greet; clear: hold connections
        self.hold.set()
        self.loop = asyncio.new_event_loop()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        self.sock = sock
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._session, sock=self.sock, limit=1 << 20)
        )
        self.loop.run_until_complete(server.serve_forever())

    async def _session(self, reader, writer):
        while not self.hold.is_set():
            await asyncio.sleep(0.01)
        writer.write(b"220 sink ESMTP\r\n")
        subject = ""
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                writer.write(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif cmd == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                while True:
                    data = await reader.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    if data.startswith(b"Subject:"):
                        subject = data[8:].strip().decode("utf-8", "replace")
                self.arrived[subject] = time.time()
                self.count += 1
                writer.write(b"250 OK\r\n")
            elif cmd.startswith(b"QUIT"):
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


class Practice:
    """A fresh practice in `data` (`demo --scale 1` when `demo`, else an empty
    one) with an administrator's API token, served on a free port. Use as a
    context manager; `api(method, path, body)` calls the JSON API and
    `call(...)` returns (status, bytes) for any body and status."""

    def __init__(self, binary, data, extra_env=None, demo=False):
        self.binary = binary
        self.env = dict(
            os.environ,
            STOCKROOM_DATA_DIR=data,
            STOCKROOM_LOG_LEVEL="warn",
            STOCKROOM_LOG_FORMAT="json",
            **(extra_env or {}),
        )
        self.run("demo", "--scale", "1") if demo else self.run("migrate")
        self.run("create-user", "--username", "bench", "--role", "admin", "--password-stdin",
                 input="gauze-and-syringes-42\n")
        self.token = self.run("create-token", "--username", "bench", "--name", "bench",
                              "--scope", "write").stdout.strip()
        self.db_path = os.path.join(data, "stockroom.db")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = None

    def run(self, *args, **kw):
        return subprocess.run([self.binary, *args], env=self.env, check=True,
                              capture_output=True, text=True, **kw)

    def __enter__(self):
        self.server = subprocess.Popen(
            [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            try:
                urllib.request.urlopen(self.base + "/healthz")
                break
            except OSError:
                time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.server.terminate()
        self.server.wait(timeout=60)

    def call(self, method, path, body=None, content_type="application/json"):
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base + path, method=method, data=data,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def api(self, method, path, body=None):
        status, answer = self.call(method, path, body)
        assert status < 400, (status, answer[:500])
        return json.loads(answer)

    def stocked_item(self):
        """A location and an item in it: what a one-unit receipt needs."""
        location = self.api("POST", "/api/v1/locations", {"name": "Store", "kind": "room"})["id"]
        item = self.api("POST", "/api/v1/items",
                        {"code": "BENCH-1", "name": "Gauze", "unit": "pack"})["id"]
        return {"kind": "receipt", "item_id": item, "location_id": location, "quantity": 1}


class EmailingPractice(Practice):
    """The `demo --scale 1` practice with approval rules removed and one
    supplier set to email through `smtp_port`; `approved()` makes an approved
    one-line order."""

    def __init__(self, binary, data, smtp_port, extra_env=None):
        super().__init__(binary, data, dict(
            STOCKROOM_SMTP_HOST="127.0.0.1",
            STOCKROOM_SMTP_PORT=str(smtp_port),
            STOCKROOM_SMTP_SECURITY="none",
            STOCKROOM_SMTP_FROM="Practice Supplies <supplies@practice.test>",
            **(extra_env or {}),
        ), demo=True)
        db = sqlite3.connect(self.db_path)
        db.execute("DELETE FROM approval_rules")
        self.supplier, self.supplier_item, self.location = db.execute(
            """SELECT si.supplier_id, si.id, (SELECT id FROM locations ORDER BY id LIMIT 1)
               FROM supplier_items si WHERE si.active = 1 ORDER BY si.id LIMIT 1"""
        ).fetchone()
        db.commit()
        db.close()

    def __enter__(self):
        super().__enter__()
        self.api("PUT", f"/api/v1/suppliers/{self.supplier}/dispatch",
                 {"channel": "email", "to": ["orders@supplier.test"]})
        return self

    def approved(self):
        d = self.api("POST", "/api/v1/orders", {"supplier_id": self.supplier, "lines": [
            {"supplier_item_id": self.supplier_item, "location_id": self.location, "packs": 1}]})
        oid = d["order"]["id"]
        assert self.api("POST", f"/api/v1/orders/{oid}/submit", {})["state"] == "approved"
        return oid, d["order"]["number"]
