#!/usr/bin/env python3
"""Draws docs/img/hpa-new-pod-timeline.svg: how the HPA sees a new pod, with scalesim's
defaults (metrics-server resolution 15 s on a grid from t=0, 10 s kubelet delay, 15 s sync,
CPU initialization period 300 s). The pod is requested at t=0, starts (startTime) at t=5 and is
Ready at t=30. Run: python3 tools/figures/pod_timeline.py > docs/img/hpa-new-pod-timeline.svg
"""

W, H = 900, 330
X0, X1 = 60, 860
T1 = 75.0  # seconds shown


def x(t):
    return X0 + (X1 - X0) * t / T1


# (from, to, colour, label, how the HPA uses it)
bands = [
    (0, 5, "#bdbdbd", "Pending", "unready: 0 % on scale-up, ignored otherwise"),
    (5, 40, "#f4a259", "missing", "no CPU sample yet"),
    (40, 55, "#f6d55c", "unready", "sample overlaps not-Ready time"),
    (55, T1, "#5cb85c", "ready", "its real CPU counts"),
]
out = [
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
    'font-family="Helvetica, Arial, sans-serif" font-size="13">',
    f'<rect width="{W}" height="{H}" fill="white"/>',
    f'<text x="{X0}" y="24" font-size="16" font-weight="bold">A new pod as the HPA sees it (CPU, scalesim defaults)</text>',
]
# Pod lifecycle row.
y = 50
out.append(f'<text x="{X0}" y="{y - 6}" fill="#555">pod</text>')
for a, b, c, lab in [(0, 5, "#bdbdbd", "Pending"), (5, 30, "#9ecae1", "Running, not Ready"), (30, T1, "#3182bd", "Running, Ready")]:
    out.append(f'<rect x="{x(a):.1f}" y="{y}" width="{x(b) - x(a):.1f}" height="24" fill="{c}" stroke="white"/>')
    if b - a > 8:
        out.append(f'<text x="{(x(a) + x(b)) / 2:.1f}" y="{y + 16}" text-anchor="middle" fill="{"white" if c == "#3182bd" else "black"}">{lab}</text>')
# Scrapes.
y = 110
out.append(f'<text x="{X0}" y="{y - 10}" fill="#555">metrics-server reads the CPU counter (every 15 s); a sample is visible 10 s later</text>')
for t, note in [(15, "first read: baseline only"), (30, "sample [15, 30] → visible at 40"), (45, "sample [30, 45] → visible at 55"), (60, "sample [45, 60] → visible at 70")]:
    out.append(f'<line x1="{x(t):.1f}" y1="{y}" x2="{x(t):.1f}" y2="{y + 16}" stroke="black" stroke-width="2"/>')
    out.append(f'<text x="{x(t) + 4:.1f}" y="{y + 13}" font-size="11">{note}</text>' if t < 60 else f'<text x="{x(t) + 4:.1f}" y="{y + 28}" font-size="11">{note}</text>')
    if t > 15:
        out.append(f'<line x1="{x(t):.1f}" y1="{y + 18}" x2="{x(t + 10):.1f}" y2="{y + 38}" stroke="#888" stroke-dasharray="3,3"/>')
# HPA view row.
y = 170
out.append(f'<text x="{X0}" y="{y - 8}" fill="#555">the pod in the HPA\'s CPU calculation</text>')
for a, b, c, lab, how in bands:
    out.append(f'<rect x="{x(a):.1f}" y="{y}" width="{x(b) - x(a):.1f}" height="30" fill="{c}" stroke="white"/>')
    out.append(f'<text x="{(x(a) + x(b)) / 2:.1f}" y="{y + 19}" text-anchor="middle" font-weight="bold">{lab}</text>')
    out.append(f'<text x="{(x(a) + x(b)) / 2:.1f}" y="{y + 48}" text-anchor="middle" font-size="11">{how if b - a > 6 else ""}</text>')
out.append(f'<text x="{x(2.5):.1f}" y="{y + 62}" text-anchor="start" font-size="11">Pending: unready (0 % on scale-up)</text>')
# Syncs.
y = 255
out.append(f'<text x="{X0}" y="{y - 6}" fill="#555">HPA syncs (every 15 s)</text>')
for t, lab in [(0, "–"), (15, "missing"), (30, "missing"), (45, "unready"), (60, "ready"), (75, "ready")]:
    if t > T1:
        continue
    out.append(f'<circle cx="{x(t):.1f}" cy="{y + 10}" r="5" fill="black"/>')
    out.append(f'<text x="{x(t):.1f}" y="{y + 30}" text-anchor="middle" font-size="11">{lab}</text>')
# Axis.
y = 300
out.append(f'<line x1="{X0}" y1="{y}" x2="{X1}" y2="{y}" stroke="black"/>')
for t in range(0, int(T1) + 1, 5):
    out.append(f'<line x1="{x(t):.1f}" y1="{y}" x2="{x(t):.1f}" y2="{y + 5}" stroke="black"/>')
    out.append(f'<text x="{x(t):.1f}" y="{y + 18}" text-anchor="middle" font-size="11">{t}</text>')
out.append(f'<text x="{X1}" y="{y - 6}" text-anchor="end" font-size="11">seconds since the scale-up</text>')
out.append("</svg>")
print("\n".join(out))
