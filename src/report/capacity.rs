//! Outputs of `scalesim capacity`: the step table (terminal and CSV), the JSON object and the
//! chart of latency percentiles and failure rate against offered load with the capacity marked.

use super::ReportError;
use super::chart::{FONT, PALETTE, SIZE, TickedRange, draw_mesh, font_ready, tick_label};
use crate::capacity::{CapacityAnswer, CapacityEstimate, StepTestResult};
use plotters::prelude::*;
use serde_json::{Value, json};
use std::fmt::Write;
use std::path::Path;

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |s| format!("{:.1}", s * 1000.0))
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(String::new, |x| format!("{x:.digits$}"))
}

/// The steps as a terminal table.
pub fn step_table(r: &StepTestResult, a: &CapacityAnswer) -> String {
    let mut s = String::new();
    let load = if r.mode == "closed" { "users" } else { "target" };
    let _ = writeln!(
        s,
        "{:>4} {:>7} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6} SLO",
        "step", load, "offered", "served", "fail %", "p50 ms", "p95 ms", "p99 ms", "inflight", "cpu %"
    );
    let _ = writeln!(s, "{}", "-".repeat(92));
    for row in &r.steps {
        let l = match (row.users, row.target_rps) {
            (Some(u), _) => u.to_string(),
            (_, Some(t)) => format!("{t:.1}"),
            _ => "-".into(),
        };
        let ok = match a.slo.violation(row) {
            None => "ok".to_string(),
            Some(v) => v,
        };
        let _ = writeln!(
            s,
            "{:>4} {:>7} {:>8.2} {:>8.2} {:>7.2} {:>8} {:>8} {:>8} {:>8.2} {:>6} {}",
            row.step,
            l,
            row.offered_rps,
            row.served_rps,
            row.failure_rate * 100.0,
            ms(row.p50_s),
            ms(row.p95_s),
            ms(row.p99_s),
            row.in_flight_mean,
            row.cpu_utilization.map_or_else(|| "-".into(), |c| format!("{:.1}", c * 100.0)),
            ok
        );
    }
    s
}

/// The answers as text.
pub fn answer_text(r: &StepTestResult, a: &CapacityAnswer) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "SLO: {}", a.slo.describe());
    match a.max_rps_within_slo {
        Some(c) => {
            let note =
                if a.bounded { "" } else { " (every step met the SLO: at least this; extend the test)" };
            let _ = writeln!(s, "max rps within SLO:       {c:.2} req/s{note}");
        }
        None => {
            let _ = writeln!(s, "max rps within SLO:       none (the first step already misses the SLO)");
        }
    }
    if let Some(l) = &a.limited_by {
        let _ = writeln!(s, "limited by:               {l} at the next step");
    }
    let _ = writeln!(s, "saturation throughput:    {:.2} req/s", a.saturation_rps);
    let _ = writeln!(s, "concurrency at capacity:  {}", opt(a.concurrency_at_capacity, 2));
    let _ = writeln!(
        s,
        "CPU at capacity:          {}",
        a.cpu_utilization_at_capacity
            .map_or_else(String::new, |c| format!("{:.1}% of the request", c * 100.0))
    );
    if r.stopped_early {
        let _ = writeln!(s, "stopped after step {}: failures dominate", r.steps.len() - 1);
    }
    s
}

/// The steps as CSV.
pub fn steps_csv(r: &StepTestResult) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "step",
        "target_rps",
        "users",
        "offered_rps",
        "served_rps",
        "failure_rate",
        "failed_queue_full",
        "failed_timeout",
        "latency_mean_s",
        "latency_p50_s",
        "latency_p90_s",
        "latency_p95_s",
        "latency_p99_s",
        "latency_p999_s",
        "in_flight_mean",
        "cpu_utilization",
    ]);
    for s in &r.steps {
        let _ = w.write_record([
            s.step.to_string(),
            opt(s.target_rps, 3),
            s.users.map_or_else(String::new, |u| u.to_string()),
            format!("{:.4}", s.offered_rps),
            format!("{:.4}", s.served_rps),
            format!("{:.6}", s.failure_rate),
            s.failed[0].to_string(),
            s.failed[1].to_string(),
            opt(s.mean_s, 6),
            opt(s.p50_s, 6),
            opt(s.p90_s, 6),
            opt(s.p95_s, 6),
            opt(s.p99_s, 6),
            opt(s.p999_s, 6),
            format!("{:.4}", s.in_flight_mean),
            opt(s.cpu_utilization, 4),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// One line per seed: its capacity within the objective, its saturation, what limits it.
pub fn seeds_table(e: &CapacityEstimate) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{:>4} {:>14} {:>14}  limited by (next step)", "seed", "within SLO", "saturation");
    let _ = writeln!(s, "{}", "-".repeat(64));
    for (seed, (_, a)) in e.seeds.iter().zip(&e.tests) {
        let _ = writeln!(
            s,
            "{seed:>4} {:>14} {:>14.2}  {}",
            a.max_rps_within_slo.map_or_else(|| "-".into(), |c| format!("{c:.2}")),
            a.saturation_rps,
            a.limited_by.as_deref().unwrap_or("-")
        );
    }
    s
}

/// The answer over all seeds, hyperfine-style: mean ± σ, the interval, the saturation apart.
pub fn estimate_text(e: &CapacityEstimate) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "SLO: {}", e.objective.describe());
    if e.within().is_err() {
        let _ = writeln!(
            s,
            "max rps within SLO:       none (the first step of the test with seed {} already misses the SLO)",
            e.missed_seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        );
        let _ = writeln!(
            s,
            "saturation throughput:    {:.2} req/s (mean; the most one replica serves, SLO or not)",
            e.saturation_rps
        );
        return s;
    }
    let note = if e.bounded {
        ""
    } else {
        " (some tests met the SLO at every step: at least this; extend the test)"
    };
    let _ = writeln!(
        s,
        "max rps within SLO:       {:.2} ± {:.2} req/s (mean ± σ of {} seeds){note}",
        e.mean_rps,
        e.sd_rps,
        e.seeds.len()
    );
    let _ = writeln!(
        s,
        "                          95 % CI {:.2}–{:.2} req/s; range {:.2}–{:.2}",
        e.ci95_rps.0,
        e.ci95_rps.1,
        e.per_seed_rps.iter().copied().fold(f64::INFINITY, f64::min),
        e.per_seed_rps.iter().copied().fold(0.0, f64::max)
    );
    let _ = writeln!(
        s,
        "saturation throughput:    {:.2} req/s (mean; the most one replica serves, SLO or not)",
        e.saturation_rps
    );
    let _ = writeln!(s, "concurrency at capacity:  {}", opt(e.concurrency_at_capacity, 2));
    let _ = writeln!(
        s,
        "CPU at capacity:          {}",
        e.cpu_utilization_at_capacity
            .map_or_else(String::new, |c| format!("{:.1}% of the request", c * 100.0))
    );
    s
}

/// The JSON object `capacity --json` prints: the estimate at the top level
/// (`max_rps_within_slo` is the mean over the seeds, `max_rps_within_slo_ci95` its 95 %
/// interval), `steps` (seed 1's test, as the table shows), then `tests`, one per seed, each
/// as [`json_value`] gives it with its `seed`.
pub fn estimate_json(e: &CapacityEstimate) -> Value {
    let tests: Vec<Value> = e
        .seeds
        .iter()
        .zip(&e.tests)
        .map(|(seed, (r, a))| {
            let mut v = json_value(r, a);
            if let Some(o) = v.as_object_mut() {
                o.insert("seed".into(), json!(seed));
            }
            v
        })
        .collect();
    let some = e.within().is_ok();
    json!({
        "mode": e.mode,
        "slo": e.objective.describe(),
        "method": e.method(),
        "max_rps_within_slo": some.then_some(e.mean_rps),
        "max_rps_within_slo_sd": some.then_some(e.sd_rps),
        "max_rps_within_slo_ci95": some.then_some([e.ci95_rps.0, e.ci95_rps.1]),
        "seeds": e.seeds,
        "max_rps_within_slo_per_seed": e.per_seed_rps,
        "missed_seeds": e.missed_seeds,
        "bounded": e.bounded,
        "saturation_rps": e.saturation_rps,
        "concurrency_at_capacity": e.concurrency_at_capacity,
        "cpu_utilization_at_capacity": e.cpu_utilization_at_capacity,
        "steps": e.tests.first().map(|(r, _)| json!(r.steps)).unwrap_or(Value::Null),
        "tests": tests,
    })
}

/// The JSON object `--json` prints: the answers at the top level, then `steps`.
pub fn json_value(r: &StepTestResult, a: &CapacityAnswer) -> Value {
    json!({
        "mode": r.mode,
        "slo": a.slo.describe(),
        "max_rps_within_slo": a.max_rps_within_slo,
        "bounded": a.bounded,
        "saturation_rps": a.saturation_rps,
        "concurrency_at_capacity": a.concurrency_at_capacity,
        "cpu_utilization_at_capacity": a.cpu_utilization_at_capacity,
        "last_step_within_slo": a.last_step_within_slo,
        "limited_by": a.limited_by,
        "step_s": r.step_s,
        "warmup_s": r.warmup_s,
        "stopped_early": r.stopped_early,
        "steps": r.steps,
    })
}

/// `capacity.png`: p50 / p95 / p99 latency (left axis, ms) and failure rate (right axis, %)
/// against offered load, the capacity marked by a vertical line.
pub fn chart(path: &Path, title: &str, r: &StepTestResult, a: &CapacityAnswer) -> Result<(), ReportError> {
    if !font_ready() {
        return Err(ReportError::io(path, "embedded chart font could not be loaded"));
    }
    draw(path, title, r, a).map_err(|e| ReportError::io(path, e))
}

fn draw(
    path: &Path,
    title: &str,
    r: &StepTestResult,
    a: &CapacityAnswer,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let xmax = r.steps.iter().map(|s| s.offered_rps).fold(1.0, f64::max) * 1.05;
    let ymax =
        r.steps.iter().filter_map(|s| s.p99_s).fold(a.slo.latency.map_or(0.0, |l| l.1), f64::max).max(0.001)
            * 1000.0
            * 1.1;
    let fmax = r.steps.iter().map(|s| s.failure_rate * 100.0).fold(1.0, f64::max).min(100.0) * 1.1;
    // Ticks from the one tick algorithm, labelled exactly ([`super::ticks`]).
    let xa = super::ticks::axis(0.0, xmax, false, 9, "offered load (requests/s)");
    let ya = super::ticks::axis(0.0, ymax, false, 9, "latency (ms)");
    let fa = super::ticks::axis(0.0, fmax, false, 9, "failed (%)");
    let mut c = ChartBuilder::on(&root)
        .caption(title, (FONT, 26))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .right_y_label_area_size(80)
        .build_cartesian_2d(TickedRange::of(&xa, 1), TickedRange::of(&ya, 1))?
        .set_secondary_coord(TickedRange::of(&xa, 1), TickedRange::of(&fa, 1));
    draw_mesh(&mut c, &xa, &ya, (&xa.desc, &ya.desc), (16, 18))?;
    let flabel = |v: &f64| tick_label(&fa, *v);
    c.configure_secondary_axes()
        .y_desc(&fa.desc)
        .y_label_formatter(&flabel)
        .y_label_offset(4) // as the left axis ([`super::chart::draw_mesh`])
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .draw()?;
    type Pick = fn(&crate::capacity::StepRow) -> Option<f64>;
    let lines: [(&str, Pick); 3] = [("p50", |s| s.p50_s), ("p95", |s| s.p95_s), ("p99", |s| s.p99_s)];
    for (i, (name, f)) in lines.iter().enumerate() {
        let color = PALETTE[i];
        let pts: Vec<(f64, f64)> =
            r.steps.iter().filter_map(|s| f(s).map(|v| (s.offered_rps, v * 1000.0))).collect();
        c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(3)))?
            .label(format!("{name} latency"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3)));
        c.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
    }
    let fc = PALETTE[3];
    let fpts: Vec<(f64, f64)> = r.steps.iter().map(|s| (s.offered_rps, s.failure_rate * 100.0)).collect();
    c.draw_secondary_series(LineSeries::new(fpts, fc.stroke_width(2)))?
        .label("failed % (right axis)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], fc.stroke_width(2)));
    if let Some((p, bound)) = a.slo.latency {
        let b = bound * 1000.0;
        let grey = RGBColor(120, 120, 120);
        c.draw_series(LineSeries::new(vec![(0.0, b), (xmax, b)], grey.stroke_width(1)))?
            .label(format!("SLO p{p} bound"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], grey.stroke_width(1)));
    }
    if let Some(cap) = a.max_rps_within_slo {
        let k = PALETTE[6];
        c.draw_series(LineSeries::new(vec![(cap, 0.0), (cap, ymax)], k.stroke_width(2)))?
            .label(format!("capacity {cap:.1} req/s"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], k.stroke_width(2)));
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 16))
        .draw()?;
    root.present()?;
    Ok(())
}
