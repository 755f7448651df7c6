#!/usr/bin/env python3
"""A replica with a known model, for calibrating scalesim against real Locust runs.

`WORKERS` requests are served at once; up to `QUEUE` more wait in FIFO order; anything beyond
is rejected at once with 503. Each request's service time is drawn from a distribution
(`--dist lognormal|exponential|deterministic`, mean `MEAN_MS`, log-sigma `SIGMA`) and either
spent *sleeping* (`--work sleep`, the default: CPU contention on the load-generating machine does
not stretch it) or *computing* (`--work cpu`: a pure-Python loop sized to take that long on an
idle core, holding the GIL, so the workers share one core and a busy machine slows it down).
Python stdlib only.

    python3 service.py --port 8089 --workers 4 --queue 16 --mean-ms 50 --sigma 0.5
    python3 service.py --port 8089 --workers 2 --queue 8 --mean-ms 8 --dist exponential --work cpu
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


def loops_per_second():
    """Iterations of `spin`'s loop per second on this core (best of a few tries, idle-ish)."""
    best = 0.0
    for _ in range(5):
        n = 200_000
        t = time.perf_counter()
        spin(n)
        best = max(best, n / (time.perf_counter() - t))
    return best


def spin(n):
    """CPU work: `n` iterations of a pure-Python loop (holds the GIL throughout)."""
    x = 0
    for i in range(n):
        x = (x + i * i) % 1_000_003
    return x


def make_handler(workers, draw, work, seed):
    rng = random.Random(seed)
    rng_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection per Locust user
        disable_nagle_algorithm = True  # headers and body never wait for a delayed ACK
        wbufsize = -1  # buffered: the response leaves in one write when the handler returns

        def do_GET(self):
            if not workers.admit():
                self.reply(503, b"queue full\n")
                return
            try:
                with rng_lock:
                    s = draw(rng)
                work(s)
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
    p.add_argument("--dist", choices=["lognormal", "exponential", "deterministic"], default="lognormal")
    p.add_argument("--work", choices=["sleep", "cpu"], default="sleep")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    mean = a.mean_ms / 1000.0
    if a.dist == "lognormal":
        mu = math.log(mean) - a.sigma * a.sigma / 2.0
        draw = lambda rng: rng.lognormvariate(mu, a.sigma)  # noqa: E731
    elif a.dist == "exponential":
        draw = lambda rng: rng.expovariate(1.0 / mean)  # noqa: E731
    else:
        draw = lambda rng: mean  # noqa: E731
    if a.work == "cpu":
        rate = loops_per_second()
        work = lambda s: spin(int(s * rate))  # noqa: E731
        print(f"cpu work: {rate:.0f} loop iterations per second on this core", flush=True)
    else:
        work = time.sleep
    handler = make_handler(FifoWorkers(a.workers, a.queue), draw, work, a.seed)
    server = ThreadingHTTPServer((a.host, a.port), handler)
    server.daemon_threads = True
    server.request_queue_size = 1024  # the TCP backlog: admission is decided by FifoWorkers
    print(f"serving on {a.host}:{a.port}: {a.workers} workers, queue {a.queue}, "
          f"{a.dist} mean {a.mean_ms} ms (sigma {a.sigma} if lognormal), work {a.work}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
