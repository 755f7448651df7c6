#!/usr/bin/env python3
"""Before/after speed of two scalesim binaries on the reference workload, alternated in one
sitting: whole process, one thread, outputs written (configs/bench/reference.toml, no oracle).
Prints the median wall time and CPU time of each and the ratio after / before.

    python3 tools/bench_binaries.py BEFORE_BINARY AFTER_BINARY [RUNS] [DURATION]
    python3 tools/bench_binaries.py /tmp/scalesim-old target/release/scalesim 21 36000s
"""
import subprocess, sys, time, statistics, tempfile, os, resource
def usage(why):
    sys.exit(f"bench_binaries.py: {why}\nusage: python3 tools/bench_binaries.py BEFORE AFTER [RUNS] [DURATION]")
if not 3 <= len(sys.argv) <= 5:
    usage("expected two scalesim binaries, then optionally the runs of each and the simulated duration")
old, new = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
for b in (old, new):
    if not (os.path.isfile(b) and os.access(b, os.X_OK)):
        usage(f"{b}: not an executable file")
try:
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 7
except ValueError:
    usage(f"RUNS `{sys.argv[3]}`: expected a whole number of runs, 1 or more")
if reps < 1:
    usage(f"RUNS {reps}: expected 1 or more")
dur = sys.argv[4] if len(sys.argv) > 4 else "36000s"
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
times = {old: [], new: []}
cpu = {old: [], new: []}
with tempfile.TemporaryDirectory() as d:
    for k in range(reps):
        for b in ([old, new] if k % 2 == 0 else [new, old]):
            out = os.path.join(d, f"o{k}{os.path.basename(b)}")
            t = time.perf_counter()
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run([b, "--quiet", "run", "configs/bench/reference.toml", "--threads", "1", "--no-oracle",
                            "--set", f"simulation.duration={dur}", "--out", out], cwd=repo, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done.returncode != 0:
                usage(f"{b} failed (exit {done.returncode}) on the reference workload:\n{done.stderr.strip()}")
            times[b].append(time.perf_counter() - t)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[b].append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
mo, mn = statistics.median(times[old]), statistics.median(times[new])
print(f"duration {dur}, {reps} alternated runs each")
print(f"before {os.path.basename(old)}: median {mo:.3f} s  (all: {', '.join(f'{x:.3f}' for x in times[old])})")
print(f"after  {os.path.basename(new)}: median {mn:.3f} s  (all: {', '.join(f'{x:.3f}' for x in times[new])})")
print(f"after / before: {mn / mo:.4f}  ({(mn / mo - 1) * 100:+.2f} %)")
co, cn = statistics.median(cpu[old]), statistics.median(cpu[new])
print(f"CPU time (user + sys) medians: before {co:.3f} s, after {cn:.3f} s, after / before {cn / co:.4f} ({(cn / co - 1) * 100:+.2f} %)")
