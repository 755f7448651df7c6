//! `scalesim calibrate`: read a Locust history file, fit the replica model, print the fit and
//! write the `[service]` section.

use super::{CalibrateCommand, CliError, print_stdout};
use scalesim::calibrate::{self, CalibrateError, CalibrateOptions, Calibration, service_toml};
use serde_json::json;
use std::fmt::Write;

/// Runs the command.
pub fn calibrate(cmd: CalibrateCommand) -> Result<(), CliError> {
    let origin = cmd.locust.display().to_string();
    let text = scalesim::input::read_text(&cmd.locust, scalesim::input::InputKind::Locust).map_err(|e| {
        CliError::Calibrate(CalibrateError {
            origin: origin.clone(),
            line: None,
            column: None,
            message: e.message,
        })
    })?;
    if let Some(r) = cmd.ramp_s
        && !(r.is_finite() && r >= 0.0)
    {
        return Err(CliError::Usage(format!("--ramp {r}: expected a non-negative number of seconds")));
    }
    let overhead_s = match &cmd.overhead {
        None => None,
        Some(s) => Some(
            scalesim::config::values::parse_duration(s)
                .map_err(|e| {
                    CliError::Usage(format!("--overhead {s}: {e}; expected a duration such as 70ms"))
                })?
                .as_secs_f64(),
        ),
    };
    let cal = calibrate::calibrate(&text, &origin, &CalibrateOptions { ramp_s: cmd.ramp_s, overhead_s })
        .map_err(CliError::Calibrate)?;
    let toml = service_toml(&cal.fit.params, &origin);
    if let Some(out) = &cmd.out {
        super::write_file_atomic(out, toml.as_bytes(), &[&cmd.locust])?;
    }
    if cmd.json {
        let mut v = json_report(&cal, &toml);
        if let Some(out) = &cmd.out {
            v["written_to"] = json!(out.display().to_string());
        }
        let mut s = serde_json::to_string_pretty(&v).expect("serialisable");
        s.push('\n');
        return print_stdout(&s);
    }
    let mut s = table(&cal);
    match &cmd.out {
        Some(out) => writeln!(s, "\nWrote the [service] section to {}.", out.display()).unwrap(),
        None => write!(s, "\n{toml}").unwrap(),
    }
    print_stdout(&s)
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |s| format!("{:.1}", s * 1000.0))
}

/// The per-step table and the fitted parameters.
fn table(cal: &Calibration) -> String {
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
    let p = &f.params;
    writeln!(s).unwrap();
    writeln!(
        s,
        "Fitted replica: {}, demand lognormal mean {:.1} ms sigma {:.3}, overhead {:.1} ms, queue limit {}, {}",
        calibrate::fit::workers_noun(p.workers),
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
    if !f.overhead_profile.is_empty() {
        writeln!(
            s,
            "Overhead profile (everything else refitted with the overhead held; the share of {} bootstrap resamples of the steps each fits best):",
            calibrate::fit::BOOTSTRAP_RESAMPLES
        )
        .unwrap();
        for pt in &f.overhead_profile {
            writeln!(
                s,
                "  {:>7.1} ms  objective {:.4}  best in {:>5.1} %  {} × {:.1} ms",
                pt.overhead_s * 1000.0,
                pt.objective,
                pt.best_share * 100.0,
                calibrate::fit::workers_noun(pt.params.workers),
                pt.params.mean_s * 1000.0
            )
            .unwrap();
        }
    }
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
    for w in &f.warnings {
        writeln!(s, "warning: {w}").unwrap();
    }
    s
}

/// The `--json` object.
fn json_report(cal: &Calibration, toml: &str) -> serde_json::Value {
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
