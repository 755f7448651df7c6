#!/usr/bin/env python3
"""A replica with a known model, for calibrating scalesim against real Locust runs.

`WORKERS` requests are served at once; up to `QUEUE` more wait in FIFO order; anything beyond
is rejected at once with 503. Each request's service time is drawn from a log-normal
distribution (mean `MEAN_MS`, log-sigma `SIGMA`) and spent *sleeping*, so CPU contention on the
load-generating machine does not distort it. Python stdlib only.

    python3 service.py --port 8089 --workers 4 --queue 16 --mean-ms 50 --sigma 0.5
"""

import argparse
import collections
import math
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FifoWorkers:
    """`n` worker slots with a bounded FIFO waiting line."""

    def __init__(self, n, queue_limit):
        self.lock = threading.Lock()
        self.free = n
        self.queue_limit = queue_limit
        self.waiters = collections.deque()

    def admit(self):
        """True once a worker is ours; False when the line is full (reject)."""
        with self.lock:
            if self.free > 0:
                self.free -= 1
                return True
            if len(self.waiters) >= self.queue_limit:
                return False
            ev = threading.Event()
            self.waiters.append(ev)
        ev.wait()
        return True

    def release(self):
        with self.lock:
            if self.waiters:
                self.waiters.popleft().set()  # hand the slot over directly
            else:
                self.free += 1


def make_handler(workers, mu, sigma, seed):
    rng = random.Random(seed)
    rng_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection per Locust user

        def do_GET(self):
            if not workers.admit():
                self.reply(503, b"queue full\n")
                return
            try:
                with rng_lock:
                    s = rng.lognormvariate(mu, sigma)
                time.sleep(s)
                self.reply(200, b"ok\n")
            finally:
                workers.release()

        def reply(self, code, body):
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # Locust closed the connection as it stopped

        def log_message(self, *args):
            pass

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8089)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--queue", type=int, default=16)
    p.add_argument("--mean-ms", type=float, default=50.0)
    p.add_argument("--sigma", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    mean = a.mean_ms / 1000.0
    mu = math.log(mean) - a.sigma * a.sigma / 2.0
    handler = make_handler(FifoWorkers(a.workers, a.queue), mu, a.sigma, a.seed)
    server = ThreadingHTTPServer((a.host, a.port), handler)
    server.daemon_threads = True
    server.request_queue_size = 1024  # the TCP backlog: admission is decided by FifoWorkers
    print(f"serving on {a.host}:{a.port}: {a.workers} workers, queue {a.queue}, "
          f"lognormal mean {a.mean_ms} ms sigma {a.sigma}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
