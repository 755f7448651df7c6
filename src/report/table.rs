//! The terminal summary table: one aligned row per policy, deterministic text.

use super::meta::ReportMeta;
use crate::record::aggregate::{Estimate, PolicyAggregate, aggregate};
use crate::record::{FailReason, RunResult};

/// What the table prints for an undefined figure (no SLO, no request served, a policy that
/// cannot scale).
pub const UNDEFINED: &str = "–";

/// How one column renders an estimate.
struct Col {
    header: String,
    figure: &'static str,
    /// Scale applied before formatting (1000 for seconds → ms).
    scale: f64,
    decimals: usize,
    /// Show "± half-width" with several replications.
    with_ci: bool,
}

fn col(header: &str, figure: &'static str, scale: f64, decimals: usize, with_ci: bool) -> Col {
    Col { header: header.to_string(), figure, scale, decimals, with_ci }
}

fn cell(c: &Col, e: &Estimate, reps: usize) -> String {
    let Some(mean) = e.mean else { return UNDEFINED.to_string() };
    let d = if reps > 1 && !c.with_ci && c.decimals == 0 && c.figure != "requests" {
        1
    } else if c.scale == 1000.0 && (mean * c.scale).abs() >= 100.0 {
        // Milliseconds of 100 and more: whole numbers are precise enough and keep columns narrow.
        0
    } else {
        c.decimals
    };
    let m = format!("{:.*}", d, mean * c.scale);
    match (reps > 1 && c.with_ci, e.half_width()) {
        (true, Some(h)) => format!("{m}±{:.*}", d, h * c.scale),
        _ => m,
    }
}

/// Renders the table.
pub fn render(meta: &ReportMeta, runs: &[RunResult]) -> String {
    let aggs: Vec<PolicyAggregate> = aggregate(runs);
    render_aggregates(meta, &aggs)
}

/// Renders the table from aggregates.
pub fn render_aggregates(meta: &ReportMeta, aggs: &[PolicyAggregate]) -> String {
    let reps = aggs.iter().map(|a| a.replications()).max().unwrap_or(0);
    let mut cols = columns(meta, aggs);
    let mut marked = false;
    // Within 100 columns: the median, then the p95, give way when the table is wider (both stay
    // in summary.csv and summary.json).
    let (mut grid, mut widths) = build_grid(meta, aggs, &cols, reps, &mut marked);
    let mut left_out = Vec::new();
    for drop in ["latency_p50_s", "latency_p95_s"] {
        if widths.iter().sum::<usize>() + widths.len() - 1 <= 100 {
            break;
        }
        if let Some(i) = cols.iter().position(|c| c.figure == drop) {
            left_out.push(cols.remove(i).header);
            (grid, widths) = build_grid(meta, aggs, &cols, reps, &mut marked);
        }
    }
    let mut out = heading(meta, reps, &left_out);
    write_rows(&mut out, &grid, &widths);
    if marked {
        out.push_str(
            "* costs less than the oracle (perfect foresight): it loads its replicas beyond the capacity\n  \
             the oracle plans with (see the verdict)\n",
        );
    }
    write_failures(&mut out, aggs, reps);
    out
}

/// The columns, in order; with an oracle baseline, the cost above it in place of the
/// replica-hours.
fn columns(meta: &ReportMeta, aggs: &[PolicyAggregate]) -> Vec<Col> {
    let mut cols = vec![
        col("requests", "requests", 1.0, 0, false),
        col("failed %", "failed_pct", 1.0, 2, true),
        col("p50 ms", "latency_p50_s", 1000.0, 1, false),
        col("p95 ms", "latency_p95_s", 1000.0, 1, false),
        col("p99 ms", "latency_p99_s", 1000.0, 1, true),
        col("SLO-violating\nmin", "slo_violation_minutes", 1.0, 1, false),
        // The cost before the replica-hours: two-line headers never sit side by side.
        col(&format!("cost {}", meta.currency), "cost", 1.0, 2, true),
        col("replica\nhours", "replica_hours", 1.0, 2, false),
        col("actions", "scaling_actions", 1.0, 0, false),
        col("peak", "peak_replicas", 1.0, 0, false),
        // Last, so that its upper header line never runs into "SLO-violating".
        col("min at\nmax", "time_at_max_minutes", 1.0, 1, false),
    ];
    // Cost above the oracle baseline, when there is one, in place of the replica-hours (the
    // cost column already says the same, and the table stays within 100 columns).
    if aggs.iter().any(|a| a.get("cost_above_oracle_pct").mean.is_some()) {
        let i = cols.iter().position(|c| c.figure == "replica_hours").expect("a replica-hours column");
        cols[i] = col("+oracle %", "cost_above_oracle_pct", 1.0, 1, false);
    }
    cols
}

/// The cells (two header lines, then one row per policy) and each column's width; `marked`
/// becomes true when a policy's cost above the oracle is marked as below it.
fn build_grid(
    meta: &ReportMeta,
    aggs: &[PolicyAggregate],
    cols: &[Col],
    reps: usize,
    marked: &mut bool,
) -> (Vec<Vec<String>>, Vec<usize>) {
    // A deployable policy cheaper than the oracle is marked (the verdict says why).
    let below_oracle = |a: &PolicyAggregate| super::verdict::flagged_below_oracle(meta, a);
    let mut grid: Vec<Vec<String>> = Vec::new();
    // Two header lines: a header with a line break puts its first part on the upper one.
    let mut upper = vec![String::new()];
    let mut header = vec!["policy".to_string()];
    for c in cols {
        let (u, l) = c.header.split_once('\n').unwrap_or(("", &c.header));
        upper.push(u.to_string());
        header.push(l.to_string());
    }
    grid.push(upper);
    grid.push(header);
    for a in aggs {
        let mut row = vec![a.policy.clone()];
        row.extend(cols.iter().map(|c| {
            if c.figure == "slo_violation_minutes" && meta.slo.is_none() {
                UNDEFINED.to_string()
            } else if c.figure == "cost_above_oracle_pct" && below_oracle(a) {
                *marked = true;
                format!("{}*", cell(c, a.get(c.figure), reps))
            } else {
                cell(c, a.get(c.figure), reps)
            }
        }));
        grid.push(row);
    }
    let widths: Vec<usize> =
        (0..grid[0].len()).map(|i| grid.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    (grid, widths)
}

/// The lines above the table: the scenario (with its overrides and warm-up), the replications,
/// and the columns left out to fit.
fn heading(meta: &ReportMeta, reps: usize, left_out: &[String]) -> String {
    let mut out = String::new();
    let mut head = meta.name.clone();
    if let Some(o) = meta.overrides_text() {
        head.push_str(&format!(" (--set {o})"));
    }
    if meta.warmup_s > 0.0 {
        head.push_str(&format!("; first {} excluded as warm-up", super::fmt_duration(meta.warmup_s)));
    }
    if reps > 1 {
        out.push_str(&format!("{head}: mean of {reps} replications; ± is the 95 % confidence half-width\n"));
    } else {
        out.push_str(&format!("{head}\n"));
    }
    if !left_out.is_empty() {
        out.push_str(&format!("({} left out to fit 100 columns; see summary.csv)\n", left_out.join(", ")));
    }
    out
}

/// The aligned rows (policy names left, figures right), with a rule under the headers: two
/// spaces between columns, one if that keeps the table within 100 columns.
fn write_rows(out: &mut String, grid: &[Vec<String>], widths: &[usize]) {
    let content: usize = widths.iter().sum();
    let gap = if content + 2 * (widths.len() - 1) <= 100 { 2 } else { 1 };
    for (k, row) in grid.iter().enumerate() {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            if i == 0 {
                line.push_str(c);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(gap));
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if k == 1 {
            let total = content + gap * (widths.len() - 1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
}

/// Failures by reason, for the policies that had any.
fn write_failures(out: &mut String, aggs: &[PolicyAggregate], reps: usize) {
    let mut lines = Vec::new();
    for a in aggs {
        let parts: Vec<String> = FailReason::ALL
            .iter()
            .filter_map(|r| {
                let m = a.get(&format!("failed_{}", r.name())).mean?;
                (m > 0.0).then(|| {
                    let d = if reps > 1 && m.fract() != 0.0 { 1 } else { 0 };
                    format!("{} {m:.d$}", r.name())
                })
            })
            .collect();
        if !parts.is_empty() {
            lines.push(format!("  {}: {}", a.policy, parts.join(", ")));
        }
    }
    if !lines.is_empty() {
        out.push_str("failures by reason:\n");
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::fixture;

    #[test]
    fn table_lists_each_policy_aligned() {
        let (s, runs) = fixture(1);
        let t = render(&ReportMeta::from_scenario(&s), &runs);
        println!("{t}");
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 9);
        assert_eq!(lines[6], "failures by reason:");
        assert_eq!(lines[7], "  two: queue_full 120, timeout 120");
        assert!(lines[4].ends_with(" –"), "time at max is undefined for a fixed policy: {}", lines[4]);
        // Two header lines: the upper one holds the first part of the long headers.
        assert!(
            lines[1].trim_start().starts_with("SLO-violating") && lines[1].trim_end().ends_with("min at")
        );
        assert!(lines[2].starts_with("policy") && lines[2].ends_with(" max"), "{}", lines[2]);
        assert!(lines[4].starts_with("two "));
        assert!(lines[5].starts_with("four"));
        assert!(lines[4].contains(" 460 "));
        assert!(t.lines().all(|l| l.chars().count() <= 100), "{t}");
        // All data lines end at the same column (right-aligned), as the headers do.
        assert_eq!(lines[4].chars().count(), lines[5].chars().count());
        assert_eq!(lines[2].chars().count(), lines[4].chars().count());
    }

    #[test]
    fn table_shows_confidence_with_replications() {
        let (s, runs) = fixture(3);
        let s = ReportMeta::from_scenario(&s);
        let t = render(&s, &runs);
        println!("{t}");
        assert!(t.contains("mean of 3 replications"));
        assert!(t.contains("470±25"), "{t}");
        assert_eq!(t, render(&s, &runs));
    }
}
