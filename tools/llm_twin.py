#!/usr/bin/env python3
"""Independent reference implementation ("twin") of the LLM replica step loop.

Written from /work/shared/reference/llm-serving.md §1 (the vLLM V1 scheduler, simplified) and
/work/notes/twin_spec.md (clock, order at one instant, timeouts, routing, output format), NOT
from the Rust code under src/. Its only purpose is to give the Rust engine an independently
computed answer to compare against (tests/fixtures/llm_twin/). Python 3 standard library only.

What it simulates
-----------------
`n` replicas, all ready at time 0, never scaled. Each replica holds an ordered `running` list and
an ordered `waiting` list, `K` free KV blocks, and runs one step at a time:

* Scheduling a step at instant t (budget = B):
  1. running pass: for each r in running, in order, while budget > 0:
     n = min(p+g-c, budget), need = blocks(c+n) - b; while need > free: preempt the LAST of
     running (free its blocks, c = 0, keep g, count a preemption, put it at the HEAD of waiting);
     if that victim was r itself, the running pass ends. Else allocate need, schedule n tokens.
  2. waiting pass, only if step 1 preempted nothing: while waiting, budget > 0 and
     len(running) < S: r = head of waiting, n = min(p+g-c, budget), need = blocks(c+n) - b;
     stop if blocks(p+g) - b > free (whole sequence must fit); else move r to the tail of
     running, allocate need, schedule n tokens.
  3. nothing scheduled -> the replica stays idle.
* Step time: decoding request = scheduled with g >= 1 and c = p+g-1. P = prefill tokens
  (everything else), D = decoding requests, C = sum of c over decoding requests (before the
  step). x = ((base + prefill_token*P) + decode_token*D) + context_token*C (IEEE double, in that
  order); duration = round_half_away_from_zero(x*1e6) microseconds.
* End of step: c += n; if c == p+g: g += 1 (first ever token -> first_token instant); if g == o
  the request is served, leaves running and frees its blocks.
* Order at one instant t: (1) steps ending at t, by replica index; (2) client timeouts whose
  deadline (arrival + timeout) is t (waiting or running, frees blocks; a request scheduled in the
  step in progress simply is not there at the step's end); (3) arrivals at t in input order:
  too_long if p >= L (not routed), cap o = min(o, L-p), round robin over routed requests
  (k-th routed -> replica k mod n), queue_full if the chosen replica's waiting list has
  >= queue_limit requests (still counted as routed), else tail of its waiting list; (4) every
  replica not in a step with work schedules a step starting at t.
* Horizon: events at instants before the horizon are processed; steps ending at or after it are
  not applied; requests arriving at or after it are not in the output (scalesim's run ends at
  its horizon before the events of that instant).

Clock: integer microseconds throughout. Arrival times (and --timeout, --horizon, --from, --to)
are parsed from their decimal text exactly (no float).

Output (one row per input request arriving before the horizon, in input order):
  id,arrival_s,replica,first_token_s,end_s,prompt_tokens,output_tokens,outcome,preemptions
(times with exactly 6 decimals; see twin_spec.md "Outcomes and output").

Decisions where §1 / twin_spec.md leave room (closest to vLLM; also listed in the report):
* Input rows need p >= 1 and o >= 1 (vLLM rejects empty prompts; §1 says o >= 1); others are
  an input error, not a refusal.
* --timeout must be > 0 (a zero timeout would expire a request at the very instant it arrives,
  after step (2) of that instant); --timeout/--horizon are exact decimals like arrival times.
* The horizon is exclusive, as in scalesim: an arrival exactly at it is dropped, a step ending
  exactly at it is not applied.
* A request whose deadline falls at the end of a step that does NOT finish it first gets that
  step's tokens (step ends are applied before timeouts), then times out; its output_tokens count
  includes the token emitted at that instant.
* The input CSV may start with the header line `arrival_s,prompt_tokens,output_tokens`.

Usage
-----
  python3 tools/llm_twin.py INPUT.csv --replicas 2 --max-num-seqs 64 \\
      --max-num-batched-tokens 2048 --block-size 16 --kv-blocks 600 \\
      --base 0.006 --prefill-token 0.00004 --decode-token 0.0001 \\
      --context-token 0.00000002 [--max-model-len L] [--timeout S] [--queue-limit N] \\
      [--horizon S] [--out FILE] [--summary]

  python3 tools/llm_twin.py --convert-azure AzureLLMInferenceTrace_code.csv --from 0 --to 900 \\
      [--out FILE]

Azure conversion (--convert-azure FILE --from S --to S): reads the Azure LLM inference trace
2023 (`TIMESTAMP,ContextTokens,GeneratedTokens`, timestamps `YYYY-MM-DD HH:MM:SS.fffffff`).
Each timestamp becomes integer microseconds: the calendar date and H:M:S exactly, the first 6
fraction digits exactly, plus 1 us if the 7th fraction digit is >= 5 (half up; digits beyond the
7th, if any, are ignored; fewer than 6 digits are padded with zeros). arrival_s = that value minus
the first data row's value of the WHOLE file (so slices keep the file's offsets). Rows with
from <= arrival_s < to (exact microseconds, half-open interval) are written, in file order, as
`arrival_s,prompt_tokens,output_tokens` (ContextTokens, GeneratedTokens unchanged) with a header
line, arrival_s with exactly 6 decimals.
"""

import argparse
import collections
import datetime
import math
import re
import sys
import time

US_PER_S = 1_000_000

_DEC_RE = re.compile(r"^(\d+)(?:\.(\d{1,6}))?$")
_INT_RE = re.compile(r"^\d+$")


# ----------------------------------------------------------------------------------------------
# Exact decimal <-> microseconds
# ----------------------------------------------------------------------------------------------

def parse_us(text):
    """'12.345678' -> 12345678 (exact; at most 6 decimals; no sign, no exponent)."""
    s = text.strip()
    m = _DEC_RE.match(s)
    if not m:
        raise ValueError(f"not a decimal number of seconds with at most 6 decimals: {text!r}")
    whole, frac = m.group(1), m.group(2) or ""
    return int(whole) * US_PER_S + int(frac.ljust(6, "0"))


def fmt_us(us):
    """12345678 -> '12.345678'."""
    if us < 0:
        raise ValueError("negative time")
    return f"{us // US_PER_S}.{us % US_PER_S:06d}"


def round_half_away(v):
    """Round v >= 0 to the nearest integer, halves up, as Rust's f64::round does for positive v
    (twin_spec.md; NOT floor(v + 0.5), which gives 1 for 0.49999999999999994)."""
    fl = math.floor(v)
    return int(fl) + (1 if v - fl >= 0.5 else 0)


def round_half_away_us(x_seconds):
    """Duration of a step of x seconds in whole microseconds."""
    return round_half_away(x_seconds * 1e6)


def blocks(n, bs):
    return (n + bs - 1) // bs


# ----------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------

class Params:
    def __init__(self, replicas, max_num_seqs, max_num_batched_tokens, block_size, kv_blocks,
                 base, prefill_token, decode_token, context_token, max_model_len=None,
                 timeout_us=None, queue_limit=None, horizon_us=None):
        self.n = replicas
        self.S = max_num_seqs
        self.B = max_num_batched_tokens
        self.bs = block_size
        self.K = kv_blocks
        self.L = kv_blocks * block_size if max_model_len is None else max_model_len
        self.base = float(base)
        self.prefill_token = float(prefill_token)
        self.decode_token = float(decode_token)
        self.context_token = float(context_token)
        self.timeout_us = timeout_us
        self.queue_limit = queue_limit
        self.horizon_us = horizon_us
        self.check()

    def check(self):
        for name in ("n", "S", "B", "bs", "K", "L"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.L > self.K * self.bs:
            raise ValueError("max_model_len above kv_blocks*block_size is refused "
                             "(a request could wait forever)")
        if not self.base >= 1e-6:
            raise ValueError("base must be at least 1e-6 s")
        for name in ("prefill_token", "decode_token", "context_token"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"{name} must be >= 0")
        if self.timeout_us is not None and self.timeout_us <= 0:
            raise ValueError("timeout must be > 0")
        if self.queue_limit is not None and self.queue_limit < 0:
            raise ValueError("queue_limit must be >= 0")


class Req:
    __slots__ = ("id", "arrival", "p", "o", "c", "g", "b", "preemptions", "replica",
                 "first", "end", "outcome", "state", "deadline")

    def __init__(self, rid, arrival, p, o):
        self.id = rid
        self.arrival = arrival
        self.p = p
        self.o = o
        self.c = 0          # tokens computed (KV in cache)
        self.g = 0          # tokens generated
        self.b = 0          # KV blocks held
        self.preemptions = 0
        self.replica = None
        self.first = None
        self.end = None
        self.outcome = None
        self.state = "new"  # new | waiting | running | done
        self.deadline = None


class Replica:
    def __init__(self, idx, kv_blocks):
        self.idx = idx
        self.running = []                  # ordered list
        self.waiting = collections.deque()  # head = waiting[0]
        self.free = kv_blocks
        self.step_end = None               # instant the step in progress ends, None if idle
        self.sched = []                    # [(req, n)] of the step in progress


class Stats:
    def __init__(self):
        self.steps = 0
        self.preemption_events = 0


def _schedule(rep, t, prm, stats):
    """§1 'Scheduling a step' at instant t; starts the step (sets rep.step_end) if anything
    was scheduled."""
    bs = prm.bs
    budget = prm.B
    sched = []
    preempted = False
    running = rep.running
    waiting = rep.waiting

    # 1. Running pass.
    i = 0
    while i < len(running) and budget > 0:
        r = running[i]
        n = min(r.p + r.g - r.c, budget)
        need = blocks(r.c + n, bs) - r.b
        self_victim = False
        while need > rep.free:
            v = running.pop()            # the last request of running
            rep.free += v.b
            v.b = 0
            v.c = 0                      # recompute; g (emitted tokens) is kept
            v.preemptions += 1
            v.state = "waiting"
            waiting.appendleft(v)        # head of waiting
            stats.preemption_events += 1
            preempted = True
            if v is r:
                self_victim = True
                break
        if self_victim:
            break
        rep.free -= need
        r.b += need
        sched.append((r, n))
        budget -= n
        i += 1

    # 2. Waiting pass, only if nothing was preempted. (With the full-sequence gate below this
    #    rule never changes the result: after the last preemption, free < blocks(p_v+g_v) for
    #    the victim v now at the head of waiting (free only shrinks afterwards), so the gate
    #    would stop anyway. Kept because §1 states it.)
    if not preempted:
        while waiting and budget > 0 and len(running) < prm.S:
            r = waiting[0]
            n = min(r.p + r.g - r.c, budget)
            need = blocks(r.c + n, bs) - r.b
            if blocks(r.p + r.g, bs) - r.b > rep.free:
                break                    # the whole sequence so far must fit
            waiting.popleft()
            running.append(r)
            r.state = "running"
            rep.free -= need
            r.b += need
            sched.append((r, n))
            budget -= n

    # 3. Nothing scheduled: idle.
    if not sched:
        return

    P = D = C = 0
    for r, n in sched:
        if r.g >= 1 and r.c == r.p + r.g - 1:
            assert n == 1
            D += 1
            C += r.c
        else:
            P += n
    x = ((prm.base + prm.prefill_token * float(P)) + prm.decode_token * float(D)) \
        + prm.context_token * float(C)
    dur = round_half_away_us(x)
    assert dur >= 1
    rep.step_end = t + dur
    rep.sched = sched
    stats.steps += 1


def _end_step(rep, t):
    """§1 'End of a step' at instant t."""
    for r, n in rep.sched:
        if r.state != "running":
            continue                     # timed out during the step: its tokens are not applied
        r.c += n
        if r.c == r.p + r.g:
            r.g += 1
            if r.g == 1:
                r.first = t
            if r.g == r.o:
                rep.running.remove(r)
                rep.free += r.b
                r.b = 0
                r.end = t
                r.outcome = "served"
                r.state = "done"
    rep.sched = []
    rep.step_end = None


def simulate(rows, prm):
    """rows: list of (arrival_us, p, o), arrival nondecreasing. Returns (list of Req for the
    rows arriving before the horizon, in input order, Stats)."""
    reqs = []
    prev = 0
    for k, (a, p, o) in enumerate(rows):
        if a < prev:
            raise ValueError(f"row {k}: arrival times must be nondecreasing")
        if p < 1 or o < 1:
            raise ValueError(f"row {k}: prompt_tokens and output_tokens must be >= 1")
        prev = a
        if prm.horizon_us is not None and a >= prm.horizon_us:
            break                        # not in the output
        reqs.append(Req(k, a, p, o))

    reps = [Replica(i, prm.K) for i in range(prm.n)]
    stats = Stats()
    deadlines = collections.deque()      # accepted requests, deadline order (= arrival order)
    nxt = 0                              # next arrival index
    routed = 0                           # round-robin counter
    horizon = prm.horizon_us

    while True:
        while deadlines and deadlines[0].state == "done":
            deadlines.popleft()
        cands = []
        if nxt < len(reqs):
            cands.append(reqs[nxt].arrival)
        for rep in reps:
            if rep.step_end is not None:
                cands.append(rep.step_end)
        if deadlines:
            cands.append(deadlines[0].deadline)
        if not cands:
            break
        t = min(cands)
        if horizon is not None and t >= horizon:
            break

        # (1) steps ending at t, replica index order
        for rep in reps:
            if rep.step_end == t:
                _end_step(rep, t)

        # (2) client timeouts at t
        while deadlines and deadlines[0].deadline <= t:
            r = deadlines.popleft()
            if r.state == "done":
                continue
            assert r.deadline == t
            rep = reps[r.replica]
            if r.state == "waiting":
                rep.waiting.remove(r)
            else:
                rep.running.remove(r)
                rep.free += r.b
                r.b = 0
            r.state = "done"
            r.outcome = "timeout"
            r.end = r.deadline

        # (3) arrivals at t, input order
        while nxt < len(reqs) and reqs[nxt].arrival == t:
            r = reqs[nxt]
            nxt += 1
            if r.p >= prm.L:
                r.outcome, r.end, r.state = "too_long", t, "done"
                continue
            r.o = min(r.o, prm.L - r.p)
            rep = reps[routed % prm.n]
            routed += 1
            r.replica = rep.idx
            if prm.queue_limit is not None and len(rep.waiting) >= prm.queue_limit:
                r.outcome, r.end, r.state = "queue_full", t, "done"
                continue
            rep.waiting.append(r)
            r.state = "waiting"
            if prm.timeout_us is not None:
                r.deadline = r.arrival + prm.timeout_us
                deadlines.append(r)

        # (4) idle replicas with work start a step at t
        for rep in reps:
            if rep.step_end is None and (rep.running or rep.waiting):
                _schedule(rep, t, prm, stats)

    for r in reqs:
        if r.state != "done":
            r.outcome = "in_flight"
    return reqs, stats


# ----------------------------------------------------------------------------------------------
# I/O
# ----------------------------------------------------------------------------------------------

INPUT_HEADER = "arrival_s,prompt_tokens,output_tokens"
OUTPUT_HEADER = "id,arrival_s,replica,first_token_s,end_s,prompt_tokens,output_tokens,outcome,preemptions"


def read_input(text):
    rows = []
    lines = text.splitlines()
    for ln, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        if ln == 1 and line.replace(" ", "") == INPUT_HEADER:
            continue
        parts = [x.strip() for x in line.split(",")]
        if len(parts) != 3 or not _INT_RE.match(parts[1]) or not _INT_RE.match(parts[2]):
            raise ValueError(f"line {ln}: expected arrival_s,prompt_tokens,output_tokens: {line!r}")
        rows.append((parse_us(parts[0]), int(parts[1]), int(parts[2])))
    return rows


def format_output(reqs):
    out = [OUTPUT_HEADER]
    for r in reqs:
        out.append(",".join([
            str(r.id),
            fmt_us(r.arrival),
            "" if r.replica is None else str(r.replica),
            "" if r.first is None else fmt_us(r.first),
            "" if r.end is None else fmt_us(r.end),
            str(r.p),
            str(r.g),
            r.outcome,
            str(r.preemptions),
        ]))
    return "\n".join(out) + "\n"


def summary(reqs, stats):
    counts = collections.Counter(r.outcome for r in reqs)
    preempted = sum(1 for r in reqs if r.preemptions > 0)
    parts = [f"requests={len(reqs)}"]
    for k in ("served", "timeout", "queue_full", "too_long", "in_flight"):
        parts.append(f"{k}={counts.get(k, 0)}")
    parts.append(f"preemption_events={stats.preemption_events}")
    parts.append(f"preempted_requests={preempted}")
    parts.append(f"steps={stats.steps}")
    return " ".join(parts)


# ----------------------------------------------------------------------------------------------
# Azure trace conversion
# ----------------------------------------------------------------------------------------------

_AZ_TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$")


def azure_ts_us(ts):
    """'2023-11-16 18:17:03.9799600' -> integer microseconds since 0001-01-01 (exact):
    first 6 fraction digits kept, +1 us if the 7th digit is >= 5."""
    m = _AZ_TS_RE.match(ts.strip())
    if not m:
        raise ValueError(f"bad Azure timestamp {ts!r}")
    y, mo, d, hh, mm, ss = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    days = datetime.date(y, mo, d).toordinal()
    us = ((days * 24 + hh) * 60 + mm) * 60 + ss
    us = us * US_PER_S + int(frac[:6].ljust(6, "0"))
    if len(frac) >= 7 and frac[6] >= "5":
        us += 1
    return us


def convert_azure(text, from_us, to_us):
    lines = text.splitlines()
    if not lines or lines[0].strip().split(",")[0] != "TIMESTAMP":
        raise ValueError("expected an Azure LLM trace with header TIMESTAMP,ContextTokens,GeneratedTokens")
    out = [INPUT_HEADER]
    t0 = None
    for ln, line in enumerate(lines[1:], 2):
        line = line.strip()
        if not line:
            continue
        ts, ctx, gen = [x.strip() for x in line.split(",")]
        us = azure_ts_us(ts)
        if t0 is None:
            t0 = us
        rel = us - t0
        if rel < 0:
            raise ValueError(f"line {ln}: timestamp before the first row")
        if from_us <= rel < to_us:
            if not (_INT_RE.match(ctx) and _INT_RE.match(gen)):
                raise ValueError(f"line {ln}: bad token counts")
            out.append(f"{fmt_us(rel)},{int(ctx)},{int(gen)}")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", nargs="?", help="CSV arrival_s,prompt_tokens,output_tokens")
    ap.add_argument("--out", help="output file (default stdout)")
    ap.add_argument("--summary", action="store_true", help="print outcome counts to stderr")
    ap.add_argument("--replicas", type=int)
    ap.add_argument("--max-num-seqs", type=int)
    ap.add_argument("--max-num-batched-tokens", type=int)
    ap.add_argument("--block-size", type=int, default=16)
    ap.add_argument("--kv-blocks", type=int)
    ap.add_argument("--max-model-len", type=int, default=None)
    ap.add_argument("--base", type=float)
    ap.add_argument("--prefill-token", type=float)
    ap.add_argument("--decode-token", type=float)
    ap.add_argument("--context-token", type=float)
    ap.add_argument("--timeout", default=None, help="seconds (exact decimal, <= 6 decimals)")
    ap.add_argument("--queue-limit", type=int, default=None)
    ap.add_argument("--horizon", default=None, help="seconds (exact decimal, <= 6 decimals)")
    ap.add_argument("--convert-azure", metavar="FILE")
    ap.add_argument("--from", dest="from_s", default=None)
    ap.add_argument("--to", dest="to_s", default=None)
    a = ap.parse_args(argv)

    def emit(text):
        if a.out:
            with open(a.out, "w", newline="\n") as f:
                f.write(text)
        else:
            sys.stdout.write(text)

    if a.convert_azure:
        if a.from_s is None or a.to_s is None:
            ap.error("--convert-azure needs --from and --to (seconds)")
        with open(a.convert_azure) as f:
            emit(convert_azure(f.read(), parse_us(a.from_s), parse_us(a.to_s)))
        return 0

    if a.input is None:
        ap.error("missing input CSV")
    required = ["replicas", "max_num_seqs", "max_num_batched_tokens", "block_size", "kv_blocks",
                "base", "prefill_token", "decode_token", "context_token"]
    missing = [x for x in required if getattr(a, x) is None]
    if missing:
        ap.error("missing: " + ", ".join("--" + x.replace("_", "-") for x in missing))
    prm = Params(a.replicas, a.max_num_seqs, a.max_num_batched_tokens, a.block_size,
                 a.kv_blocks, a.base, a.prefill_token, a.decode_token, a.context_token,
                 max_model_len=a.max_model_len,
                 timeout_us=None if a.timeout is None else parse_us(a.timeout),
                 queue_limit=a.queue_limit,
                 horizon_us=None if a.horizon is None else parse_us(a.horizon))
    with open(a.input) as f:
        rows = read_input(f.read())
    t0 = time.monotonic()
    reqs, stats = simulate(rows, prm)
    wall = time.monotonic() - t0
    emit(format_output(reqs))
    if a.summary:
        sys.stderr.write(summary(reqs, stats) + f" wall_s={wall:.2f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
