//! The `[service]` section — workers, queue, timeouts, the load balancer, CPU and memory — and
//! the distribution tables it is made of (`demand`, `startup`, `pending`, `overhead`), checked
//! and built into a [`ServiceModel`]; `[service.llm]` (an LLM replica) in [`llm`].

mod llm;

use super::error::{KeyError, suggest};
use super::raw::{DistName, RawBalancer, RawCpu, RawDist, RawMemory, RawService};
use super::shared::{pos, positive};
use super::source::KeyPath;
use super::values::{Bytes, Dur};
use crate::balancer::BalancerKind;
use crate::dist::Dist;
use crate::service::{CpuModel, Curve, Demand, MemoryModel, ServiceModel};
use crate::time::SECOND;
use crate::traffic::MAX_SIZES;

type R<T> = Result<T, KeyError>;

fn err<T>(path: KeyPath, message: impl Into<String>) -> R<T> {
    Err(KeyError::new(path, message))
}

/// The largest log-normal sigma accepted: above it the sampled mean needs more than ~10⁷ draws
/// to come within 10 % of the declared mean. Above [`WARN_SIGMA`] a warning says so.
pub const MAX_SIGMA: f64 = 4.0;
/// Above this log-normal sigma, validation warns that the mean converges slowly.
pub const WARN_SIGMA: f64 = 2.5;

/// The `[service]` section: the replica model and the load balancer; `sizes` are the traffic's
/// size columns and `max_sizes` their largest values (for a `linear` demand).
pub(super) fn build_service(
    raw: RawService,
    sizes: &[String],
    max_sizes: &[f64; MAX_SIZES],
) -> R<(ServiceModel, BalancerKind)> {
    let p = KeyPath::root().key("service");
    let llm = match raw.llm {
        Some(l) => {
            // An LLM replica has no workers, demand or slowdown: its step loop replaces them.
            for (key, given) in [
                ("workers", raw.workers.is_some()),
                ("demand", raw.demand.is_some()),
                ("slowdown", raw.slowdown.is_some()),
            ] {
                if given {
                    return err(
                        p.key(key),
                        "does not apply to an LLM replica ([service.llm]): its batch step loop and \
                         [service.llm.step] decide how requests are served; remove it",
                    );
                }
            }
            if sizes.len() < 2 {
                return err(
                    p.key("llm"),
                    "needs each request's prompt and output tokens: a trace with two size columns \
                     (`format = \"azure_llm\"`, or `requests_csv` with `size_columns = [prompt, output]`)",
                );
            }
            Some(llm::build_llm(&p.key("llm"), l)?)
        }
        None => None,
    };
    let workers = match (raw.workers, &llm) {
        (_, Some(_)) => 1,
        (Some(0), None) => return err(p.key("workers"), "found 0, expected at least 1 worker per replica"),
        (Some(w), None) => w,
        (None, None) => {
            return err(
                p.key("workers"),
                "missing required key, expected integer (the requests one replica serves at once), or an \
                 LLM replica ([service.llm])",
            );
        }
    };
    let timeout = match raw.timeout {
        Some(d) => Some(positive(p.key("timeout"), d)?),
        None => None,
    };
    let grace = raw.termination_grace.map_or(30 * SECOND, Dur::time);
    let balancer = match raw.load_balancer {
        None | Some(RawBalancer::RoundRobin) => BalancerKind::RoundRobin,
        Some(RawBalancer::Random) => BalancerKind::Random,
        Some(RawBalancer::LeastOutstanding) => BalancerKind::LeastOutstanding,
        Some(RawBalancer::PowerOfTwo) => BalancerKind::PowerOfTwo,
    };
    let demand = match (&raw.demand, &llm) {
        (Some(d), _) => build_demand(&p.key("demand"), d, sizes, max_sizes)?,
        (None, Some(_)) => Demand::Dist(Dist::Deterministic { value: 0.0 }),
        (None, None) => {
            return err(
                p.key("demand"),
                "missing required table, expected the work per request (e.g. `[service.demand]` with \
                 `distribution = \"exponential\"` and `mean = \"100ms\"`)",
            );
        }
    };
    let slowdown = match raw.slowdown {
        Some(s) => Some(build_curve(&p.key("slowdown").key("points"), s.points)?),
        None => None,
    };
    let startup = match raw.startup {
        Some(d) => build_dist(&p.key("startup"), &d.into())?,
        None => Dist::Deterministic { value: 30.0 },
    };
    let pending = match raw.pending {
        Some(d) => Some(build_dist(&p.key("pending"), &d.into())?),
        None => None,
    };
    let overhead = match raw.overhead {
        Some(d) => Some(build_dist(&p.key("overhead"), &d.into())?),
        None => None,
    };
    let cpu = match raw.cpu {
        Some(c) => build_cpu(&p.key("cpu"), c, llm.is_some())?,
        None if llm.is_some() => CpuModel { busy_worker_cores: 1.0, ..CpuModel::default() },
        None => CpuModel::default(),
    };
    let memory = match raw.memory {
        Some(m) => build_memory(&p.key("memory"), m)?,
        None => MemoryModel::default(),
    };
    let service = ServiceModel {
        workers,
        queue_limit: raw.queue_limit,
        timeout,
        demand,
        slowdown,
        overhead,
        startup,
        pending,
        grace,
        cpu,
        memory,
        llm,
    };
    Ok((service, balancer))
}

fn build_curve(path: &KeyPath, points: Vec<(f64, f64)>) -> R<Curve> {
    if points.is_empty() {
        return err(path.clone(), "is empty, expected at least one [in_flight, factor] point");
    }
    for (i, &(x, y)) in points.iter().enumerate() {
        if !(x.is_finite() && x >= 0.0) {
            return err(path.index(i), format!("found in_flight {x}, expected a non-negative number"));
        }
        if !(y.is_finite() && y > 0.0) {
            return err(path.index(i), format!("found factor {y}, expected a positive number"));
        }
        if i > 0 && x <= points[i - 1].0 {
            return err(path.index(i), format!("in_flight {x} does not increase on the previous point"));
        }
    }
    Curve::new(points).ok_or_else(|| KeyError::new(path.clone(), "invalid curve"))
}

/// `[service.cpu]`; an LLM replica (`llm`) uses `engine` cores while a step runs instead of
/// cores per busy worker and a cost per request.
fn build_cpu(path: &KeyPath, c: RawCpu, llm: bool) -> R<CpuModel> {
    let d = CpuModel::default();
    let not_for = |k: &str, given: bool, llm_key: bool| -> R<()> {
        match (given, llm, llm_key) {
            (true, true, false) => err(
                path.key(k),
                "does not apply to an LLM replica, which uses `idle` cores plus `engine` cores while a batch step runs",
            ),
            (true, false, true) => {
                err(path.key(k), "applies only to an LLM replica ([service.llm]); use `per_busy_worker`")
            }
            _ => Ok(()),
        }
    };
    not_for("per_request", c.per_request.is_some(), false)?;
    not_for("per_busy_worker", c.per_busy_worker.is_some(), false)?;
    not_for("engine", c.engine.is_some(), true)?;
    let non_neg = |k: &str, v: f64| -> R<f64> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            err(path.key(k), format!("found {v}, expected a non-negative number"))
        }
    };
    let request = c.request.unwrap_or(d.request_cores);
    if !(request.is_finite() && request > 0.0) {
        return err(path.key("request"), format!("found {request}, expected a positive number of cores"));
    }
    Ok(CpuModel {
        request_cores: request,
        idle_cores: non_neg("idle", c.idle.unwrap_or(d.idle_cores))?,
        per_request_cpu_s: c.per_request.map_or(d.per_request_cpu_s, |s| s.0),
        busy_worker_cores: if llm {
            non_neg("engine", c.engine.unwrap_or(1.0))?
        } else {
            non_neg("per_busy_worker", c.per_busy_worker.unwrap_or(d.busy_worker_cores))?
        },
    })
}

fn build_memory(path: &KeyPath, m: RawMemory) -> R<MemoryModel> {
    let d = MemoryModel::default();
    let bytes = |k: &str, v: Option<Bytes>, default: f64, positive: bool| -> R<f64> {
        let x = v.map_or(default, |b| b.0);
        if !x.is_finite() || x < 0.0 || (positive && x == 0.0) {
            return err(
                path.key(k),
                format!(
                    "found {x} bytes, expected a {} size",
                    if positive { "positive" } else { "non-negative" }
                ),
            );
        }
        Ok(x)
    };
    Ok(MemoryModel {
        request_bytes: bytes("request", m.request, d.request_bytes, true)?,
        base_bytes: bytes("base", m.base, d.base_bytes, false)?,
        per_in_flight_bytes: bytes("per_in_flight", m.per_in_flight, d.per_in_flight_bytes, false)?,
    })
}

/// The keys each distribution takes.
pub fn dist_keys(d: DistName) -> &'static [&'static str] {
    match d {
        DistName::Exponential => &["mean"],
        DistName::Deterministic => &["value"],
        DistName::Lognormal => &["mean", "p99", "sigma"],
        DistName::Gamma => &["mean", "cv", "shape", "scale"],
        DistName::Uniform => &["min", "max"],
        DistName::Empirical => &["samples"],
        DistName::Linear => &["base", "per", "noise"],
    }
}

const ALL_DISTS: &str =
    "`exponential`, `deterministic`, `lognormal`, `gamma`, `uniform`, `empirical`, `linear`";

fn present(raw: &RawDist) -> Vec<&'static str> {
    let mut v = Vec::new();
    let mut add = |k: &'static str, on: bool| {
        if on {
            v.push(k)
        }
    };
    add("mean", raw.mean.is_some());
    add("value", raw.value.is_some());
    add("p99", raw.p99.is_some());
    add("sigma", raw.sigma.is_some());
    add("cv", raw.cv.is_some());
    add("shape", raw.shape.is_some());
    add("scale", raw.scale.is_some());
    add("min", raw.min.is_some());
    add("max", raw.max.is_some());
    add("samples", raw.samples.is_some());
    add("base", raw.base.is_some());
    add("per", raw.per.is_some());
    add("noise", raw.noise.is_some());
    v
}

fn dist_name(path: &KeyPath, raw: &RawDist) -> R<DistName> {
    let name = raw.distribution.ok_or_else(|| {
        KeyError::new(path.key("distribution"), format!("missing required key, expected one of {ALL_DISTS}"))
    })?;
    let allowed = dist_keys(name);
    if let Some(k) = present(raw).into_iter().find(|k| !allowed.contains(k)) {
        return err(
            path.key(k),
            format!(
                "is not used by distribution `{}` (it takes {})",
                name.name(),
                allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
    Ok(name)
}

fn need<T: Copy>(path: &KeyPath, name: DistName, key: &str, v: Option<T>) -> R<T> {
    v.ok_or_else(|| {
        KeyError::new(path.key(key), format!("missing required key for distribution `{}`", name.name()))
    })
}

/// Builds a distribution (not `linear`) from its table. Its mean must be a time the simulation
/// can represent (at most [`crate::time::MAX_VALUE_SECS`]).
pub fn build_dist(path: &KeyPath, raw: &RawDist) -> R<Dist> {
    let d = build_dist_unchecked(path, raw)?;
    let mean = d.mean();
    if !(mean.is_finite() && mean <= crate::time::MAX_VALUE_SECS) {
        return err(
            path.key("distribution"),
            format!(
                "has mean {} s, more than the longest supported time ({} s, 3660 days)",
                crate::time::fmt_big(mean),
                crate::time::MAX_VALUE_SECS
            ),
        );
    }
    Ok(d)
}

fn build_dist_unchecked(path: &KeyPath, raw: &RawDist) -> R<Dist> {
    let name = dist_name(path, raw)?;
    let secs = |k: &str, v: Option<super::values::Seconds>| need(path, name, k, v.map(|s| s.0));
    match name {
        DistName::Exponential => Ok(Dist::exponential(pos(path.key("mean"), secs("mean", raw.mean)?)?)),
        DistName::Deterministic => Ok(Dist::Deterministic { value: secs("value", raw.value)? }),
        DistName::Lognormal => {
            let mean = pos(path.key("mean"), secs("mean", raw.mean)?)?;
            match (raw.p99, raw.sigma) {
                (Some(p99), None) => Dist::lognormal_mean_p99(mean, p99.0).ok_or_else(|| {
                    KeyError::new(
                        path.key("p99"),
                        format!(
                            "no log-normal has mean {mean}s and p99 {}s: p99 must exceed the mean and be at most {:.3}s",
                            p99.0,
                            mean * (crate::dist::Z99 * crate::dist::Z99 / 2.0).exp()
                        ),
                    )
                }),
                (None, Some(sigma)) => {
                    let sigma = pos(path.key("sigma"), sigma)?;
                    if sigma > MAX_SIGMA {
                        return err(
                            path.key("sigma"),
                            format!(
                                "found {sigma}, expected at most {MAX_SIGMA}: with a larger sigma almost every \
                                 draw is far below the mean {mean}s and the sampled mean does not approach it \
                                 in any feasible run (give `p99` instead to describe a heavy tail)"
                            ),
                        );
                    }
                    Ok(Dist::lognormal_mean_sigma(mean, sigma))
                }
                (Some(_), Some(_)) => err(path.key("sigma"), "give `p99` or `sigma`, not both"),
                (None, None) => err(path.key("p99"), "missing required key for distribution `lognormal`: give `p99` or `sigma`"),
            }
        }
        DistName::Gamma => {
            let mean = raw.mean.map(|m| pos(path.key("mean"), m.0)).transpose()?;
            let cv = raw.cv.map(|v| pos(path.key("cv"), v)).transpose()?;
            let shape = raw.shape.map(|v| pos(path.key("shape"), v)).transpose()?;
            let scale = raw.scale.map(|v| pos(path.key("scale"), v.0)).transpose()?;
            let (k, theta) = match (mean, cv, shape, scale) {
                (Some(m), Some(cv), None, None) => (1.0 / (cv * cv), m * cv * cv),
                (Some(m), None, Some(k), None) => (k, m / k),
                (Some(m), None, None, Some(t)) => (m / t, t),
                (None, None, Some(k), Some(t)) => (k, t),
                _ => {
                    return err(
                        path.key("distribution"),
                        "gamma needs `mean` with one of `cv`, `shape` or `scale`, or `shape` with `scale`",
                    );
                }
            };
            Dist::gamma(k, theta).ok_or_else(|| KeyError::new(path.clone(), "invalid gamma parameters"))
        }
        DistName::Uniform => {
            let (lo, hi) = (secs("min", raw.min)?, secs("max", raw.max)?);
            if lo > hi {
                return err(path.key("min"), format!("min ({lo}s) is greater than max ({hi}s)"));
            }
            Ok(Dist::Uniform { low: lo, high: hi })
        }
        DistName::Empirical => {
            let samples: Vec<f64> =
                raw.samples.as_ref().map(|v| v.iter().map(|s| s.0).collect()).unwrap_or_default();
            if samples.is_empty() {
                return err(path.key("samples"), "missing or empty, expected at least one observed value");
            }
            Ok(Dist::Empirical { samples })
        }
        DistName::Linear => err(
            path.key("distribution"),
            "`linear` depends on per-request sizes and is only valid for service.demand",
        ),
    }
}

fn build_demand(path: &KeyPath, raw: &RawDist, sizes: &[String], max_sizes: &[f64; MAX_SIZES]) -> R<Demand> {
    let name = dist_name(path, raw)?;
    if name != DistName::Linear {
        return build_dist(path, raw).map(Demand::Dist);
    }
    if sizes.is_empty() {
        return err(
            path.key("distribution"),
            "`linear` needs per-request sizes, but the traffic has no size columns; use another distribution",
        );
    }
    let base = raw.base.map_or(0.0, |s| s.0);
    let mut coef = [0.0; MAX_SIZES];
    let per = raw.per.as_ref().filter(|p| !p.is_empty()).ok_or_else(|| {
        KeyError::new(
            path.key("per"),
            format!(
                "missing required key for distribution `linear`: seconds per unit of a size column ({})",
                sizes.join(", ")
            ),
        )
    })?;
    for (col, secs) in per {
        let Some(i) = sizes.iter().position(|s| s == col).filter(|&i| i < MAX_SIZES) else {
            let mut m =
                format!("unknown size column `{col}` (the traffic's size columns: {})", sizes.join(", "));
            if let Some(s) = suggest(col, sizes.iter().map(String::as_str)) {
                m = format!(
                    "unknown size column `{col}`; did you mean `{s}`? (the traffic's size columns: {})",
                    sizes.join(", ")
                );
            }
            return err(path.key("per").key(col), m);
        };
        coef[i] = secs.0;
    }
    // The largest demand any request of the trace gets must be a representable time.
    let worst = base + coef.iter().zip(max_sizes).map(|(c, m)| c * m).sum::<f64>();
    if !(worst.is_finite() && worst <= crate::time::MAX_VALUE_SECS) {
        let (col, _) = per
            .iter()
            .filter_map(|(c, s)| sizes.iter().position(|x| x == c).map(|i| (c, s.0 * max_sizes[i])))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((&sizes[0], 0.0));
        let i = sizes.iter().position(|x| x == col).unwrap_or(0);
        return err(
            path.key("per").key(col),
            format!(
                "gives a request of the trace (size {} = {}) a demand of {} s, more than the longest \
                 supported time ({} s, 3660 days); check the size column's unit",
                col,
                crate::time::fmt_big(max_sizes[i]),
                crate::time::fmt_big(worst),
                crate::time::MAX_VALUE_SECS
            ),
        );
    }
    let noise = match raw.noise {
        Some(cv) => {
            let cv = pos(path.key("noise"), cv)?;
            Some(
                Dist::gamma(1.0 / (cv * cv), cv * cv)
                    .ok_or_else(|| KeyError::new(path.key("noise"), "invalid noise"))?,
            )
        }
        None => None,
    };
    Ok(Demand::Linear { base, coef, noise })
}
