//! What the report knows about a run besides its results: the scenario's name, clock, SLO,
//! cost, warm-up and policies, where the scenario came from (path, content hash, `--set`
//! overrides), and one replica's capacity. Built from a [`Scenario`] by `run`, or read back
//! from `summary.json` by `report DIR` and `compare`, so every writer works from either.

use crate::scenario::{Scenario, Slo};
use crate::time::{Clock, from_secs_f64, to_secs_f64};
use serde_json::Value;

/// A policy as the report needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyMeta {
    /// Name.
    pub name: String,
    /// Family (`fixed`, `rps`, `hpa`, …).
    pub family: String,
    /// Lowest replica count it may ask for.
    pub min: u32,
    /// Highest replica count it may ask for.
    pub max: u32,
}

/// Where the scenario came from and how it was changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    /// Path of the scenario file as given on the command line.
    pub path: Option<String>,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: Option<String>,
    /// Every `--set key=value`, in order.
    pub overrides: Vec<String>,
    /// The scenario text as run (the file with the overrides applied).
    pub text: Option<String>,
}

/// One replica's capacity within the SLO, as `capacity` computes it
/// ([`crate::capacity::replica_capacity`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReplicaCapacity {
    /// Requests per second one replica serves within the objective (the mean over the seeds).
    pub rps: f64,
    /// How it was found (e.g. `mean of 8 open-loop step tests (seeds 1–8), p99 < 500 ms,
    /// errors <= 1%`).
    pub method: String,
    /// Sample standard deviation over the seeds.
    pub sd: Option<f64>,
    /// 95 % confidence interval of the mean.
    pub ci95: Option<(f64, f64)>,
    /// The seeds of the step tests.
    pub seeds: Vec<u64>,
}

impl ReplicaCapacity {
    /// The report's view of an estimate.
    pub fn from_estimate(e: &crate::capacity::CapacityEstimate) -> ReplicaCapacity {
        ReplicaCapacity {
            rps: e.mean_rps,
            method: e.method(),
            sd: Some(e.sd_rps),
            ci95: Some(e.ci95_rps),
            seeds: e.seeds.clone(),
        }
    }

    /// `13.48 req/s (95 % CI 12.79–14.17)`, or just the rate without an interval.
    pub fn short(&self) -> String {
        match self.ci95 {
            Some((lo, hi)) => format!("{:.2} req/s (95 % CI {lo:.2}–{hi:.2})", self.rps),
            None => format!("{:.2} req/s", self.rps),
        }
    }
}

/// The capacity per replica the oracle baseline plans with (`oracle_planning_capacity` in
/// `summary.json`), beside the replica capacity it started from.
#[derive(Debug, Clone, PartialEq)]
pub struct OracleCapacity {
    /// Requests per second per replica.
    pub rps: f64,
    /// How it was found (the search, or `given`).
    pub method: String,
}

/// Everything but the results.
#[derive(Debug, Clone)]
pub struct ReportMeta {
    /// Scenario name.
    pub name: String,
    /// The scenario's clock.
    pub clock: Clock,
    /// Simulated duration, seconds.
    pub duration_s: f64,
    /// Recording interval, seconds.
    pub record_interval_s: f64,
    /// Warm-up excluded from summary figures, seconds (0 for none).
    pub warmup_s: f64,
    /// The SLO, if any.
    pub slo: Option<Slo>,
    /// Currency label.
    pub currency: String,
    /// Price of one replica-hour.
    pub cost_per_replica_hour: f64,
    /// Policies in scenario order.
    pub policies: Vec<PolicyMeta>,
    /// Where the scenario came from.
    pub provenance: Provenance,
    /// One replica's capacity, when known.
    pub capacity: Option<ReplicaCapacity>,
    /// The capacity the oracle baseline plans with, when there is one.
    pub oracle_capacity: Option<OracleCapacity>,
    /// The runs kept one row per request: requests.csv is written.
    pub requests: bool,
    /// The service is an LLM replica: the LLM figures and the `too_long` failures are reported.
    pub llm: bool,
}

impl ReportMeta {
    /// The report's view of `scenario` (no provenance, no capacity).
    pub fn from_scenario(scenario: &Scenario) -> ReportMeta {
        ReportMeta {
            name: scenario.name.clone(),
            clock: scenario.clock.clone(),
            duration_s: to_secs_f64(scenario.duration),
            record_interval_s: to_secs_f64(scenario.record_interval),
            warmup_s: to_secs_f64(scenario.warmup),
            slo: scenario.slo.clone(),
            currency: scenario.cost.currency.clone(),
            cost_per_replica_hour: scenario.cost.per_replica_hour,
            policies: scenario
                .policies
                .iter()
                .map(|p| PolicyMeta {
                    name: p.name.clone(),
                    family: p.family().to_string(),
                    min: p.min,
                    max: p.max,
                })
                .collect(),
            provenance: Provenance::default(),
            capacity: None,
            oracle_capacity: scenario.oracle().and_then(|o| match &o.kind {
                crate::policy::PolicyKind::Oracle(spec) => {
                    Some(OracleCapacity { rps: spec.capacity_rps, method: spec.capacity_source.clone() })
                }
                _ => None,
            }),
            requests: false,
            llm: scenario.service.llm.is_some(),
        }
    }

    /// The policy called `name`, if the scenario has it.
    pub fn policy(&self, name: &str) -> Option<&PolicyMeta> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// A short text of the overrides for titles: `traffic.scale=2, policy.x.max=9`.
    pub fn overrides_text(&self) -> Option<String> {
        let o = &self.provenance.overrides;
        (!o.is_empty()).then(|| o.join(", "))
    }

    /// Reads the meta back from a `summary.json` document.
    pub fn from_summary(v: &Value) -> Result<ReportMeta, String> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let f = |k: &str| v.get(k).and_then(Value::as_f64);
        let name = s("scenario").ok_or("the key `scenario` is missing")?;
        let start = s("start").ok_or("the key `start` is missing")?;
        let start = chrono::DateTime::parse_from_rfc3339(&start).map_err(|e| format!("`start`: {e}"))?;
        let tz: chrono_tz::Tz = s("time_zone")
            .ok_or("the key `time_zone` is missing")?
            .parse()
            .map_err(|e| format!("`time_zone`: {e}"))?;
        let duration_s = f("duration_s").ok_or("the key `duration_s` is missing")?;
        let clock = Clock::new(start.naive_local(), tz, from_secs_f64(duration_s));
        let slo = v.get("slo").filter(|x| !x.is_null()).map(|x| Slo {
            latency: match (
                x.get("latency_percentile").and_then(Value::as_f64),
                x.get("latency_bound_s").and_then(Value::as_f64),
            ) {
                (Some(p), Some(b)) => Some((p, b)),
                _ => None,
            },
            error_rate: x.get("error_rate").and_then(Value::as_f64),
        });
        let policies = v
            .get("policies")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|p| PolicyMeta {
                        name: p.get("policy").and_then(Value::as_str).unwrap_or("?").to_string(),
                        family: p.get("family").and_then(Value::as_str).unwrap_or("?").to_string(),
                        min: p.get("min_replicas").and_then(Value::as_u64).unwrap_or(0) as u32,
                        max: p.get("max_replicas").and_then(Value::as_u64).unwrap_or(0) as u32,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let sc = v.get("scenario_source");
        let provenance = Provenance {
            path: sc.and_then(|x| x.get("path")).and_then(Value::as_str).map(str::to_string),
            sha256: sc.and_then(|x| x.get("sha256")).and_then(Value::as_str).map(str::to_string),
            overrides: sc
                .and_then(|x| x.get("overrides"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default(),
            text: None,
        };
        let capacity = v.get("replica_capacity").filter(|x| !x.is_null()).and_then(|x| {
            Some(ReplicaCapacity {
                rps: x.get("rps")?.as_f64()?,
                method: x.get("method").and_then(Value::as_str).unwrap_or("").to_string(),
                sd: x.get("sd").and_then(Value::as_f64),
                ci95: x
                    .get("ci95")
                    .and_then(Value::as_array)
                    .and_then(|a| Some((a.first()?.as_f64()?, a.get(1)?.as_f64()?))),
                seeds: x
                    .get("seeds")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default(),
            })
        });
        let oracle_capacity = v.get("oracle_planning_capacity").filter(|x| !x.is_null()).and_then(|x| {
            Some(OracleCapacity {
                rps: x.get("rps")?.as_f64()?,
                method: x.get("method").and_then(Value::as_str).unwrap_or("").to_string(),
            })
        });
        Ok(ReportMeta {
            name,
            clock,
            duration_s,
            record_interval_s: f("record_interval_s").unwrap_or(60.0),
            warmup_s: f("warmup_s").unwrap_or(0.0),
            slo,
            currency: s("currency").unwrap_or_default(),
            cost_per_replica_hour: f("cost_per_replica_hour").unwrap_or(0.0),
            policies,
            provenance,
            capacity,
            oracle_capacity,
            requests: false,
            llm: v
                .get("policies")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|p| p.get("llm").is_some())),
        })
    }
}

/// The default output folder name: the scenario name, then `+key=value` per override
/// (characters that are awkward in file names replaced by `_`, the whole capped at 120
/// characters with a hash of the rest): `quickstart+traffic.scale=2`.
pub fn output_slug(name: &str, overrides: &[String]) -> String {
    let clean = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || "._-=,".contains(c) { c } else { '_' }).collect()
    };
    let mut out = clean(name);
    for o in overrides {
        out.push('+');
        out.push_str(&clean(o.trim()));
    }
    if out.chars().count() > 120 {
        let h = super::sha256::hex(out.as_bytes());
        out = format!("{}~{}", out.chars().take(100).collect::<String>(), &h[..12]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_name_the_overrides() {
        assert_eq!(output_slug("quickstart", &[]), "quickstart");
        assert_eq!(output_slug("quickstart", &["traffic.scale=2".into()]), "quickstart+traffic.scale=2");
        assert_eq!(output_slug("q", &["service.timeout=\"1 s\"".into()]), "q+service.timeout=_1_s_");
        let long: Vec<String> = (0..30).map(|i| format!("policy.p{i}.max={i}")).collect();
        let s = output_slug("q", &long);
        assert!(s.chars().count() <= 120, "{s}");
        assert_ne!(s, output_slug("q", &long[..29]));
    }
}
