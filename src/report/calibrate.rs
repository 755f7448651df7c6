//! What `scalesim calibrate` prints: the fit of a Locust step test as a terminal table
//! ([`table`]) or one JSON object ([`json_report`]).

use crate::calibrate::Calibration;
use crate::calibrate::fit::Fit;
use serde_json::json;
use std::fmt::Write;

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |s| format!("{:.1}", s * 1000.0))
}

/// The per-step table (measured beside simulated) and the fitted parameters, with the
/// objectives, the overhead profile, the saturation, the uncertainty and the warnings: what
/// `scalesim calibrate` prints.
pub fn table(cal: &Calibration) -> String {
    let mut s = steps_table(cal);
    fitted_model(&mut s, &cal.fit);
    overhead_profile(&mut s, &cal.fit);
    saturation_and_uncertainty(&mut s, cal);
    for w in &cal.fit.warnings {
        writeln!(s, "warning: {w}").unwrap();
    }
    s
}

/// The header (file, percentile mode, steps) and each step measured beside simulated.
fn steps_table(cal: &Calibration) -> String {
    let m = &cal.measured;
    let f = &cal.fit;
    let mut s = String::new();
    writeln!(
        s,
        "{}: percentiles {}; {} steps, the first {} s of each dropped",
        cal.origin,
        m.mode.describe(),
        m.steps.len(),
        m.ramp_s
    )
    .unwrap();
    for sk in &m.skipped {
        writeln!(s, "  skipped: {sk}").unwrap();
    }
    writeln!(s).unwrap();
    writeln!(
        s,
        "{:>6} {:>9} {:>17} {:>15} {:>15} {:>15}  note",
        "users", "offered", "served rps", "p50 ms", "p95 ms", "failures %"
    )
    .unwrap();
    writeln!(
        s,
        "{:>6} {:>9} {:>17} {:>15} {:>15} {:>15}",
        "", "rps", "meas / sim", "meas / sim", "meas / sim", "meas / sim"
    )
    .unwrap();
    for c in &f.steps {
        let (me, si) = (&c.measured, &c.simulated);
        let note = if me.generator_bound {
            format!(
                "load generator bound: {:.1} rps expected from {} users; not fitted",
                me.expected_rps.unwrap_or(0.0),
                me.users
            )
        } else if !c.fitted {
            "not fitted".to_string()
        } else {
            String::new()
        };
        writeln!(
            s,
            "{:>6} {:>9.1} {:>8.1} / {:>6.1} {:>6} / {:>6} {:>6} / {:>6} {:>6.2} / {:>6.2}  {note}",
            me.users,
            me.arrival_rps,
            me.served_rps,
            si.served_rps,
            ms(me.latency.map(|l| l.p50_s)),
            ms(si.p50_s),
            ms(me.latency.map(|l| l.p95_s)),
            ms(si.p95_s),
            me.failure_rate * 100.0,
            si.failure_rate * 100.0,
        )
        .unwrap();
    }
    s
}

/// The fitted replica and the objectives that chose it.
fn fitted_model(s: &mut String, f: &Fit) {
    let p = &f.params;
    writeln!(s).unwrap();
    writeln!(
        s,
        "Fitted replica: {}, demand lognormal mean {:.1} ms sigma {:.3}, overhead {:.1} ms, queue limit {}, {}",
        crate::calibrate::fit::workers_noun(p.workers),
        p.mean_s * 1000.0,
        p.sigma,
        p.overhead_s * 1000.0,
        p.queue_limit.map_or_else(|| "unbounded".to_string(), |q| q.to_string()),
        match p.slowdown {
            Some(k) => format!("slowdown ×{k:.2} with all {} workers busy", p.workers),
            None => "no slowdown".to_string(),
        }
    )
    .unwrap();
    let fitted = f.steps.iter().filter(|c| c.fitted).count();
    let kept = format!(
        "an extension is kept when it lowers the objective by more than the noise, {:.4} (likelihood ratio, 95 %)",
        f.noise_threshold
    );
    let slow = match f.objective_with_slowdown {
        Some(v) => format!("without slowdown {:.4}, with {v:.4}", f.objective_without_slowdown),
        None => "slowdown not tried: the test never saturated the replica".to_string(),
    };
    writeln!(s, "  objective {:.4} over {fitted} steps ({} simulations)", f.objective, f.simulations)
        .unwrap();
    match f.given_overhead_s {
        Some(ov) => {
            writeln!(s, "  overhead held at {:.1} ms as given (--overhead); {slow}", ov * 1000.0).unwrap()
        }
        None => writeln!(
            s,
            "  without overhead {:.4}, with {:.4}; {slow}: {kept}",
            f.objective_without_overhead, f.objective_with_overhead
        )
        .unwrap(),
    }
}

/// The overhead profile, when the overhead was fitted.
fn overhead_profile(s: &mut String, f: &Fit) {
    if !f.overhead_profile.is_empty() {
        writeln!(
            s,
            "Overhead profile (everything else refitted with the overhead held; the share of {} bootstrap resamples of the steps each fits best):",
            crate::calibrate::fit::BOOTSTRAP_RESAMPLES
        )
        .unwrap();
        for pt in &f.overhead_profile {
            writeln!(
                s,
                "  {:>7.1} ms  objective {:.4}  best in {:>5.1} %  {} × {:.1} ms",
                pt.overhead_s * 1000.0,
                pt.objective,
                pt.best_share * 100.0,
                crate::calibrate::fit::workers_noun(pt.params.workers),
                pt.params.mean_s * 1000.0
            )
            .unwrap();
        }
    }
}

/// The saturation throughput, measured and modelled, the users' think time, and each
/// parameter's uncertainty.
fn saturation_and_uncertainty(s: &mut String, cal: &Calibration) {
    let (m, f) = (&cal.measured, &cal.fit);
    writeln!(
        s,
        "Saturation throughput: measured {:.1} rps, model {:.1} rps ({:+.1} %){}",
        f.measured_saturation_rps,
        f.model_saturation_rps,
        (f.model_saturation_rps / f.measured_saturation_rps - 1.0) * 100.0,
        if f.saturated { "" } else { "; the test never saturated the replica: workers is a lower bound" }
    )
    .unwrap();
    if let Some(z) = m.think_s {
        writeln!(s, "Locust users think about {z:.2} s between requests (estimated).").unwrap();
    }
    writeln!(
        s,
        "Uncertainty (standard error from the Gauss–Newton curvature; 95 % interval{}):",
        if f.overhead_profile.is_empty() { "" } else { ", the overhead's from the bootstrap of its profile" }
    )
    .unwrap();
    for u in &f.uncertainty {
        let unit = |v: f64| match u.name {
            "demand.mean" | "overhead" => format!("{:.1} ms", v * 1000.0),
            "workers" | "queue_limit" => format!("{v:.0}"),
            _ => format!("{v:.3}"),
        };
        let se = match u.std_error {
            Some(se) => match u.name {
                "demand.mean" | "overhead" => format!("± {:.1} ms", se * 1000.0),
                "workers" | "queue_limit" => format!("± {se:.2}"),
                _ => format!("± {se:.3}"),
            },
            None => "not estimable".to_string(),
        };
        let interval =
            u.interval.map_or_else(|| "-".to_string(), |(lo, hi)| format!("{} to {}", unit(lo), unit(hi)));
        writeln!(
            s,
            "  {:<13} {:>10} {:>14}  {:>22}  {}",
            u.name,
            unit(u.value),
            se,
            interval,
            if u.identified { "identified" } else { "NOT identified" }
        )
        .unwrap();
    }
}

/// The `--json` object.
pub fn json_report(cal: &Calibration, toml: &str) -> serde_json::Value {
    let f = &cal.fit;
    let p = &f.params;
    json!({
        "file": cal.origin,
        "percentile_mode": cal.measured.mode,
        "ramp_s": cal.measured.ramp_s,
        "think_s": cal.measured.think_s,
        "skipped": cal.measured.skipped,
        "service": {
            "workers": p.workers,
            "queue_limit": p.queue_limit,
            "demand": { "distribution": "lognormal", "mean_s": p.mean_s, "sigma": p.sigma },
            "overhead_s": p.overhead_s,
            "slowdown_points": p.slowdown_points(),
        },
        "uncertainty": f.uncertainty,
        "warnings": f.warnings,
        "service_toml": toml,
        "objective": f.objective,
        "objective_without_slowdown": f.objective_without_slowdown,
        "objective_with_slowdown": f.objective_with_slowdown,
        "objective_without_overhead": f.objective_without_overhead,
        "objective_with_overhead": f.objective_with_overhead,
        "overhead_profile": f.overhead_profile,
        "noise_threshold": f.noise_threshold,
        "given_overhead_s": f.given_overhead_s,
        "simulations": f.simulations,
        "saturated": f.saturated,
        "measured_saturation_rps": f.measured_saturation_rps,
        "model_saturation_rps": f.model_saturation_rps,
        "steps": f.steps,
    })
}
