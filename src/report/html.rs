//! `report.html`: one self-contained page — no network, inline CSS, inline SVG charts drawn by
//! the same figure code as the PNGs, one small inline script (table sorting, and a record of
//! script errors for the browser test). It opens with the verdict, then the summary table with
//! confidence intervals, every chart (and zoomed views around the largest failure burst and
//! latency peak), the scenario as run with its overrides, and per policy the decision log
//! around its largest scaling actions and failure bursts.
//!
//! The same inputs give the same bytes (no timestamps; SVG text is deterministic).

use super::atomic::Staging;
use super::chart::render_svg;
use super::charts::{ChartOptions, build_all, first_replications};
use super::markup::{Html, html};
use super::read::{aggregates, cost_above_oracle};
use super::{ReportError, ReportMeta};
use crate::record::aggregate::PolicyAggregate;
use crate::record::{DecisionRow, RunResult};
use crate::time::from_secs_f64;
use std::fmt::Write as _;
use std::path::Path;

/// Stages `report.html` into `staging`, with the figures taken from a `summary.json`
/// document (as `report DIR` reads it, or as `run` writes it); the caller commits.
pub fn stage(
    staging: &mut Staging,
    meta: &ReportMeta,
    summary: &serde_json::Value,
    runs: &[RunResult],
    opts: &ChartOptions,
) -> Result<(), ReportError> {
    let path = staging.dest().join("report.html");
    let html = render(meta, summary, runs, opts).map_err(|e| ReportError::io(&path, e))?.into_string();
    staging.write("report.html", html.as_bytes())
}

const CSS: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em auto;max-width:1320px;color:#222;padding:0 1em}\
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
.verdict{background:#eef6ee;border-left:5px solid #009E73;padding:.8em 1em;font-size:1.1em}\
.verdict.bad{background:#fbeee6;border-left-color:#D55E00}\
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.25em .55em;text-align:right}\
th{background:#f3f3f3;cursor:pointer}td:first-child,th:first-child{text-align:left}\
tr.changed td{background:#fff6d6}.note{color:#666;font-style:italic}\
figure{margin:1em 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}\
pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.85em}code{font-size:.95em}\
details{margin:.4em 0}summary{cursor:pointer;font-weight:bold}";

/// Records script errors into the page (the browser test reads them back) and sorts tables
/// by a clicked header.
const SCRIPT: &str = "window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message));\
document.documentElement.setAttribute('data-errors',String(window.__errors.length));});\
document.addEventListener('DOMContentLoaded',function(){\
document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){\
var t=th.closest('table'),b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),asc=th.getAttribute('data-asc')!=='1';\
rows.sort(function(a,c){var x=parseFloat(a.cells[i].getAttribute('data-v')),y=parseFloat(c.cells[i].getAttribute('data-v'));\
if(isNaN(x)||isNaN(y)){x=a.cells[i].textContent;y=c.cells[i].textContent;return asc?(x<y?-1:x>y?1:0):(x<y?1:x>y?-1:0);}\
return asc?x-y:y-x;});rows.forEach(function(r){b.appendChild(r);});th.setAttribute('data-asc',asc?'1':'0');});});\
document.documentElement.setAttribute('data-ready','yes');\
if(!document.documentElement.hasAttribute('data-errors')){document.documentElement.setAttribute('data-errors','0');}});";

/// The page.
pub fn render(
    meta: &ReportMeta,
    summary: &serde_json::Value,
    runs: &[RunResult],
    opts: &ChartOptions,
) -> Result<Html, String> {
    let aggs = aggregates(summary);
    let mut h = Html::new();
    let title = match meta.overrides_text() {
        Some(o) => format!("{} (--set {o})", meta.name),
        None => meta.name.clone(),
    };
    html!(h; "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>scalesim: ", title, "</title><style>", Html::trusted(CSS.to_string()), "</style><script>",
        Html::trusted(SCRIPT.to_string()), "</script></head><body>\n<h1>scalesim: ", title, "</h1>\n");
    html!(h; "<p class=\"note\">", describe_run(meta, &aggs), "</p>\n");
    html!(h; verdict(meta, summary, &aggs));
    html!(h; "<h2 id=\"summary\">Summary</h2>\n");
    html!(h; summary_table(meta, &aggs));
    html!(h; "<h2 id=\"charts\">Charts</h2>\n");
    for b in build_all(meta, runs, *opts) {
        match &b.empty {
            Some(why) => html!(h; "<p class=\"note chart-skipped\">", b.name, ".png: ", why, "</p>\n"),
            None => {
                let svg = Html::trusted(render_svg(&b.figure)?);
                html!(h; "<figure class=\"chart\" id=\"chart-", b.name, "\">", svg, "</figure>\n");
            }
        }
    }
    html!(h; zoomed(meta, runs, opts)?);
    html!(h; scenario_section(meta));
    html!(h; decision_logs(meta, runs));
    html!(h; "</body></html>\n");
    Ok(h)
}

fn describe_run(meta: &ReportMeta, aggs: &[PolicyAggregate]) -> String {
    let c = &meta.clock;
    let reps = aggs.iter().map(|a| a.replications()).max().unwrap_or(0);
    let mut s = format!(
        "{} policies, {} from {} ({}), {} replication{}",
        aggs.len(),
        super::fmt_duration(meta.duration_s),
        c.start().format("%Y-%m-%d %H:%M"),
        c.tz().name(),
        reps,
        if reps == 1 { "" } else { "s" }
    );
    if meta.warmup_s > 0.0 {
        let _ = write!(
            s,
            "; the first {} are warm-up, excluded from every figure",
            super::fmt_duration(meta.warmup_s)
        );
    }
    match &meta.slo {
        Some(slo) => {
            let mut parts = Vec::new();
            if let Some((p, b)) = slo.latency {
                parts.push(format!("p{p} < {}", fmt_secs(b)));
            }
            if let Some(e) = slo.error_rate {
                parts.push(format!("errors ≤ {}%", super::fmt_num(e * 100.0)));
            }
            let _ = write!(
                s,
                "; SLO per {} interval: {}",
                super::fmt_duration(meta.record_interval_s),
                parts.join(", ")
            );
        }
        None => s.push_str("; no SLO"),
    }
    s.push('.');
    s
}

fn fmt_secs(b: f64) -> String {
    if b < 1.0 {
        format!("{} ms", super::fmt_num((b * 1000.0 * 10.0).round() / 10.0))
    } else {
        format!("{} s", super::fmt_num(b))
    }
}

/// The verdict ([`super::verdict`]: the cheapest deployable policy that meets the SLO, the
/// runner-up, the oracle as the yardstick), then each policy's cost above the oracle.
fn verdict(meta: &ReportMeta, summary: &serde_json::Value, aggs: &[PolicyAggregate]) -> Html {
    let v = super::verdict::verdict(meta, aggs);
    let mut out = Html::new();
    html!(out; "<h2 id=\"verdict\">Verdict</h2>\n");
    let sentences: Vec<Html> = v.sentences().iter().map(|s| s.html()).collect();
    html!(out; "<p class=\"verdict", if v.ok() { "" } else { " bad" }, "\" id=\"verdict-text\">",
        Html::join(&sentences, " "), "</p>\n");
    let gaps: Vec<String> = aggs
        .iter()
        .filter(|a| !super::verdict::is_oracle(meta, &a.policy))
        .filter_map(|a| {
            cost_above_oracle(summary, &a.policy).map(|g| {
                let mark = if super::verdict::flagged_below_oracle(meta, a) { " *" } else { "" };
                format!("{} {:+.1} %{mark}", a.policy, g)
            })
        })
        .collect();
    if !gaps.is_empty() {
        html!(out; "<p>Cost above the oracle (perfect foresight): ", gaps.join(", "), ".</p>\n");
    }
    out
}

/// The summary table, one row per policy, with 95 % confidence half-widths.
fn summary_table(meta: &ReportMeta, aggs: &[PolicyAggregate]) -> Html {
    let cols: [(&str, &str, f64, usize); 12] = [
        ("requests", "requests", 1.0, 0),
        ("failed %", "failed_pct", 1.0, 3),
        ("p50 ms", "latency_p50_s", 1000.0, 1),
        ("p95 ms", "latency_p95_s", 1000.0, 1),
        ("p99 ms", "latency_p99_s", 1000.0, 1),
        ("SLO-violating min", "slo_violation_minutes", 1.0, 1),
        ("min at max", "time_at_max_minutes", 1.0, 1),
        ("replica-hours", "replica_hours", 1.0, 2),
        ("cost", "cost", 1.0, 2),
        ("scaling actions", "scaling_actions", 1.0, 1),
        ("peak replicas", "peak_replicas", 1.0, 1),
        ("failed", "failed", 1.0, 0),
    ];
    let mut h = Html::new();
    html!(h; "<table class=\"sortable\" id=\"summary-table\"><thead><tr><th>policy</th>");
    for c in &cols {
        let label = if c.1 == "cost" { format!("cost {}", meta.currency) } else { c.0.to_string() };
        html!(h; "<th>", label, "</th>");
    }
    html!(h; "</tr></thead><tbody>\n");
    let mut marked = false;
    for a in aggs {
        let below = super::verdict::flagged_below_oracle(meta, a);
        marked |= below;
        html!(h; "<tr class=\"policy-row\"><td>", a.policy, if below { " *" } else { "" }, "</td>");
        for &(_, f, scale, d) in &cols {
            let e = a.get(f);
            let undefined = f == "slo_violation_minutes" && meta.slo.is_none();
            match e.mean.filter(|_| !undefined) {
                None => html!(h; "<td data-v=\"\">–</td>"),
                Some(m) => {
                    let d = if a.replications() <= 1 && (f == "scaling_actions" || f == "peak_replicas") {
                        0
                    } else {
                        d
                    };
                    let mut cell = format!("{:.*}", d, m * scale);
                    if let Some(hw) = e.half_width() {
                        cell.push_str(&format!(" ± {:.*}", d, hw * scale));
                    }
                    html!(h; "<td data-v=\"", super::fmt_num(m * scale), "\">", cell, "</td>");
                }
            }
        }
        html!(h; "</tr>\n");
    }
    html!(h; "</tbody></table>\n");
    let reps = aggs.iter().map(|a| a.replications()).max().unwrap_or(0);
    if reps > 1 {
        html!(h; "<p class=\"note\">Means of ", reps,
            " replications; ± is the 95 % confidence half-width (Student t).</p>\n");
    }
    if marked {
        html!(h; "<p class=\"note\">* costs less than the oracle (perfect foresight): it loads its replicas beyond the capacity the oracle plans with (see the verdict).</p>\n");
    }
    html!(h; "<p class=\"note\">“–”: undefined (no SLO, nothing served, or a policy whose min equals its max). Click a header to sort.</p>\n");
    h
}

/// Zoomed views around the largest failure burst and the highest latency of replication 0.
fn zoomed(meta: &ReportMeta, runs: &[RunResult], opts: &ChartOptions) -> Result<Html, String> {
    let firsts = first_replications(runs);
    let span = (meta.record_interval_s * 30.0).min(meta.duration_s / 4.0).max(meta.record_interval_s * 4.0);
    let mut out = Html::new();
    let peak = |f: &dyn Fn(&crate::record::IntervalRow) -> f64| {
        firsts
            .iter()
            .flat_map(|r| r.intervals.iter().map(move |iv| (r.policy.clone(), iv)))
            .filter(|(_, iv)| iv.start_s >= meta.warmup_s)
            .map(|(p, iv)| (f(iv), p, iv.start_s, iv.end_s))
            .filter(|x| x.0 > 0.0)
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.2.total_cmp(&a.2)))
    };
    let failures = peak(&|iv| iv.failed_total() as f64);
    let latency = peak(&|iv| iv.latency_p99_s.unwrap_or(0.0));
    let mut views = Vec::new();
    if let Some((n, p, s, e)) = failures {
        views.push((
            "failures",
            format!("largest failure burst: {} failed in one interval under {}", n, p),
            s,
            e,
        ));
    }
    if let Some((v, p, s, e)) = latency {
        views.push(("latency", format!("highest p99: {} under {}", fmt_secs(v), p), s, e));
    }
    if views.is_empty() {
        return Ok(out);
    }
    html!(out; "<h2 id=\"zoom\">Zoomed views</h2>\n");
    for (which, text, s, e) in views {
        let mid = 0.5 * (s + e);
        let window = ((mid - span / 2.0).max(0.0), (mid + span / 2.0).min(meta.duration_s));
        let zopts = ChartOptions { window: Some(window), mode: opts.mode };
        let c = &meta.clock;
        let with_day = meta.duration_s > 86_400.0;
        html!(out; "<p>", text, " at ", c.label(from_secs_f64(s), with_day), ":</p>\n");
        for b in build_all(meta, runs, zopts) {
            if (b.name == which || b.name == "replicas") && b.empty.is_none() {
                let svg = Html::trusted(render_svg(&b.figure)?);
                html!(out; "<figure class=\"chart zoom\">", svg, "</figure>\n");
            }
        }
    }
    Ok(out)
}

fn scenario_section(meta: &ReportMeta) -> Html {
    let p = &meta.provenance;
    let mut h = Html::new();
    html!(h; "<h2 id=\"scenario\">Scenario as run</h2>\n<ul>");
    if let Some(path) = &p.path {
        html!(h; "<li>file: <code>", path, "</code></li>");
    }
    if let Some(sha) = &p.sha256 {
        html!(h; "<li>SHA-256 of the file: <code>", sha, "</code></li>");
    }
    if p.overrides.is_empty() {
        html!(h; "<li>no <code>--set</code> overrides</li>");
    } else {
        for o in &p.overrides {
            html!(h; "<li>override: <code>--set ", o, "</code></li>");
        }
    }
    if let Some(c) = &meta.capacity {
        let ci = c.ci95.map_or_else(String::new, |(lo, hi)| format!(" (95 % CI {lo:.2}–{hi:.2})"));
        html!(h; "<li>one replica serves ", super::fmt_num((c.rps * 100.0).round() / 100.0), " req/s", ci,
            " within the objective (", c.method, ")</li>");
    }
    if let Some(o) = &meta.oracle_capacity {
        html!(h; "<li>the oracle plans with ", super::fmt_num((o.rps * 100.0).round() / 100.0),
            " req/s per replica (", o.method, ")</li>");
    }
    html!(h; "</ul>\n");
    match &p.text {
        Some(t) => html!(h; "<pre id=\"scenario-text\">", t, "</pre>\n"),
        None => html!(h; "<p class=\"note\">The scenario text is not in this folder (scenario.toml).</p>\n"),
    }
    h
}

/// Per policy (replication 0): the decisions around its largest scaling actions and its
/// largest failure bursts.
fn decision_logs(meta: &ReportMeta, runs: &[RunResult]) -> Html {
    let mut h = Html::new();
    html!(h; "<h2 id=\"decisions\">Decision logs</h2>\n");
    html!(h; "<p class=\"note\">Per policy, the decisions around its three largest scaling actions and its three largest failure bursts (replication 0); changed decisions are highlighted. Every decision is in decisions.csv.</p>\n");
    // Clock times to the second (with the date when the run covers several dates), as
    // `explain decision --at` takes them.
    let with_date = meta.clock.spans_days(from_secs_f64(meta.duration_s));
    let at_time = |t: f64| meta.clock.clock_time(from_secs_f64(t), with_date);
    for r in first_replications(runs) {
        let d = &r.decisions;
        let mut marks: Vec<(f64, String)> = Vec::new();
        let mut acts: Vec<(usize, &DecisionRow)> =
            d.iter().enumerate().filter(|(_, x)| x.desired != x.current).collect();
        acts.sort_by(|a, b| {
            let s = |x: &DecisionRow| (x.desired as i64 - x.current as i64).abs();
            s(b.1).cmp(&s(a.1)).then(a.0.cmp(&b.0))
        });
        for (_, x) in acts.iter().take(3) {
            marks.push((x.time_s, format!("scaling {} → {}", x.current, x.desired)));
        }
        let mut bursts: Vec<&crate::record::IntervalRow> =
            r.intervals.iter().filter(|iv| iv.failed_total() > 0).collect();
        bursts.sort_by(|a, b| b.failed_total().cmp(&a.failed_total()).then(a.start_s.total_cmp(&b.start_s)));
        for iv in bursts.iter().take(3) {
            marks.push((iv.start_s, format!("{} failed in the interval", iv.failed_total())));
        }
        marks.sort_by(|a, b| a.0.total_cmp(&b.0));
        html!(h; "<details class=\"decision-log\"><summary>", r.policy, " (", d.len(), " decisions, ", acts.len(),
            " scaling actions)</summary>\n");
        if marks.is_empty() || d.is_empty() {
            html!(h; "<p class=\"note\">No scaling action and no failure.</p>");
        }
        for (t, why) in marks {
            html!(h; "<p><b>", at_time(t), "</b> — ", why, "</p>\n");
            // Two decisions before and three after.
            let k = d.partition_point(|x| x.time_s < t);
            let lo = k.saturating_sub(2);
            let hi = (k + 3).min(d.len());
            if lo >= hi {
                continue;
            }
            html!(h; "<table><thead><tr><th>time</th><th>current</th><th>ready</th><th>metrics</th><th>proposal</th><th>stabilized</th><th>limited</th><th>desired</th><th>reason</th></tr></thead><tbody>");
            let opt = |x: Option<u32>| x.map_or(String::new(), |v| v.to_string());
            for x in &d[lo..hi] {
                if x.desired != x.current {
                    html!(h; "<tr class=\"changed\">");
                } else {
                    html!(h; "<tr>");
                }
                html!(h; "<td>", at_time(x.time_s), "</td><td>", x.current, "</td><td>", x.ready, "</td><td>",
                    x.metrics, "</td><td>", opt(x.proposal), "</td><td>", opt(x.stabilized), "</td><td>",
                    opt(x.limited), "</td><td>", x.desired, "</td><td>", x.reason, "</td></tr>");
            }
            html!(h; "</tbody></table>\n");
        }
        html!(h; "</details>\n");
    }
    h
}

/// `report.html` for a `tune` output folder `dir`, staged into `staging`: the search and its
/// verdict (the best candidate, its margin to each constraint, its cost against the oracle's),
/// `pareto.png` and `sensitivity.png` inline, and the candidates table (sortable).
pub fn stage_tune(dir: &Path, staging: &mut Staging) -> Result<(), String> {
    use crate::input::{InputKind, read_text};
    let tune: serde_json::Value = serde_json::from_str(
        &read_text(&dir.join("tune.json"), InputKind::Output).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: {e}", dir.join("tune.json").display()))?;
    let mut charts = Vec::new();
    for name in ["pareto.png", "sensitivity.png"] {
        let p = dir.join(name);
        if p.is_file() {
            let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            charts.push((name, bytes));
        }
    }
    let html = render_tune(&tune, &charts)
        .map_err(|e| format!("{}: {e}", dir.join("tune.json").display()))?
        .into_string();
    staging.write("report.html", html.as_bytes()).map_err(|e| e.to_string())
}

/// A number of tune.json as the table shows it.
fn tune_cell(v: &serde_json::Value) -> (String, String) {
    match v {
        serde_json::Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            let shown = if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{x:.0}")
            } else if x.abs() >= 100.0 {
                format!("{x:.1}")
            } else if x.abs() >= 1.0 {
                format!("{x:.2}")
            } else {
                format!("{x:.3}")
            };
            (shown, super::fmt_num(x))
        }
        serde_json::Value::Null => (super::table::UNDEFINED.to_string(), String::new()),
        serde_json::Value::Bool(b) => (if *b { "yes" } else { "no" }.to_string(), String::new()),
        serde_json::Value::String(s) => (s.clone(), String::new()),
        other => (other.to_string(), String::new()),
    }
}

/// The tune page (see [`write_tune`]).
pub fn render_tune(tune: &serde_json::Value, charts: &[(&str, Vec<u8>)]) -> Result<Html, String> {
    use base64::Engine as _;
    let candidates = tune["candidates"].as_array().ok_or("expected a `candidates` array (a tune.json)")?;
    let policy = tune["policy"].as_str().unwrap_or("?");
    let objective = tune["objective"]["minimize"].as_str().unwrap_or("cost");
    let title = format!("{}: tune {policy}", tune["scenario"].as_str().unwrap_or("scenario"));
    let mut h = Html::new();
    html!(h; "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>scalesim: ", title, "</title><style>", Html::trusted(CSS.to_string()),
        "figure img{max-width:100%;border:1px solid #eee}</style><script>", Html::trusted(SCRIPT.to_string()),
        "</script></head><body>\n<h1>scalesim: ", title, "</h1>\n");
    let constraints: Vec<String> = tune["constraints"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["text"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    html!(h; "<p class=\"note\">", format!(
        "{} candidates, strategy {}, {} replication(s) at full fidelity; minimise {}; {}; {} runs and {} requests simulated.",
        candidates.len(),
        tune["strategy"]["name"].as_str().unwrap_or("?"),
        tune["replications"],
        objective,
        if constraints.is_empty() {
            "no constraints".to_string()
        } else {
            format!("require {}", constraints.join(", "))
        },
        tune["runs_simulated"],
        tune["requests_simulated"],
    ), "</p>\n");
    let currency = tune["currency"].as_str().unwrap_or("");
    match tune["best"].as_object() {
        Some(b) => {
            let mut rest = format!(
                ", {objective} {}",
                tune_cell(b.get("objective").unwrap_or(&serde_json::Value::Null)).0
            );
            if objective == "cost" {
                rest.push_str(&format!(" {currency}"));
            }
            if let Some(g) = b.get("cost_above_oracle_pct").and_then(|g| g.as_f64()) {
                rest.push_str(&format!(", {g:+.1} % above the oracle (perfect foresight)"));
            }
            rest.push('.');
            html!(h; "<div class=\"verdict\" id=\"verdict-text\">Best: <b>",
                b.get("label").and_then(|l| l.as_str()).unwrap_or("?"), "</b>", rest, "</div>\n");
        }
        None => {
            html!(h; "<div class=\"verdict bad\" id=\"verdict-text\">",
                tune["message"].as_str().unwrap_or("no candidate meets every constraint"), "</div>\n");
        }
    }
    if let Some(ws) = tune["warnings"].as_array().filter(|w| !w.is_empty()) {
        html!(h; "<div class=\"warnings\" id=\"tune-warnings\"><h2>Warnings</h2>\n<ul>\n");
        for w in ws {
            html!(h; "<li class=\"tune-warning\">", w["message"].as_str().unwrap_or(""));
            if let Some(s) = w["suggestion"].as_str() {
                html!(h; " Try: <code>", s, "</code>");
            }
            html!(h; "</li>\n");
        }
        html!(h; "</ul></div>\n");
    }
    if let Some(o) = tune["oracle"].as_object() {
        html!(h; "<p>Oracle baseline: cost ", tune_cell(o.get("cost").unwrap_or(&serde_json::Value::Null)).0, " ",
            currency, ", failed ", tune_cell(o.get("failed_pct").unwrap_or(&serde_json::Value::Null)).0,
            " %.</p>\n");
    }
    html!(h; "<h2 id=\"charts\">Charts</h2>\n");
    for (name, bytes) in charts {
        html!(h; "<figure class=\"chart\" id=\"chart-", name.trim_end_matches(".png"), "\"><img alt=\"", name,
            "\" src=\"data:image/png;base64,", base64::engine::general_purpose::STANDARD.encode(bytes),
            "\"></figure>\n");
    }
    // Columns: rank, every varied key, feasible, pareto, the objective, each constraint's figure,
    // the cost above the oracle, the fidelity reached.
    let keys: Vec<String> = tune["vary"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v["key"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let mut figures: Vec<String> = vec![objective.to_string()];
    for c in tune["constraints"].as_array().into_iter().flatten() {
        if let Some(f) = c["figure"].as_str()
            && !figures.iter().any(|x| x == f)
        {
            figures.push(f.to_string());
        }
    }
    if !figures.iter().any(|f| f == "cost_above_oracle_pct") {
        figures.push("cost_above_oracle_pct".into());
    }
    html!(h; "<h2 id=\"candidates\">Candidates</h2>\n<table class=\"sortable\" id=\"candidates-table\"><thead><tr><th>rank</th>");
    for k in keys.iter().chain(["feasible".to_string(), "pareto".to_string()].iter()).chain(figures.iter()) {
        html!(h; "<th>", k, "</th>");
    }
    html!(h; "<th>fidelity</th></tr></thead><tbody>\n");
    let mut order: Vec<&serde_json::Value> = candidates.iter().collect();
    order.sort_by_key(|c| c["rank"].as_u64().unwrap_or(u64::MAX));
    for c in order {
        if c["rank"].as_u64() == Some(1) {
            html!(h; "<tr class=\"candidate-row changed\">");
        } else {
            html!(h; "<tr class=\"candidate-row\">");
        }
        let (r, rv) = tune_cell(&c["rank"]);
        html!(h; "<td data-v=\"", rv, "\">", r, "</td>");
        for k in &keys {
            let (v, d) = tune_cell(&c["params"][k]);
            html!(h; "<td data-v=\"", d, "\">", v, "</td>");
        }
        for k in ["feasible", "pareto"] {
            html!(h; "<td>", tune_cell(&c[k]).0, "</td>");
        }
        for f in &figures {
            let (v, d) = tune_cell(&c[f.as_str()]);
            html!(h; "<td data-v=\"", d, "\">", v, "</td>");
        }
        let fid = &c["fidelity"];
        let fid_text = match (fid["replications"].as_u64(), fid["horizon_fraction"].as_f64()) {
            (Some(r), Some(f)) => format!("{r} × {:.0} %", f * 100.0),
            _ => tune_cell(fid).0,
        };
        html!(h; "<td>", fid_text, "</td></tr>\n");
    }
    html!(h; "</tbody></table>\n</body></html>\n");
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::files;
    use crate::report::testdata::fixture;

    #[test]
    fn the_decision_log_shows_seconds() {
        let (s, mut runs) = fixture(1);
        let row = |time_s: f64, current: u32, desired: u32| DecisionRow {
            time_s,
            current,
            ready: current,
            metrics: String::new(),
            proposal: None,
            stabilized: None,
            limited: None,
            desired,
            reason: "test".into(),
        };
        runs[0].decisions = vec![row(1200.0, 2, 2), row(1230.0, 2, 5), row(1245.5, 5, 5)];
        let meta = ReportMeta::from_scenario(&s);
        let h = decision_logs(&meta, &runs).into_string();
        assert!(h.contains("<b>00:20:30</b> — scaling 2 → 5"), "{h}");
        assert!(h.contains("<td>00:20:00</td>") && h.contains("<td>00:20:45.500</td>"), "{h}");
        // Two days: the date too (2025-01-06 is the fixture's start).
        let mut meta = meta;
        meta.duration_s = 2.0 * 86_400.0;
        assert!(decision_logs(&meta, &runs).as_str().contains("<td>2025-01-06 00:20:30</td>"));
    }

    #[test]
    fn the_page_is_self_contained_and_lists_every_policy() {
        let (s, runs) = fixture(2);
        let meta = ReportMeta::from_scenario(&s);
        let summary = files::summary_value(&meta, &runs);
        let page = render(&meta, &summary, &runs, &ChartOptions::default()).unwrap().into_string();
        assert_eq!(page.matches("class=\"policy-row\"").count(), 2);
        assert!(page.contains("<svg"));
        for banned in ["http://", "https://", "src=\"", "@import"] {
            let hits: Vec<_> = page
                .match_indices(banned)
                .filter(|(i, _)| !page[*i..].starts_with("http://www.w3.org"))
                .collect();
            assert!(hits.is_empty(), "{banned} in the page");
        }
        assert!(page.contains("id=\"verdict-text\""));
        assert_eq!(page, render(&meta, &summary, &runs, &ChartOptions::default()).unwrap().into_string());
    }

    #[test]
    fn verdict_names_the_cheapest_policy_meeting_the_slo() {
        let (s, mut runs) = fixture(1);
        for r in &mut runs {
            r.summary.slo_violation_minutes = if r.policy == "two" { 5.0 } else { 0.0 };
        }
        let meta = ReportMeta::from_scenario(&s);
        let mut summary = files::summary_value(&meta, &runs);
        let v = verdict(&meta, &summary, &aggregates(&summary)).into_string();
        assert!(
            v.contains("<b>four</b> is the cheapest deployable policy that meets the SLO throughout"),
            "{v}"
        );
        assert!(v.contains("Cheaper but missing the SLO: two (5.0 SLO-violating min"), "{v}");
        assert!(!v.contains("verdict bad"), "{v}");
        summary["policies"][1]["cost_above_oracle_pct"] = serde_json::json!(12.5);
        let v = verdict(&meta, &summary, &aggregates(&summary)).into_string();
        assert!(v.contains("four +12.5 %"), "{v}");
        // A policy cheaper than the oracle is flagged, in the verdict and in the table.
        summary["policies"][1]["cost_above_oracle_pct"] = serde_json::json!(-8.5);
        let aggs = aggregates(&summary);
        let v = verdict(&meta, &summary, &aggs).into_string();
        assert!(v.contains("four -8.5 % *"), "{v}");
        assert!(v.contains("four costs 8.5 % less than the oracle: it loads its replicas beyond"), "{v}");
        let t = summary_table(&meta, &aggs).into_string();
        assert!(t.contains("<td>four *</td>") && t.contains("* costs less than the oracle"), "{t}");
        // One cheaper than the oracle because it misses the SLO is not flagged.
        summary["policies"][0]["cost_above_oracle_pct"] = serde_json::json!(-50.0);
        let v = verdict(&meta, &summary, &aggregates(&summary)).into_string();
        assert!(v.contains("two -50.0 %,") && !v.contains("two costs"), "{v}");
        // Every policy misses the SLO: the verdict box says so.
        summary["policies"][1]["slo_violation_minutes"] = serde_json::json!(1.0);
        let v = verdict(&meta, &summary, &aggregates(&summary)).into_string();
        assert!(
            v.contains("verdict bad") && v.contains("The closest is <b>four</b>: 1.0 SLO-violating min"),
            "{v}"
        );
    }
}
