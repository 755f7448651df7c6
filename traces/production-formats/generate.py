#!/usr/bin/env python3
"""Regenerates every file in traces/production-formats/: SYNTHETIC traffic written in the exact
formats that production systems write, so scalesim's readers can be tried (and are tested) on
files shaped like the real ones. None of this is a recording.

One made-up service, "shop-web" behind an AWS Application Load Balancer and nginx, on Saturday
2024-11-30, seen through four lenses:

  * prometheus/query_range.json: the response of Prometheus' /api/v1/query_range for
        sum by (pod) (rate(http_requests_total{job="shop-web"}[1m]))
    from 09:00 to 11:00 UTC at a 15 s step. Three pods; the third is created at 10:09:30 (an
    autoscaler reacting to a burst), so its series starts late; the first pod misses five
    evaluations around 09:47 (a node hiccup: no samples for 75 s), which is a gap inside its
    series. Compact JSON on one line, as the API returns it.
  * grafana/shop-web-requests.csv: the same panel downloaded from Grafana ("Inspect > Data >
    Download CSV", series joined by time, "Formatted data" off): a quoted header, epoch
    milliseconds, CRLF line ends, no final newline, empty cells where a series has no value.
  * nginx/access.log, access.log.1, access.log.2.gz: ten minutes (10:00-10:10 UTC) of the
    combined log format, local time +0100 (Europe/Paris in winter), lines in completion order,
    rotated twice (the oldest compressed). Two lines are TLS handshakes sent to the HTTP port
    (a binary request line, escaped by nginx, status 400) and one line was cut short when the
    disk filled up (access.log.1): a malformed line.
  * alb/AWSLogs/...: the same ten minutes of requests as the ALB logged them: one gzip file per
    load-balancer node per 5 minutes, named as AWS names them, entries in response-time order
    (so request_creation_time, field 22, is not sorted), 30 fields per line (29 documented plus
    conn_trace_id). A few requests failed to reach a target (-1 processing times, 502).

And one made-up Azure Functions tenant population in the format of the Azure Functions trace
2019 (AzurePublicDataset), two day files:

  * azure-functions/invocations_per_function_md.anon.d01.csv and .d02.csv: HashOwner, HashApp,
    HashFunction, Trigger, then invocations in each of the 1440 minutes (UTC). 14 functions in 7
    apps of 4 owners: HTTP APIs with a daily cycle, timers (every minute, every 5 minutes,
    hourly), a queue worker fed by an HTTP function, event and storage triggers, a durable
    orchestration. Hashes are SHA-256 of made-up names (64 hex digits, like the dataset's).

The request rate of shop-web (requests per second, UTC): 1.5 at 09:00 rising linearly to 3.0 at
11:00, times 2.2 from 10:08 to 10:13 (a newsletter), with one-minute ramps. Arrivals are a
Poisson process (thinning); latencies lognormal (median 60 ms, slow tail), slower for checkout.

Only the Python standard library; fixed seeds; gzip with mtime 0, so the bytes reproduce:

    python3 traces/production-formats/generate.py
"""

import gzip
import hashlib
import json
import math
import os
import random
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = datetime(2024, 11, 30, 9, 0, 0, tzinfo=timezone.utc)
T0S = int(T0.timestamp())  # 1732957200


def rate(t: float) -> float:
    """shop-web requests per second at t seconds after 09:00 UTC."""
    base = 1.5 + 1.5 * t / 7200.0
    b0, b1 = 68 * 60.0, 73 * 60.0  # 10:08 .. 10:13
    if t < b0 - 60 or t > b1 + 60:
        f = 1.0
    elif t < b0:
        f = 1.0 + 1.2 * (t - (b0 - 60)) / 60.0
    elif t <= b1:
        f = 2.2
    else:
        f = 2.2 - 1.2 * (t - b1) / 60.0
    return base * f


RATE_MAX = 3.0 * 2.2


def poisson(rng: random.Random, mean: float) -> int:
    if mean < 30:
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1
    return max(0, int(round(rng.gauss(mean, math.sqrt(mean)))))


def write(path: str, data: bytes) -> None:
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


# ---- Prometheus and Grafana ----------------------------------------------------------------

PODS = ["shop-web-7d9f8c6b5-x2k4p", "shop-web-7d9f8c6b5-7hq9z", "shop-web-7d9f8c6b5-m4tr8"]
POD_C_FROM = 69 * 60 + 30  # 10:09:30
GAP = range(47 * 60, 47 * 60 + 75, 15)  # pod a: 09:47:00 .. 09:48:00, five evaluations


def metrics():
    rng = random.Random(20241130)
    steps = list(range(0, 7200 + 1, 15))
    series = {p: [] for p in PODS}
    for t in steps:
        live = [p for p in PODS if p != PODS[2] or t >= POD_C_FROM]
        shares = {PODS[0]: 0.52, PODS[1]: 0.48} if len(live) == 2 else {PODS[0]: 0.35, PODS[1]: 0.33, PODS[2]: 0.32}
        for p in live:
            if p == PODS[0] and t in GAP:
                continue
            # rate(x[1m]): requests of the last minute / 60.
            n = poisson(rng, rate(max(t - 30, 0)) * shares[p] * 60)
            series[p].append((T0S + t, n / 60.0))
    return steps, series


def fmt_value(x: float) -> str:
    """Go's strconv.FormatFloat(x, 'f', -1, 64) for these values: Python's repr, no exponent."""
    s = repr(x)
    return s[:-2] if s.endswith(".0") else s


def prometheus(series) -> None:
    result = [
        {"metric": {"pod": p}, "values": [[t, fmt_value(v)] for t, v in series[p]]} for p in PODS
    ]
    doc = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    write("prometheus/query_range.json", json.dumps(doc, separators=(",", ":")).encode() + b"\n")


def grafana(steps, series) -> None:
    by_time = {p: dict(series[p]) for p in PODS}
    lines = [",".join(['"Time"'] + [f'"{p}"' for p in PODS])]
    for t in steps:
        cells = [str((T0S + t) * 1000)]
        for p in PODS:
            v = by_time[p].get(T0S + t)
            cells.append("" if v is None else fmt_value(v))
        lines.append(",".join(cells))
    write("grafana/shop-web-requests.csv", "\r\n".join(lines).encode())


# ---- Requests for the access logs ------------------------------------------------------------

PATHS = [
    ("GET", "/", 0.20, 0.035, 31250),
    ("GET", "/api/items?page={n}", 0.30, 0.060, 4200),
    ("GET", "/api/items/{n}", 0.22, 0.045, 1830),
    ("GET", "/static/app.{h}.js", 0.08, 0.004, 181422),
    ("POST", "/api/cart", 0.10, 0.080, 64),
    ("POST", "/api/checkout", 0.04, 0.350, 512),
    ("GET", "/healthz", 0.06, 0.002, 2),
]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "okhttp/4.12.0",
    "kube-probe/1.30",
]


def requests():
    """(arrival seconds after 09:00, method, path, status, bytes, latency, agent, client)."""
    rng = random.Random(7)
    out = []
    t = 60 * 60.0  # 10:00:00
    end = 70 * 60.0
    while True:
        t += rng.expovariate(RATE_MAX)
        if t >= end:
            break
        if rng.random() * RATE_MAX > rate(t):
            continue
        u, acc = rng.random(), 0.0
        for method, path, share, median, size in PATHS:
            acc += share
            if u <= acc:
                break
        path = path.replace("{n}", str(rng.randint(1, 400))).replace("{h}", "3f9a1c")
        latency = median * math.exp(rng.gauss(0, 0.6))
        if rng.random() < 0.01:
            latency += rng.uniform(1.0, 4.0)  # a slow dependency
        status = 200
        if method == "POST" and path == "/api/cart":
            status = 201
        r = rng.random()
        if r < 0.03 and method == "GET" and path != "/healthz":
            status, size = 304, 0
        elif r < 0.045:
            status, size = 404, 153
        elif r < 0.048:
            status = 502
        body = max(0, int(size * math.exp(rng.gauss(0, 0.2)))) if status not in (304, 502) else 0
        agent = "kube-probe/1.30" if path == "/healthz" else rng.choice(AGENTS[:5])
        client = f"{rng.choice([203, 198, 192])}.{rng.choice([0, 51])}.{rng.choice([2, 100, 113])}.{rng.randint(2, 254)}"
        out.append((t, method, path, status, body, latency, agent, client))
    return out


def nginx(reqs) -> None:
    rng = random.Random(11)
    paris = timezone(timedelta(hours=1))
    lines = []
    for t, method, path, status, body, latency, agent, client in reqs:
        done = t + latency
        stamp = (T0 + timedelta(seconds=done)).astimezone(paris).strftime("%d/%b/%Y:%H:%M:%S %z")
        referer = '"https://shop.example.com/"' if path.startswith("/api") else '"-"'
        size = "0" if body == 0 else str(body)
        lines.append((done, f'{client} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} {referer} "{agent}"'))
    # Two TLS handshakes sent to the plain-HTTP port: nginx escapes the bytes, answers 400.
    for t in (62 * 60 + 13.4, 66 * 60 + 41.9):
        stamp = (T0 + timedelta(seconds=t)).astimezone(paris).strftime("%d/%b/%Y:%H:%M:%S %z")
        junk = "\\x16\\x03\\x01\\x00\\xEE\\x01\\x00\\x00\\xEA\\x03\\x03\\x8B\\x1F"
        lines.append((t, f'192.0.2.{rng.randint(2, 254)} - - [{stamp}] "{junk}" 400 157 "-" "-"'))
    lines.sort(key=lambda x: x[0])
    cut1, cut2 = 60 * 60 + 200, 60 * 60 + 400  # rotations at 10:03:20 and 10:06:40 UTC
    parts = [[l for d, l in lines if d < cut1], [l for d, l in lines if cut1 <= d < cut2], [l for d, l in lines if d >= cut2]]
    # The disk filled up mid-line in the middle file.
    mid = parts[1]
    k = len(mid) // 2
    mid[k] = mid[k][: mid[k].index('"') + 18]
    write("nginx/access.log.2.gz", gz(("\n".join(parts[0]) + "\n").encode()))
    write("nginx/access.log.1", ("\n".join(parts[1]) + "\n").encode())
    write("nginx/access.log", ("\n".join(parts[2]) + "\n").encode())


ACCOUNT, REGION, LB = "123456789012", "eu-west-1", "shop-prod.50dc6c495c0c9188"
NODES = ["10.0.0.45", "10.0.1.212"]
TARGETS = ["10.0.10.17:8080", "10.0.11.31:8080", "10.0.12.9:8080"]


def iso(t: float) -> str:
    return (T0 + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alb(reqs) -> None:
    rng = random.Random(13)
    files = {}
    for t, method, path, status, body, latency, agent, client in reqs:
        node = rng.choice(NODES)
        target = rng.choice(TARGETS)
        req_time = rng.choice([0.0, 0.0, 0.001])
        tgt_time, resp_time = round(latency, 3), 0.0
        tgt_status = str(status)
        error = "-"
        if status == 502:
            req_time, tgt_time, resp_time, tgt_status, error = -1, -1, -1, "-", "TargetConnectionError"
        sent = t + max(latency, 0) + 0.0005
        received = 180 + len(path) + len(agent) + (rng.randint(40, 400) if method == "POST" else 0)
        sent_bytes = body + 310
        proto = rng.choice(["https", "https", "h2"])
        http = "HTTP/2.0" if proto == "h2" else "HTTP/1.1"
        trace = "Root=1-%08x-%s" % (T0S + int(t), "".join(rng.choice("0123456789abcdef") for _ in range(24)))
        fmt = lambda x: "-1" if x == -1 else f"{x:.3f}"
        line = (
            f"{proto} {iso(sent)} app/{LB.replace('.', '/')} {client}:{rng.randint(1024, 65535)} {target} "
            f"{fmt(req_time)} {fmt(tgt_time)} {fmt(resp_time)} {status} {tgt_status} {received} {sent_bytes} "
            f'"{method} https://shop.example.com:443{path} {http}" "{agent}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
            f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/shop-web/73e2d6bc24d8a067 "
            f'"{trace}" "shop.example.com" "arn:aws:acm:{REGION}:{ACCOUNT}:certificate/8c1f0e2a-5b3d-4c7e-9f61-2d4a8b7c3e90" '
            f'0 {iso(t)} "forward" "-" "{error}" "{target}" "{tgt_status}" "-" "-" '
            f"TID_{''.join(rng.choice('0123456789abcdef') for _ in range(32))}"
        )
        end = int(sent // 300 + 1) * 300  # the 5-minute interval the response falls in
        files.setdefault((node, end), []).append((sent, line))
    for (node, end), entries in files.items():
        entries.sort(key=lambda e: e[0])  # written in response order
        stamp = (T0 + timedelta(seconds=end)).strftime("%Y%m%dT%H%MZ")
        rnd = hashlib.sha256(f"{node}{end}".encode()).hexdigest()[:8]
        name = f"{ACCOUNT}_elasticloadbalancing_{REGION}_app.{LB}_{stamp}_{node}_{rnd}.log.gz"
        folder = f"alb/AWSLogs/{ACCOUNT}/elasticloadbalancing/{REGION}/2024/11/30"
        write(f"{folder}/{name}", gz(("\n".join(l for _, l in entries) + "\n").encode()))


# ---- Azure Functions -------------------------------------------------------------------------


def h(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def diurnal(minute: int, peak_h: float, trough: float) -> float:
    x = math.cos(2 * math.pi * (minute / 60.0 - peak_h) / 24.0)
    return trough + (1 - trough) * (0.5 + 0.5 * x)


# (owner, app, function, trigger, per-minute mean as a function of (day, minute))
FUNCTIONS = [
    ("contoso", "storefront", "GetProducts", "http", lambda d, m: 40 * diurnal(m, 14.5, 0.15) * (1.0 if d == 1 else 0.85)),
    ("contoso", "storefront", "GetProduct", "http", lambda d, m: 18 * diurnal(m, 14.5, 0.15) * (1.0 if d == 1 else 0.85)),
    ("contoso", "storefront", "PlaceOrder", "http", lambda d, m: 2.5 * diurnal(m, 15.0, 0.05)),
    ("contoso", "orders", "ProcessOrder", "queue", None),  # fed by PlaceOrder, below
    ("contoso", "orders", "NightlyReport", "timer", lambda d, m: 1.0 if m == 2 * 60 else 0.0),
    ("fabrikam", "telemetry", "IngestEvents", "event", lambda d, m: 120 * diurnal(m, 9.0, 0.6)),
    ("fabrikam", "telemetry", "Rollup", "timer", lambda d, m: 1.0 if m % 5 == 0 else 0.0),
    ("fabrikam", "thumbnails", "ResizeImage", "storage", lambda d, m: 3 * diurnal(m, 13.0, 0.1)),
    ("fabrikam", "thumbnails", "Cleanup", "timer", lambda d, m: 1.0 if m % 60 == 30 else 0.0),
    ("northwind", "api", "Lookup", "http", lambda d, m: 7 * diurnal(m, 19.0, 0.25)),
    ("northwind", "api", "Warmup", "timer", lambda d, m: 1.0),
    ("northwind", "workflows", "OrderSaga", "orchestration", lambda d, m: 0.6 * diurnal(m, 15.0, 0.1)),
    ("tailspin", "hooks", "GithubWebhook", "http", lambda d, m: 0.05 + (8.0 if d == 2 and 600 <= m < 612 else 0.0)),
    ("tailspin", "hooks", "Relay", "others", lambda d, m: 0.2),
]


def azure() -> None:
    header = "HashOwner,HashApp,HashFunction,Trigger," + ",".join(str(m) for m in range(1, 1441))
    for day in (1, 2):
        rng = random.Random(1000 + day)
        counts = {}
        for owner, app, fn, trig, mean in FUNCTIONS:
            if mean is None:
                continue
            counts[fn] = [
                (int(mean(day, m)) if trig == "timer" else poisson(rng, mean(day, m))) for m in range(1440)
            ]
        # The queue worker handles each order a minute or two after it was placed.
        q = [0] * 1440
        for m, n in enumerate(counts["PlaceOrder"]):
            for _ in range(n):
                q[min(1439, m + rng.choice([0, 1, 1, 2]))] += 1
        counts["ProcessOrder"] = q
        rows = []
        for owner, app, fn, trig, _ in FUNCTIONS:
            ho, ha, hf = h(owner), h(owner + "/" + app), h(owner + "/" + app + "/" + fn)
            rows.append((ho, ha, hf, trig, counts[fn]))
        rows.sort()
        body = [header] + [",".join([a, b, c, t] + [str(x) for x in cs]) for a, b, c, t, cs in rows]
        write(f"azure-functions/invocations_per_function_md.anon.d{day:02d}.csv", ("\n".join(body) + "\n").encode())


def main() -> None:
    steps, series = metrics()
    prometheus(series)
    grafana(steps, series)
    reqs = requests()
    nginx(reqs)
    alb(reqs)
    azure()


if __name__ == "__main__":
    main()
