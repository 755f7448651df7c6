//! `scalesim explain decision SCENARIO --policy NAME --at TIME`: re-simulate one run of a
//! scenario up to the first decision of that policy at or after TIME and print the policy's
//! account of it (text or one JSON object); `--case FILE` writes the equivalent `explain hpa` or
//! `explain kpa` case. The re-simulation and the accounts live in the library
//! (`experiment::explain_decision`, `Policy::explain`); this file parses and prints.

use super::{CliError, check_policy_names, print_stdout};
use scalesim::config;
use scalesim::rng::replication_seed;
use scalesim::time::{parse_moment, to_secs_f64};
use std::path::PathBuf;

/// What `scalesim explain decision` was asked to explain.
#[derive(Debug, Clone)]
pub struct ExplainDecisionCommand {
    /// The scenario file.
    pub file: PathBuf,
    /// The policy.
    pub policy: String,
    /// When, as written (seconds, `HH:MM[:SS]`, local date and time, RFC 3339).
    pub at: String,
    /// Which replication (0-based), as `run --seeds` numbers them.
    pub replication: u32,
    /// `--set` overrides (with `--seed` last, as `simulation.seed=N`).
    pub overrides: Vec<String>,
    /// One JSON object instead of text.
    pub json: bool,
    /// Write the equivalent case file here.
    pub case: Option<PathBuf>,
}

/// Runs `scalesim explain decision`.
pub fn explain_decision(c: ExplainDecisionCommand) -> Result<(), CliError> {
    let scenario = config::load(&c.file, &c.overrides)?;
    check_policy_names(&scenario, std::slice::from_ref(&c.policy))?;
    let at = parse_moment(&c.at, &scenario.clock).map_err(|e| CliError::Usage(format!("--at {e}")))?;
    if at > scenario.duration {
        return Err(CliError::Usage(format!(
            "--at {}: {}s is after the end of the run ({}s)",
            c.at,
            to_secs_f64(at),
            to_secs_f64(scenario.duration)
        )));
    }
    let spec = scenario.policies.iter().find(|p| p.name == c.policy).expect("checked above");
    let family = spec.family();
    let Some(ex) = scalesim::experiment::explain_decision(&scenario, &c.policy, at, c.replication)? else {
        return Err(CliError::Usage(format!(
            "policy `{}` makes no decision from {}s to the end of the run",
            c.policy,
            to_secs_f64(at)
        )));
    };
    let seed = replication_seed(scenario.seed, c.replication);
    let row = &ex.row;
    let e = &ex.explanation;
    let when = scenario.clock.datetime(scalesim::time::from_secs_f64(row.time_s));
    if let Some(path) = &c.case {
        let Some(case) = &e.case else {
            return Err(CliError::Usage(format!(
                "--case: the {family} family has no case-file format (hpa, keda and knative have: `explain hpa`, `explain kpa`)"
            )));
        };
        let mut text = serde_json::to_string_pretty(&case.body).expect("JSON values serialize");
        text.push('\n');
        super::write_file_atomic(path, text.as_bytes())?;
        eprintln!("wrote {} (scalesim explain {} {})", path.display(), case.kind, path.display());
    }
    if c.json {
        let v = serde_json::json!({
            "time_s": row.time_s,
            "time": when.to_rfc3339(),
            "policy": c.policy,
            "family": family,
            "replication": c.replication,
            "seed": seed,
            "current": row.current,
            "ready": row.ready,
            "metrics": row.metrics,
            "proposal": row.proposal,
            "stabilized": row.stabilized,
            "limited": row.limited,
            "desired": row.desired,
            "reason": row.reason,
            "steps": e.steps,
            "detail": e.detail,
            "case": e.case.as_ref().map(|c| c.kind),
        });
        let mut s = serde_json::to_string_pretty(&v).expect("JSON values serialize");
        s.push('\n');
        return print_stdout(&s);
    }
    let mut s = format!(
        "policy {} ({family}), replication {} (seed {seed})\ndecision at t={}s ({})\n",
        c.policy,
        c.replication,
        row.time_s,
        when.format("%a %Y-%m-%d %H:%M:%S %Z")
    );
    for (i, step) in e.steps.iter().enumerate() {
        s.push_str(&format!("{}. {step}\n", i + 1));
    }
    s.push_str(&format!(
        "desired: {} (was {}, {} ready) — {}\n",
        row.desired, row.current, row.ready, row.reason
    ));
    print_stdout(&s)
}
