#!/usr/bin/env python3
"""Benchmark and cross-check scalesim against the SimPy twin of the reference workload.

Runs, in one sitting and one after the other on the same machine:
  * the release binary on configs/bench/reference.toml (one thread, outputs written), for
    each seed, `--repeat` times, timing the whole process;
  * tools/simpy_reference.py (the same model in SimPy) for each seed, once.
Then prints agreement (means over seeds: mean latency and replica-seconds within 3 %, failures
and p99 within 8 %) and speed (median wall time, requests per wall-second, ratio).

    python3 -m pip install simpy==4.1.2
    python3 tools/bench_reference.py                 # seeds 1 2 3, 3 timed repeats each
    python3 tools/bench_reference.py --duration 36000 --skip-simpy   # a 10-hour run, speed only
    python3 tools/bench_reference.py --write-fixture tests/fixtures/simpy_reference.json
    python3 tools/bench_reference.py --probe2        # scalesim against the speed limit, 10 h

With --probe2 it builds tools/limit_probe and runs, alternately in one sitting, the scalesim
release binary (whole process, one thread, every output written, `--timings`) and `probe2` (the
tighter hand-written loop of the same model) on 10 simulated hours, `--rounds` times each, then
prints each one's median wall time, requests per wall-second and peak memory, the median of the
per-round ratios probe2 / scalesim, and the median time of each scalesim phase.

Exit status 1 when agreement fails.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs", "bench", "reference.toml")
SIMPY = os.path.join(ROOT, "tools", "simpy_reference.py")
BIN = os.path.join(ROOT, "target", "release", "scalesim")
PROBE_DIR = os.path.join(ROOT, "tools", "limit_probe")
PROBE = os.path.join(PROBE_DIR, "target", "release", "probe2")
TOL = {"latency_mean_s": 0.03, "replica_seconds": 0.03, "failed": 0.08, "latency_p99_s": 0.08}


def run_scalesim(seed, duration, out):
    # --no-oracle: time the one policy SimPy also simulates, not the oracle baseline run adds.
    cmd = [BIN, "run", CONFIG, "--threads", "1", "--seed", str(seed), "--out", out, "--no-oracle",
           "--set", f"simulation.duration={duration}s"]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    with open(os.path.join(out, "summary.json")) as f:
        p = json.load(f)["policies"][0]
    return wall, {k: p[k] for k in ("requests", "served", "failed", "latency_mean_s", "latency_p99_s", "replica_seconds")}


def run_simpy(seed, duration):
    out = subprocess.run([sys.executable, SIMPY, str(duration), str(seed)], check=True,
                         capture_output=True, text=True).stdout
    kv = dict(x.split("=") for x in out.split())
    return float(kv["wall_s"]), {
        "requests": int(kv["arrived"]), "served": int(kv["served"]), "failed": int(kv["errors"]),
        "latency_mean_s": float(kv["mean_latency_s"]), "latency_p99_s": float(kv["p99_latency_s"]),
        "replica_seconds": float(kv["replica_seconds"]),
    }


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def timed(cmd, cwd=ROOT):
    """Wall seconds, peak resident memory (MiB, None without GNU time) and stderr of one child.

    The memory comes from GNU time (`%M`), not from this process's rusage: a child forked from
    Python carries Python's resident size into its peak until it executes the command."""
    wrapped = [GNU_TIME, "-f", "maxrss_kib=%M"] + cmd if GNU_TIME else cmd
    t = time.perf_counter()
    p = subprocess.run(wrapped, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed (exit {p.returncode}):\n{p.stderr.strip()}")
    rss = None
    lines = p.stderr.splitlines()
    if GNU_TIME and lines and lines[-1].startswith("maxrss_kib="):
        rss = int(lines.pop()[len("maxrss_kib="):]) / 1024
    return wall, rss, "\n".join(lines)


def versus_probe2(duration, seed, rounds):
    """scalesim and probe2, alternately, `rounds` times; prints medians and the ratio."""
    ss, pr, ratios, phases = [], [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(rounds):
            out = os.path.join(tmp, f"r{k}")
            cmd = [BIN, "--quiet", "run", CONFIG, "--threads", "1", "--no-oracle", "--timings", "--seed",
                   str(seed), "--out", out, "--set", f"simulation.duration={duration}s"]
            order = ["scalesim", "probe2"] if k % 2 == 0 else ["probe2", "scalesim"]
            for who in order:
                if who == "probe2":
                    wall, rss, _ = timed([PROBE, str(duration), str(seed)])
                    pr.append((wall, rss))
                else:
                    wall, rss, err = timed(cmd)
                    ss.append((wall, rss))
                    line = next(l for l in err.splitlines() if l.startswith("timings: "))
                    for part in line[len("timings: "):].split(" · "):
                        name, ms = part.rsplit(" ", 2)[0], float(part.rsplit(" ", 2)[1])
                        phases.setdefault(name, []).append(ms)
            ratios.append(pr[-1][0] / ss[-1][0])
        with open(os.path.join(tmp, "r0", "summary.json")) as f:
            requests = json.load(f)["policies"][0]["requests"]
    med = statistics.median
    print(f"reference workload, {duration} s simulated, seed {seed}, {rounds} alternated rounds, one thread")
    print()
    print("| | median wall | requests per wall-second | peak memory |")
    print("|---|---|---|---|")
    for name, rows in (("scalesim (whole process, outputs written)", ss), ("probe2", pr)):
        w = med(r[0] for r in rows)
        rss = "–" if rows[0][1] is None else f"{max(r[1] for r in rows):.1f} MiB"
        print(f"| {name} | {w:.3f} s | {requests / w / 1e6:.2f} M | {rss} |")
    print()
    print(f"probe2 / scalesim: median of per-round ratios {med(ratios):.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}); ratio of medians "
          f"{med(r[0] for r in pr) / med(r[0] for r in ss):.3f}")
    print()
    print("scalesim phases (median of " + str(rounds) + " runs): " +
          " · ".join(f"{n} {med(v):.1f} ms" for n, v in phases.items()))
    return 0


def mean(rows, k):
    return statistics.fmean(r[k] for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--repeat", type=int, default=3, help="timed scalesim runs per seed")
    ap.add_argument("--duration", type=int, default=3600, help="simulated seconds")
    ap.add_argument("--skip-simpy", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--probe2", action="store_true", help="time scalesim against probe2 (speed only)")
    ap.add_argument("--rounds", type=int, default=9, help="with --probe2: alternated runs of each")
    ap.add_argument("--write-fixture", help="write the SimPy figures (per seed) to this JSON file")
    a = ap.parse_args()
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    if a.probe2:
        if not a.no_build:
            subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=PROBE_DIR, check=True)
        duration = a.duration if "--duration" in sys.argv else 36000
        sys.exit(versus_probe2(duration, max(a.seeds[0], 0), max(a.rounds, 1)))

    ss_rows, ss_walls = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for s in a.seeds:
            for i in range(a.repeat):
                wall, row = run_scalesim(s, a.duration, os.path.join(tmp, f"s{s}-{i}"))
                ss_walls.append((wall, row["requests"]))
            ss_rows.append(row)
    sp_rows, sp_walls = [], []
    if not a.skip_simpy:
        for s in a.seeds:
            wall, row = run_simpy(s, a.duration)
            sp_rows.append(row)
            sp_walls.append((wall, row["requests"]))

    keys = ["requests", "served", "failed", "latency_mean_s", "latency_p99_s", "replica_seconds"]
    print(f"reference workload, {a.duration} s simulated, seeds {a.seeds}")
    print()
    print("| figure (mean over seeds) | scalesim | SimPy | difference | tolerance |")
    print("|---|---|---|---|---|")
    ok = True
    for k in keys:
        m = mean(ss_rows, k)
        if sp_rows:
            r = mean(sp_rows, k)
            d = m / r - 1 if r else float("nan")
            tol = TOL.get(k)
            verdict = "" if tol is None else ("ok" if abs(d) <= tol else "FAIL")
            ok &= verdict != "FAIL"
            print(f"| {k} | {m:.4g} | {r:.4g} | {d:+.2%} | {'' if tol is None else f'±{tol:.0%} {verdict}'} |")
        else:
            print(f"| {k} | {m:.4g} | – | – | – |")
    print()
    ss_med = statistics.median(w for w, _ in ss_walls)
    ss_rate = statistics.median(n / w for w, n in ss_walls)
    print(f"scalesim: median wall {ss_med:.3f} s over {len(ss_walls)} runs, "
          f"median {ss_rate / 1e6:.2f} M requests per wall-second (one thread, outputs written)")
    if sp_walls:
        sp_med = statistics.median(w for w, _ in sp_walls)
        sp_rate = statistics.median(n / w for w, n in sp_walls)
        print(f"SimPy:    median wall {sp_med:.3f} s over {len(sp_walls)} runs, "
              f"median {sp_rate / 1e3:.0f} k requests per wall-second")
        print(f"ratio:    scalesim is {sp_med / ss_med:.0f}x faster (median wall times)")
    if a.write_fixture and sp_rows:
        with open(a.write_fixture, "w") as f:
            json.dump({"duration_s": a.duration, "seeds": a.seeds, "runs": sp_rows}, f, indent=2)
            f.write("\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
