//! `scalesim explain decision SCENARIO --policy NAME --at TIME` as a library call: re-simulate
//! one run of a scenario up to the first decision of that policy at or after TIME and give the
//! policy's account of it (text or one JSON object); with `case`, the equivalent `explain hpa`
//! or `explain kpa` case file, staged. TIME is read by `time::parse_moment` (the parser of
//! `--window`); a time written to the minute (`08:22`) names the minute: its one decision that
//! changed the replica count is explained, or, when none or several did, the minute's decisions
//! are listed to pick one. Times are given as the scenario's clock times. The re-simulation and
//! the accounts are `experiment::explain_decision`, `experiment::decisions_between` and
//! `Policy::explain`.

use crate::command::{Error, Feedback, invalid};
use crate::config;
use crate::record::DecisionRow;
use crate::report::atomic::Staging;
use crate::rng::replication_seed;
use crate::run::check_policy_names;
use crate::scenario::Scenario;
use crate::time::{Clock, SECOND, Time, from_secs_f64, parse_moment};
use std::path::PathBuf;

/// What `scalesim explain decision` is asked to explain.
#[derive(Debug, Clone)]
pub struct ExplainRequest {
    /// The scenario file.
    pub file: PathBuf,
    /// The policy.
    pub policy: String,
    /// When, as written (an offset, `HH:MM[:SS]`, a local date and time, RFC 3339).
    pub at: String,
    /// Which replication (0-based), as `run --seeds` numbers them.
    pub replication: u32,
    /// `--seed`: the base seed, replacing `simulation.seed`.
    pub seed: Option<u64>,
    /// `--set` overrides, as typed.
    pub overrides: Vec<String>,
    /// One JSON object instead of text.
    pub json: bool,
    /// Write the equivalent case file here.
    pub case: Option<PathBuf>,
}

/// The answer: what to print, and the case file asked for, staged.
#[derive(Debug)]
pub struct Explained {
    /// The account (or the minute's list), as text or JSON as asked.
    pub output: String,
    /// The case file: where, staged, and the line saying how to replay it.
    pub case: Option<(PathBuf, Staging, String)>,
}

/// The decision explained: the account of the first decision of the policy at or after the
/// time asked (or the minute's list of decisions to pick from).
pub fn decision(c: &ExplainRequest, fb: &dyn Feedback) -> Result<Explained, Error> {
    let scenario = load(c)?;
    let clock = &scenario.clock;
    let with_date = clock.spans_days(scenario.duration);
    let moment = parse_moment(&c.at, clock, 0).map_err(|e| invalid(format!("--at: {e}")))?;
    if moment.at >= scenario.duration {
        return Err(invalid(format!(
            "--at: found `{}`, which is {} ({} after the start), at or after the end of the run ({}, {} after the start); expected a time within the run",
            c.at,
            clock.clock_time(moment.at, true),
            span(moment.at),
            clock.clock_time(scenario.duration, true),
            span(scenario.duration),
        )));
    }
    let seed = replication_seed(scenario.seed, c.replication);
    let spec = scenario.policies.iter().find(|p| p.name == c.policy).expect("checked above");
    let head = Head { policy: &c.policy, family: spec.family(), replication: c.replication, seed };
    let (at, note) = if moment.minute {
        let end = (moment.at + 60 * SECOND).min(scenario.duration);
        let rows = crate::experiment::decisions_between(&scenario, &c.policy, moment.at, end, c.replication)?;
        match in_minute(clock, with_date, moment.at, &rows) {
            Ok(found) => found,
            Err(list) => {
                if c.case.is_some() {
                    fb.warn("--case: no case file written: the minute has several decisions; pick one");
                }
                let output = if c.json { list.json(&head) } else { list.text(&head) };
                return Ok(Explained { output, case: None });
            }
        }
    } else {
        (moment.at, None)
    };
    account(c, &scenario, &head, at, note)
}

/// The scenario, with `--seed`, and the policy checked.
fn load(c: &ExplainRequest) -> Result<Scenario, Error> {
    let mut scenario = config::load(&c.file, &c.overrides)?;
    if let Some(seed) = c.seed {
        scenario.seed = seed;
    }
    check_policy_names(&scenario, std::slice::from_ref(&c.policy))?;
    Ok(scenario)
}

/// The decision of the minute starting at `minute` to explain: its one that changed the
/// replica count (with a note when there were others), or the next one when the minute has
/// none; the minute's list when none or several changed the count.
fn in_minute<'a>(
    clock: &'a Clock,
    with_date: bool,
    minute: Time,
    rows: &'a [DecisionRow],
) -> Result<(Time, Option<String>), MinuteList<'a>> {
    let changed: Vec<&DecisionRow> = rows.iter().filter(|r| r.desired != r.current).collect();
    match (rows.len(), changed.len()) {
        (0, _) => Ok((minute, Some(format!("no decision in the minute {}; the next one:", minute_label(clock, minute, with_date))))),
        (n, 1) => Ok((
            from_secs_f64(changed[0].time_s),
            (n > 1).then(|| {
                format!(
                    "the decision of the minute {} that changed the replica count ({n} decisions in that minute):",
                    minute_label(clock, minute, with_date)
                )
            }),
        )),
        _ => Err(MinuteList { clock, with_date, minute, rows, changed: changed.len() }),
    }
}

/// The policy's account of its first decision at or after `at`, as text or JSON, and the case
/// file when asked for.
fn account(
    c: &ExplainRequest,
    scenario: &Scenario,
    head: &Head<'_>,
    at: Time,
    note: Option<String>,
) -> Result<Explained, Error> {
    let clock = &scenario.clock;
    let with_date = clock.spans_days(scenario.duration);
    let show = |t: Time| clock.clock_time(t, with_date);
    let Some(ex) = crate::experiment::explain_decision(scenario, &c.policy, at, c.replication)? else {
        return Err(invalid(format!(
            "--at {}: policy `{}` makes no decision from {} to the end of the run ({})",
            c.at,
            c.policy,
            show(at),
            show(scenario.duration)
        )));
    };
    let (row, e) = (&ex.row, &ex.explanation);
    let family = head.family;
    let steps: Vec<String> = e.steps.iter().map(|s| clock_times(s, &show)).collect();
    let t = from_secs_f64(row.time_s);
    let when = clock.datetime(t);
    let case = match &c.case {
        None => None,
        Some(path) => {
            let Some(case) = &e.case else {
                return Err(invalid(format!(
                    "--case: the {family} family has no case-file format (hpa, keda and knative have: `explain hpa`, `explain kpa`)"
                )));
            };
            let mut text = serde_json::to_string_pretty(&case.body).expect("JSON values serialize");
            text.push('\n');
            let staging = crate::command::stage_file(path, text.as_bytes(), &[])?;
            let said =
                format!("wrote {} (scalesim explain {} {})", path.display(), case.kind, path.display());
            Some((path.clone(), staging, said))
        }
    };
    if c.json {
        let v = serde_json::json!({
            "time_s": row.time_s,
            "time": when.to_rfc3339(),
            "clock_time": show(t),
            "policy": c.policy,
            "family": family,
            "replication": c.replication,
            "seed": head.seed,
            "current": row.current,
            "ready": row.ready,
            "metrics": row.metrics,
            "proposal": row.proposal,
            "stabilized": row.stabilized,
            "limited": row.limited,
            "desired": row.desired,
            "reason": row.reason,
            "steps": steps,
            "detail": e.detail,
            "case": e.case.as_ref().map(|c| c.kind),
        });
        let mut s = serde_json::to_string_pretty(&v).expect("JSON values serialize");
        s.push('\n');
        return Ok(Explained { output: s, case });
    }
    let mut s =
        format!("policy {} ({family}), replication {} (seed {})\n", c.policy, c.replication, head.seed);
    if let Some(n) = note {
        s.push_str(&n);
        s.push('\n');
    }
    s.push_str(&format!(
        "decision at {} ({}, {} after the start)\n",
        show(t),
        when.format("%a %Y-%m-%d %H:%M:%S %Z"),
        span(t)
    ));
    for (i, step) in steps.iter().enumerate() {
        s.push_str(&format!("{}. {step}\n", i + 1));
    }
    s.push_str(&format!(
        "desired: {} (was {}, {} ready) — {}\n",
        row.desired, row.current, row.ready, row.reason
    ));
    Ok(Explained { output: s, case })
}

/// A policy's step with every simulated instant it names (`t=5417s`, `t=90`: seconds since the
/// start, as the policies write them) replaced by its clock time (`01:30:17`).
fn clock_times(step: &str, show: &dyn Fn(Time) -> String) -> String {
    let mut out = String::with_capacity(step.len());
    let mut rest = step;
    while let Some(i) = rest.find("t=") {
        let boundary = rest[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let after = &rest[i + 2..];
        let len = after.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(after.len());
        let num = after[..len].trim_end_matches('.');
        match num.parse::<f64>() {
            Ok(secs) if boundary && !num.is_empty() => {
                out.push_str(&rest[..i]);
                out.push_str(&show(from_secs_f64(secs)));
                let tail = &after[num.len()..];
                rest =
                    tail.strip_prefix('s').filter(|t| !t.starts_with(char::is_alphanumeric)).unwrap_or(tail);
            }
            _ => {
                out.push_str(&rest[..i + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A span of simulated time as people write it (`2h 22m 30s`, `0s`).
fn span(t: Time) -> String {
    if t == 0 {
        return "0s".into();
    }
    humantime::format_duration(std::time::Duration::from_micros(t)).to_string()
}

/// The minute starting at `t`, as `08:22` (with its date when the run spans days).
fn minute_label(clock: &crate::time::Clock, t: Time, with_date: bool) -> String {
    let dt = clock.datetime(t);
    if with_date { dt.format("%Y-%m-%d %H:%M").to_string() } else { dt.format("%H:%M").to_string() }
}

/// Who decided (the first line of every answer).
struct Head<'a> {
    policy: &'a str,
    family: &'a str,
    replication: u32,
    seed: u64,
}

/// A minute's decisions when none or several of them changed the replica count: listed for
/// the user to pick one with seconds.
struct MinuteList<'a> {
    clock: &'a crate::time::Clock,
    with_date: bool,
    minute: Time,
    rows: &'a [DecisionRow],
    changed: usize,
}

impl MinuteList<'_> {
    /// What `--at` to write for a row: the clock time with seconds, as a date-time when the
    /// run spans several dates (a clock time alone names its first occurrence).
    fn pick(&self, r: &DecisionRow) -> String {
        let t = from_secs_f64(r.time_s);
        let s = self.clock.clock_time(t, self.with_date);
        if self.with_date { s.replacen(' ', "T", 1) } else { s }
    }

    fn summary(&self) -> String {
        let n = self.rows.len();
        let what = if self.changed == 0 {
            "none changed the replica count".to_string()
        } else {
            format!("{} changed the replica count (marked *)", self.changed)
        };
        format!(
            "{n} decision{} in the minute {}; {what}",
            if n == 1 { "" } else { "s" },
            minute_label(self.clock, self.minute, self.with_date)
        )
    }

    fn example(&self) -> String {
        let r = self.rows.iter().find(|r| r.desired != r.current).unwrap_or(&self.rows[0]);
        self.pick(r)
    }

    fn text(&self, h: &Head) -> String {
        let mut s =
            format!("policy {} ({}), replication {} (seed {})\n", h.policy, h.family, h.replication, h.seed);
        s.push_str(&self.summary());
        s.push_str(":\n");
        for r in self.rows {
            let mark = if r.desired != r.current { "*" } else { " " };
            s.push_str(&format!(
                "{mark} {}  {} → {}  {}\n",
                self.clock.clock_time(from_secs_f64(r.time_s), self.with_date),
                r.current,
                r.desired,
                r.reason
            ));
        }
        s.push_str(&format!("pick one with its seconds, e.g. --at {}\n", self.example()));
        s
    }

    fn json(&self, h: &Head) -> String {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                let t = from_secs_f64(r.time_s);
                serde_json::json!({
                    "time_s": r.time_s,
                    "time": self.clock.datetime(t).to_rfc3339(),
                    "clock_time": self.clock.clock_time(t, self.with_date),
                    "at": self.pick(r),
                    "current": r.current,
                    "desired": r.desired,
                    "reason": r.reason,
                })
            })
            .collect();
        let v = serde_json::json!({
            "policy": h.policy,
            "family": h.family,
            "replication": h.replication,
            "seed": h.seed,
            "minute": minute_label(self.clock, self.minute, self.with_date),
            "explained": false,
            "message": format!("{}; pick one with its seconds, e.g. --at {}", self.summary(), self.example()),
            "decisions": rows,
        });
        let mut s = serde_json::to_string_pretty(&v).expect("JSON values serialize");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_name_instants_as_clock_times() {
        let show = |t: Time| format!("<{}>", t / SECOND);
        assert_eq!(
            clock_times("evaluation at t=3600s: 3 replicas", &show),
            "evaluation at <3600>: 3 replicas"
        );
        assert_eq!(clock_times("stored at t=0", &show), "stored at <0>");
        assert_eq!(clock_times("until t=12.5s, and t=7s.", &show), "until <12>, and <7>.");
        // Not an instant: other words ending in t=, no number, a unit other than seconds.
        assert_eq!(clock_times("limit=4 at=5 t=x", &show), "limit=4 at=5 t=x");
        assert_eq!(clock_times("t=5sec", &show), "<5>sec");
    }
}
