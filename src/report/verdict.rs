//! The verdict: which *deployable* policy to pick, computed once from the per-policy aggregates
//! and rendered three ways — under the terminal table, at the top of `report.html`, and per run
//! in `compare`. `run --check` uses the same definition of "misses the SLO".
//!
//! Rules:
//! - A policy misses the SLO when its SLO-violating minutes after the warm-up
//!   (`slo_violation_minutes`, the mean over replications) are above 0; it meets it otherwise.
//! - The oracle baseline (a policy of type `oracle`, perfect foresight) is never a candidate:
//!   nobody can deploy it. The first one is the yardstick line ("the oracle costs X; the best is
//!   Y % above it", Y being the same `cost_above_oracle_pct` the table shows).
//! - With an SLO: the cheapest deployable policy that meets it, the runner-up with how much more
//!   it costs (as a percentage of the cheapest's cost), and the cheaper ones that miss it; when
//!   none meets it, the closest (fewest SLO-violating minutes, then the lowest failed share, then
//!   cost) and by how much. Without an SLO: the cheapest, saying there is no SLO.
//! - A deployable policy that costs less than the oracle (negative `cost_above_oracle_pct`) is
//!   flagged with the reason: it loads its replicas beyond the capacity the oracle plans with.

use super::ReportMeta;
use super::meta::ReplicaCapacity;
use crate::record::aggregate::PolicyAggregate;

/// One policy's figures as the verdict uses them (means over replications).
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// Policy name.
    pub policy: String,
    /// Cost.
    pub cost: f64,
    /// SLO-violating minutes after the warm-up (`None` without an SLO).
    pub slo_violation_minutes: Option<f64>,
    /// Failed requests, percent.
    pub failed_pct: Option<f64>,
    /// Cost above the oracle baseline, percent (`None` without one).
    pub cost_above_oracle_pct: Option<f64>,
    /// Offered requests per billed replica-second (the mean load of one replica).
    pub load_per_replica_rps: Option<f64>,
}

impl Standing {
    fn of(a: &PolicyAggregate, slo: bool) -> Standing {
        let m = |f: &str| a.get(f).mean;
        let load = match (m("requests"), m("replica_seconds")) {
            (Some(r), Some(s)) if s > 0.0 => Some(r / s),
            _ => None,
        };
        Standing {
            policy: a.policy.clone(),
            cost: m("cost").unwrap_or(f64::INFINITY),
            slo_violation_minutes: if slo { Some(m("slo_violation_minutes").unwrap_or(0.0)) } else { None },
            failed_pct: m("failed_pct"),
            cost_above_oracle_pct: m("cost_above_oracle_pct"),
            load_per_replica_rps: load,
        }
    }

    /// Whether it misses the SLO (SLO-violating minutes above 0); `false` without an SLO.
    pub fn misses_slo(&self) -> bool {
        self.slo_violation_minutes.is_some_and(|v| v > 0.0)
    }

    /// "56.0 SLO-violating min, 0.12 % failed".
    pub fn shortfall(&self) -> String {
        let mut s = format!("{:.1} SLO-violating min", self.slo_violation_minutes.unwrap_or(0.0));
        if let Some(f) = self.failed_pct {
            s.push_str(&format!(", {f:.2} % failed"));
        }
        s
    }
}

/// What the verdict found.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// No deployable policy ran (only the oracle, or nothing).
    NoDeployable,
    /// No SLO is set: the cheapest deployable policy.
    NoSlo {
        /// The cheapest.
        cheapest: Standing,
    },
    /// At least one deployable policy meets the SLO.
    Meets {
        /// The cheapest that meets it.
        best: Standing,
        /// The next cheapest that meets it.
        runner_up: Option<Standing>,
        /// Deployable policies cheaper than `best` that miss the SLO, cheapest first.
        cheaper_missing: Vec<Standing>,
    },
    /// Every deployable policy misses the SLO.
    NoneMeets {
        /// The closest: fewest SLO-violating minutes, then lowest failed share, then cost.
        closest: Standing,
    },
}

/// The verdict of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// What it found.
    pub outcome: Outcome,
    /// The oracle baseline (the yardstick), when it ran.
    pub oracle: Option<Standing>,
    /// Deployable policies that miss the SLO, in table order (empty without an SLO).
    pub missing: Vec<Standing>,
    /// Deployable policies that cost less than the oracle, in table order.
    pub below_oracle: Vec<Standing>,
    /// How many deployable policies ran.
    pub deployable: usize,
    /// Whether the scenario has an SLO.
    pub has_slo: bool,
    /// Currency label.
    pub currency: String,
    /// One replica's capacity within the SLO, when known (for the below-oracle reason).
    pub capacity: Option<ReplicaCapacity>,
    /// The capacity per replica the oracle plans with (`oracle_planning_capacity`), when known.
    pub oracle_capacity: Option<super::meta::OracleCapacity>,
}

/// Whether a policy (its aggregate, with an SLO set) misses the SLO: SLO-violating minutes after
/// the warm-up above 0 (the mean over replications). The one definition the verdict, `run
/// --check` and `tune --check` use.
pub fn misses_slo(a: &PolicyAggregate) -> bool {
    a.get("slo_violation_minutes").mean.is_some_and(|v| v > 0.0)
}

/// Whether a deployable policy is flagged as cheaper than the oracle: it costs less
/// (negative `cost_above_oracle_pct`) while meeting the SLO (or with no SLO set). One that
/// misses the SLO is cheaper for that reason, and is listed as missing it instead.
fn below_oracle(s: &Standing) -> bool {
    !s.misses_slo() && s.cost_above_oracle_pct.is_some_and(|p| p < 0.0)
}

/// Whether the table marks `a` as cheaper than the oracle (the verdict says why): the same test
/// as the verdict's.
pub fn flagged_below_oracle(meta: &ReportMeta, a: &PolicyAggregate) -> bool {
    !is_oracle(meta, &a.policy) && below_oracle(&Standing::of(a, meta.slo.is_some()))
}

/// Whether `policy` is an oracle baseline (type `oracle`): a yardstick, never deployable.
pub fn is_oracle(meta: &ReportMeta, policy: &str) -> bool {
    meta.policy(policy).is_some_and(|p| p.family == "oracle")
}

/// Computes the verdict from the per-policy aggregates (in table order).
pub fn verdict(meta: &ReportMeta, aggs: &[PolicyAggregate]) -> Verdict {
    let has_slo = meta.slo.is_some();
    let oracle = aggs.iter().find(|a| is_oracle(meta, &a.policy)).map(|a| Standing::of(a, has_slo));
    let deployable: Vec<Standing> =
        aggs.iter().filter(|a| !is_oracle(meta, &a.policy)).map(|a| Standing::of(a, has_slo)).collect();
    let mut by_cost: Vec<&Standing> = deployable.iter().collect();
    by_cost.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(a.policy.cmp(&b.policy)));
    let outcome = if by_cost.is_empty() {
        Outcome::NoDeployable
    } else if !has_slo {
        Outcome::NoSlo { cheapest: by_cost[0].clone() }
    } else {
        let meeting: Vec<&&Standing> = by_cost.iter().filter(|s| !s.misses_slo()).collect();
        match meeting.first() {
            Some(best) => Outcome::Meets {
                best: (**best).clone(),
                runner_up: meeting.get(1).map(|s| (**s).clone()),
                cheaper_missing: by_cost
                    .iter()
                    .take_while(|s| s.cost < best.cost)
                    .filter(|s| s.misses_slo())
                    .map(|s| (*s).clone())
                    .collect(),
            },
            None => {
                let key = |s: &Standing| {
                    (s.slo_violation_minutes.unwrap_or(0.0), s.failed_pct.unwrap_or(f64::INFINITY), s.cost)
                };
                let closest = by_cost
                    .iter()
                    .min_by(|a, b| {
                        let (x, y) = (key(a), key(b));
                        x.0.total_cmp(&y.0).then(x.1.total_cmp(&y.1)).then(x.2.total_cmp(&y.2))
                    })
                    .expect("non-empty");
                Outcome::NoneMeets { closest: (*closest).clone() }
            }
        }
    };
    Verdict {
        outcome,
        missing: deployable.iter().filter(|s| s.misses_slo()).cloned().collect(),
        below_oracle: deployable.iter().filter(|s| below_oracle(s)).cloned().collect(),
        deployable: deployable.len(),
        oracle,
        has_slo,
        currency: meta.currency.clone(),
        capacity: meta.capacity.clone(),
        oracle_capacity: meta.oracle_capacity.clone(),
    }
}

/// One piece of a verdict sentence: text, or a policy name to emphasise. The verdict holds
/// no markup: the terminal joins the pieces, `report.html` escapes each one
/// ([`super::markup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Plain text (names and figures included).
    Text(String),
    /// The recommended (or closest) policy's name, emphasised in HTML.
    Strong(String),
}

/// A verdict sentence: pieces of text, some emphasised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sentence(pub Vec<Piece>);

impl Sentence {
    fn t(mut self, s: impl Into<String>) -> Sentence {
        self.0.push(Piece::Text(s.into()));
        self
    }

    fn b(mut self, s: impl Into<String>) -> Sentence {
        self.0.push(Piece::Strong(s.into()));
        self
    }

    /// The sentence as plain text.
    pub fn plain(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Text(s) | Piece::Strong(s) => s.as_str(),
            })
            .collect()
    }

    /// The sentence as HTML: every piece escaped, the emphasised ones in `<b>`.
    pub fn html(&self) -> super::markup::Html {
        use super::markup::{Html, html};
        let mut h = Html::new();
        for p in &self.0 {
            match p {
                Piece::Text(s) => html!(h; s),
                Piece::Strong(s) => html!(h; "<b>", s, "</b>"),
            }
        }
        h
    }
}

fn text(s: impl Into<String>) -> Sentence {
    Sentence::default().t(s)
}

impl Verdict {
    /// Whether the verdict is good news: a deployable policy meets the SLO (or there is no SLO
    /// and something ran).
    pub fn ok(&self) -> bool {
        matches!(self.outcome, Outcome::Meets { .. } | Outcome::NoSlo { .. })
    }

    fn money(&self, x: f64) -> String {
        format!("{x:.2} {}", self.currency)
    }

    /// The policy the verdict names (the best, the closest, or the cheapest).
    pub fn named(&self) -> Option<&Standing> {
        match &self.outcome {
            Outcome::NoDeployable => None,
            Outcome::NoSlo { cheapest } => Some(cheapest),
            Outcome::Meets { best, .. } => Some(best),
            Outcome::NoneMeets { closest } => Some(closest),
        }
    }

    /// One short line for `compare`: "hpa meets the SLO cheapest, 12.34 USD".
    pub fn headline(&self) -> String {
        match &self.outcome {
            Outcome::NoDeployable => "no deployable policy ran".into(),
            Outcome::NoSlo { cheapest } => {
                format!("no SLO; cheapest {}, {}", cheapest.policy, self.money(cheapest.cost))
            }
            Outcome::Meets { best, .. } => {
                format!("cheapest meeting the SLO: {}, {}", best.policy, self.money(best.cost))
            }
            Outcome::NoneMeets { closest } => {
                format!("none meets the SLO; closest {} ({})", closest.policy, closest.shortfall())
            }
        }
    }

    /// The verdict as sentences (the recommended policy's name emphasised).
    pub fn sentences(&self) -> Vec<Sentence> {
        let mut out = Vec::new();
        match &self.outcome {
            Outcome::NoDeployable => out.push(text(
                "No deployable policy ran (the oracle baseline is a yardstick, not a candidate).",
            )),
            Outcome::NoSlo { cheapest } => out.push(text("No SLO is set: ").b(&cheapest.policy).t(format!(
                " is the cheapest deployable policy ({}); check its failures and latency.",
                self.money(cheapest.cost)
            ))),
            Outcome::Meets { best, runner_up, cheaper_missing } => {
                out.push(Sentence::default().b(&best.policy).t(format!(
                    " is the cheapest deployable policy that meets the SLO throughout: {}.",
                    self.money(best.cost)
                )));
                match runner_up {
                    Some(next) if (next.cost - best.cost).abs() < 0.005 => out.push(text(format!(
                        "The runner-up, {}, costs the same ({}): they are tied on cost.",
                        next.policy,
                        self.money(next.cost)
                    ))),
                    Some(next) => {
                        let d = next.cost - best.cost;
                        let pct = if best.cost > 0.0 {
                            format!("{:.1} % more than the cheapest", 100.0 * d / best.cost)
                        } else {
                            "the cheapest costs nothing".into()
                        };
                        out.push(text(format!(
                            "The runner-up, {}, costs {} more ({pct}).",
                            next.policy,
                            self.money(d)
                        )));
                    }
                    None if self.deployable > 1 => out.push(text("No other deployable policy meets it.")),
                    None => {}
                }
                if !cheaper_missing.is_empty() {
                    let list: Vec<String> =
                        cheaper_missing.iter().map(|s| format!("{} ({})", s.policy, s.shortfall())).collect();
                    out.push(text(format!("Cheaper but missing the SLO: {}.", list.join(", "))));
                }
            }
            Outcome::NoneMeets { closest } => out.push(
                text("No deployable policy meets the SLO throughout. The closest is ")
                    .b(&closest.policy)
                    .t(format!(": {}; {}.", closest.shortfall(), self.money(closest.cost))),
            ),
        }
        if let (Some(o), Some(n)) = (&self.oracle, self.named()) {
            let mut s = format!(
                "Yardstick: {} (perfect foresight, not deployable) costs {}",
                oracle_name(&o.policy),
                self.money(o.cost)
            );
            if o.misses_slo() {
                s.push_str(&format!(" and misses the SLO itself ({})", o.shortfall()));
            }
            if let Some(p) = n.cost_above_oracle_pct {
                s.push_str(&format!(
                    "; {} is {:.1} % {} it",
                    n.policy,
                    p.abs(),
                    if p < 0.0 { "below" } else { "above" }
                ));
            }
            s.push('.');
            out.push(text(s));
        }
        for b in &self.below_oracle {
            out.push(text(self.below_oracle_reason(b)));
        }
        out
    }

    /// Why `b` costs less than the oracle, with the figures the run has.
    fn below_oracle_reason(&self, b: &Standing) -> String {
        let o = self.oracle.as_ref();
        let mut s = format!(
            "{} costs {:.1} % less than {}: it loads its replicas beyond the capacity the oracle plans with",
            b.policy,
            b.cost_above_oracle_pct.unwrap_or(0.0).abs(),
            o.map_or_else(|| "the oracle".into(), |o| oracle_name(&o.policy)),
        );
        let mut figures = Vec::new();
        if let Some(l) = b.load_per_replica_rps {
            let mut f = format!("on average {l:.2} req/s per billed replica");
            if let Some(ol) = o.and_then(|o| o.load_per_replica_rps) {
                f.push_str(&format!(", the oracle {ol:.2}"));
            }
            figures.push(f);
        }
        if let Some(c) = &self.oracle_capacity {
            figures.push(format!("the oracle plans with {:.2} req/s per replica", c.rps));
        }
        if let Some(c) = &self.capacity {
            figures.push(format!("one replica's capacity within the SLO: {:.2} req/s, {}", c.rps, c.method));
        }
        if !figures.is_empty() {
            s.push_str(&format!(" ({})", figures.join("; ")));
        }
        s.push_str(", so here the oracle is not a lower bound on cost.");
        s
    }

    /// The verdict for the terminal: `verdict: …`, one sentence per line, wrapped within 100
    /// columns (as the table).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (k, s) in self.sentences().iter().map(Sentence::plain).enumerate() {
            let mut line = String::from(if k == 0 { "verdict:" } else { " " });
            // A "%" stays with its number.
            let mut words: Vec<String> = Vec::new();
            for w in s.split(' ') {
                match words.last_mut() {
                    Some(last) if w.starts_with('%') => {
                        last.push(' ');
                        last.push_str(w);
                    }
                    _ => words.push(w.to_string()),
                }
            }
            for word in &words {
                if line.chars().count() + 1 + word.chars().count() > 100 && !line.trim().is_empty() {
                    out.push_str(&line);
                    out.push('\n');
                    line = String::from("   ");
                }
                line.push(' ');
                line.push_str(word);
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// For `--check`: the deployable policies that miss the SLO and by how much, or `None` when
    /// every one meets it.
    pub fn check_failure(&self) -> Option<String> {
        if self.missing.is_empty() {
            return None;
        }
        let list: Vec<String> =
            self.missing.iter().map(|s| format!("{} ({})", s.policy, s.shortfall())).collect();
        Some(format!(
            "{} of {} deployable {} the SLO: {}",
            self.missing.len(),
            self.deployable,
            if self.missing.len() == 1 { "policies misses" } else { "policies miss" },
            list.join(", ")
        ))
    }
}

fn oracle_name(policy: &str) -> String {
    if policy == crate::oracle::NAME { "the oracle".into() } else { format!("the oracle baseline {policy}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::aggregate::{Estimate, FIGURES};
    use crate::report::PolicyMeta;
    use crate::report::testdata::fixture;

    /// An aggregate with one replication: cost, SLO minutes, failed %, cost above the oracle.
    fn agg(policy: &str, cost: f64, slo: f64, failed: f64, above: Option<f64>) -> PolicyAggregate {
        let figures = std::array::from_fn(|i| {
            let mean = match FIGURES[i] {
                "cost" => Some(cost),
                "slo_violation_minutes" => Some(slo),
                "failed_pct" => Some(failed),
                "cost_above_oracle_pct" => above,
                "requests" => Some(36_000.0),
                "replica_seconds" => Some(cost * 3600.0),
                _ => Some(0.0),
            };
            Estimate { mean, ci95_low: None, ci95_high: None, n: 1 }
        });
        PolicyAggregate { policy: policy.into(), seeds: vec![7], figures }
    }

    fn meta(policies: &[(&str, &str)]) -> ReportMeta {
        let (s, _) = fixture(1);
        let mut m = ReportMeta::from_scenario(&s);
        m.policies = policies
            .iter()
            .map(|(n, f)| PolicyMeta { name: n.to_string(), family: f.to_string(), min: 1, max: 9 })
            .collect();
        m
    }

    #[test]
    fn the_oracle_is_the_yardstick_never_the_verdict() {
        let m = meta(&[("hpa", "cpu"), ("rps-10", "rps"), ("fixed-2", "fixed"), ("oracle", "oracle")]);
        let aggs = [
            agg("hpa", 31.0, 0.0, 0.0, Some(22.9)),
            agg("rps-10", 36.49, 0.0, 0.0, Some(44.6)),
            agg("fixed-2", 4.8, 56.0, 3.5, Some(-81.0)),
            agg("oracle", 25.22, 0.0, 0.0, Some(0.0)),
        ];
        let v = verdict(&m, &aggs);
        let Outcome::Meets { best, runner_up, cheaper_missing } = &v.outcome else { panic!("{v:?}") };
        assert_eq!(best.policy, "hpa");
        assert_eq!(runner_up.as_ref().unwrap().policy, "rps-10");
        assert_eq!(cheaper_missing.len(), 1);
        let text = v.text();
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
        assert!(text.lines().skip(1).all(|l| l.starts_with("  ")), "{text}");
        let t = v.sentences().iter().map(Sentence::plain).collect::<Vec<_>>().join(" ");
        assert!(text.starts_with("verdict: hpa is the cheapest deployable policy that meets the SLO"), "{t}");
        // The runner-up's percentage is of the cheapest's cost: 5.49 / 31.00 = 17.7 %.
        assert!(
            t.contains("The runner-up, rps-10, costs 5.49 USD more (17.7 % more than the cheapest)."),
            "{t}"
        );
        assert!(
            t.contains("Cheaper but missing the SLO: fixed-2 (56.0 SLO-violating min, 3.50 % failed)."),
            "{t}"
        );
        assert!(
            t.contains(
                "the oracle (perfect foresight, not deployable) costs 25.22 USD; hpa is 22.9 % above it"
            ),
            "{t}"
        );
        // Cheaper than the oracle because it misses the SLO: listed as missing it, not flagged.
        assert!(v.below_oracle.is_empty() && !t.contains("less than the oracle"), "{t}");
        assert!(!flagged_below_oracle(&m, &aggs[2]));
        assert_eq!(v.missing.len(), 1);
        assert_eq!(
            v.check_failure().unwrap(),
            "1 of 3 deployable policies misses the SLO: fixed-2 (56.0 SLO-violating min, 3.50 % failed)"
        );
        assert!(v.ok());
        // One that meets the SLO below the oracle's cost is the verdict, flagged with the reason.
        let mut more = aggs.to_vec();
        more.push(agg("rps-14", 23.09, 0.0, 0.0, Some(-8.5)));
        let v = verdict(&m, &more);
        assert_eq!(v.named().unwrap().policy, "rps-14");
        assert!(flagged_below_oracle(&m, &more[4]));
        let t = v.sentences().iter().map(Sentence::plain).collect::<Vec<_>>().join(" ");
        assert!(t.contains("costs 25.22 USD; rps-14 is 8.5 % below it."), "{t}");
        assert!(
            t.contains(
                "rps-14 costs 8.5 % less than the oracle: it loads its replicas beyond the capacity the \
                 oracle plans with (on average 0.43 req/s per billed replica, the oracle 0.40)"
            ),
            "{t}"
        );
        // With the oracle's planning capacity known, the reason names it.
        let mut m = m;
        m.oracle_capacity =
            Some(super::super::meta::OracleCapacity { rps: 16.08, method: "searched".into() });
        let t = verdict(&m, &more).sentences().iter().map(Sentence::plain).collect::<Vec<_>>().join(" ");
        assert!(t.contains("the oracle 0.40; the oracle plans with 16.08 req/s per replica)"), "{t}");
    }

    #[test]
    fn when_none_meets_the_closest_and_by_how_much() {
        let m = meta(&[("a", "fixed"), ("b", "fixed"), ("oracle", "oracle")]);
        let aggs = [
            agg("a", 1.0, 5.0, 2.0, None),
            agg("b", 2.0, 2.0, 0.5, None),
            agg("oracle", 3.0, 0.0, 0.0, None),
        ];
        let v = verdict(&m, &aggs);
        assert!(!v.ok());
        assert_eq!(v.named().unwrap().policy, "b");
        let t = v.sentences().iter().map(Sentence::plain).collect::<Vec<_>>().join(" ");
        assert!(t.contains("The closest is b: 2.0 SLO-violating min, 0.50 % failed; 2.00 USD."), "{t}");
        assert!(t.contains("costs 3.00 USD."), "no percentage without cost_above_oracle_pct: {t}");
        assert!(v.check_failure().unwrap().starts_with("2 of 2 deployable policies miss the SLO: a (5.0"));
    }

    #[test]
    fn a_tie_on_cost_is_said_as_such() {
        let m = meta(&[("a", "fixed"), ("b", "fixed")]);
        let v = verdict(&m, &[agg("b", 1.1, 0.0, 0.0, None), agg("a", 1.1, 0.0, 0.0, None)]);
        let t = v.sentences().iter().map(Sentence::plain).collect::<Vec<_>>().join(" ");
        assert!(
            t.starts_with("a is the cheapest") && t.contains("The runner-up, b, costs the same (1.10 USD)"),
            "{t}"
        );
    }

    #[test]
    fn without_an_slo_the_cheapest_and_no_check() {
        let mut m = meta(&[("a", "fixed"), ("oracle", "oracle")]);
        m.slo = None;
        let aggs = [agg("a", 2.0, 9.0, 0.0, None), agg("oracle", 1.0, 0.0, 0.0, None)];
        let v = verdict(&m, &aggs);
        assert!(
            v.text().starts_with("verdict: No SLO is set: a is the cheapest deployable policy (2.00 USD)")
        );
        assert_eq!(v.check_failure(), None);
        let only_oracle = verdict(&m, &aggs[1..]);
        assert_eq!(only_oracle.outcome, Outcome::NoDeployable);
    }

    #[test]
    fn html_escapes_and_emphasises() {
        let m = meta(&[("<a>", "fixed")]);
        let v = verdict(&m, &[agg("<a>", 2.0, 0.0, 0.0, None)]);
        assert_eq!(
            v.sentences()[0].html().as_str(),
            "<b>&lt;a&gt;</b> is the cheapest deployable policy that meets the SLO throughout: 2.00 USD."
        );
    }
}
