//! Steady state at time 0 (`simulation.initial = "steady"`, the default): what a policy would
//! see had the traffic's rate at time 0 been running for a long time with its replicas ready.
//!
//! [`SteadyState`] is that noiseless observation: the expected rate λ at time 0 (the traffic's
//! nominal shape, or a trace's expected count over its first minute) and what the service model
//! implies for `n` ready replicas sharing it round-robin: requests in flight by Little's law
//! (λ × mean latency, the latency with M/M/c queueing at each replica), CPU utilisation
//! (idle + per-request + busy-worker cores over the request). Each policy family answers with its
//! own decision on it ([`Policy::start_steady`](super::Policy::start_steady)) and pre-fills its
//! windows with it; the engine pre-fills the 1 s metric history the same way
//! ([`crate::metrics::Prior`]).
//!
//! For metrics that depend on the replica count (CPU, concurrency) the steady count is a fixed
//! point: starting from `min`, the count is replaced by the policy's decision on the steady
//! observation at that count until it no longer changes ([`SteadyState::settle`]) — the count
//! the controller settles at when replicas start instantly. For a count-independent metric
//! (rps) that is one step: `ceil(λ / target)` (or `min` when that is within the tolerance).

use crate::metrics::Prior;
use crate::scenario::Scenario;
use crate::service::{CpuModel, MemoryModel};
use crate::time::SECOND;

/// The noiseless observation a policy starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct SteadyState {
    /// Expected offered requests per second at time 0.
    pub rate: f64,
    /// Mean service time of a request, seconds (mean demand × the slowdown of one busy worker).
    pub service_time: f64,
    /// Workers per replica.
    pub workers: u32,
    /// The replicas' CPU model.
    pub cpu: CpuModel,
    /// The replicas' memory model.
    pub memory: MemoryModel,
}

impl SteadyState {
    /// The steady state of `sc` at its time 0: the rate its traffic is expected to have there
    /// (the shape's rate without noise; for a trace, its expected arrivals in the first minute).
    pub fn of(sc: &Scenario) -> SteadyState {
        let rate = sc.traffic.rate_at(&sc.clock, 0).unwrap_or_else(|| {
            let w = (60 * SECOND).min(sc.duration.max(1));
            sc.traffic.expected_between(&sc.clock, 0, w) / crate::time::to_secs_f64(w)
        });
        let svc = &sc.service;
        let slow = svc.slowdown.as_ref().map_or(1.0, |c| c.at(1.0).max(0.0));
        SteadyState {
            rate: if rate.is_finite() { rate.max(0.0) } else { 0.0 },
            service_time: svc.demand.mean_without_sizes() * slow,
            workers: svc.workers.max(1),
            cpu: svc.cpu.clone(),
            memory: svc.memory.clone(),
        }
    }

    /// Mean latency at a replica (queue wait plus service) with `n` ready replicas sharing the
    /// rate: M/M/c with c = workers per replica (Erlang C); infinite when saturated.
    pub fn latency(&self, n: u32) -> f64 {
        if n == 0 {
            return f64::INFINITY;
        }
        let s = self.service_time;
        if s <= 0.0 || self.rate <= 0.0 {
            return s.max(0.0);
        }
        let c = self.workers as f64;
        let a = self.rate / n as f64 * s; // offered load per replica, in busy workers
        if a >= c {
            return f64::INFINITY;
        }
        s + erlang_c(self.workers, a) * s / (c - a)
    }

    /// The fewest replicas that are not saturated at this rate (at least 1).
    pub fn unsaturated(&self) -> u32 {
        let load = self.rate * self.service_time / self.workers as f64;
        if load.is_finite() { (load.floor() + 1.0).min(u32::MAX as f64) as u32 } else { u32::MAX }
    }

    /// Mean requests in flight over all replicas (Little's law), with `n` ready.
    pub fn concurrency_total(&self, n: u32) -> f64 {
        if self.rate <= 0.0 { 0.0 } else { self.rate * self.latency(n) }
    }

    /// CPU cores one ready replica uses, with `n` ready.
    pub fn cpu_cores_per_replica(&self, n: u32) -> f64 {
        if n == 0 {
            return 0.0;
        }
        let per = self.rate / n as f64;
        let busy = (per * self.service_time).min(self.workers as f64);
        self.cpu.idle_cores + per * self.cpu.per_request_cpu_s + busy * self.cpu.busy_worker_cores
    }

    /// CPU utilisation (a fraction of the request) of each ready replica, with `n` ready.
    pub fn cpu_utilization(&self, n: u32) -> f64 {
        if self.cpu.request_cores > 0.0 {
            self.cpu_cores_per_replica(n) / self.cpu.request_cores
        } else {
            0.0
        }
    }

    /// The counters' rates with `n` replicas ready, to pre-fill the engine's metric history.
    pub fn prior(&self, n: u32) -> Prior {
        let conc = self.concurrency_total(n);
        Prior {
            rps: self.rate,
            in_flight: if conc.is_finite() { conc } else { 0.0 },
            cpu_cores: self.cpu_cores_per_replica(n) * n as f64,
            ready: n as f64,
        }
    }

    /// The fixed point of `decide` (the policy's decision at a count, clamped to [min, max]),
    /// starting from `min`: the count the controller settles at. A cycle (which a tolerance band
    /// cannot make, but a rule might) ends at the largest count of the cycle.
    pub fn settle(min: u32, max: u32, mut decide: impl FnMut(u32) -> u32) -> u32 {
        let mut n = min;
        let mut seen = vec![n];
        for _ in 0..256 {
            let next = decide(n).clamp(min, max);
            if next == n {
                return n;
            }
            if let Some(i) = seen.iter().position(|&s| s == next) {
                return seen[i..].iter().copied().max().unwrap_or(next);
            }
            seen.push(next);
            n = next;
        }
        n
    }
}

/// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load `a`
/// (< c) busy servers.
fn erlang_c(c: u32, a: f64) -> f64 {
    // Erlang B by its stable recursion, then C from B.
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let rho = a / c as f64;
    b / (1.0 - rho + rho * b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steady(rate: f64) -> SteadyState {
        SteadyState {
            rate,
            service_time: 0.1,
            workers: 1,
            cpu: CpuModel::default(),
            memory: MemoryModel::default(),
        }
    }

    #[test]
    fn erlang_c_matches_mm1() {
        // M/M/1: P(wait) = ρ.
        assert!((erlang_c(1, 0.6) - 0.6).abs() < 1e-12);
        // M/M/2 with a = 1: C = 1/3.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn littles_law_with_queueing() {
        // 5 req/s on one replica of one worker, 0.1 s: ρ = 0.5, W = 0.1/(1−0.5) = 0.2 s, L = 1.
        let s = steady(5.0);
        assert!((s.latency(1) - 0.2).abs() < 1e-12);
        assert!((s.concurrency_total(1) - 1.0).abs() < 1e-12);
        assert!(s.latency(0).is_infinite());
        assert!(steady(20.0).latency(1).is_infinite(), "saturated");
    }

    #[test]
    fn cpu_spreads_over_replicas() {
        // 8 req/s × 0.1 s over 2 replicas: 0.4 busy workers each × 0.25 + 0.05 idle = 0.15 cores.
        let s = steady(8.0);
        assert!((s.cpu_cores_per_replica(2) - 0.15).abs() < 1e-12);
        assert!((s.cpu_utilization(2) - 0.15).abs() < 1e-12);
        let p = s.prior(2);
        assert!((p.cpu_cores - 0.3).abs() < 1e-12 && p.ready == 2.0 && p.rps == 8.0);
    }

    #[test]
    fn settle_finds_the_fixed_point_from_min() {
        // ceil(73 / 10) with a 10 % band around the current count.
        let rps = |n: u32| {
            let ratio = 73.0 / (10.0 * n as f64);
            if (ratio - 1.0_f64).abs() <= 0.1 { n } else { (73.0_f64 / 10.0).ceil() as u32 }
        };
        assert_eq!(SteadyState::settle(3, 20, rps), 8);
        assert_eq!(SteadyState::settle(10, 20, rps), 10, "clamped to min");
        assert_eq!(SteadyState::settle(1, 5, rps), 5, "clamped to max");
        // A rule that alternates ends at the larger count of its cycle.
        assert_eq!(SteadyState::settle(1, 9, |n| if n == 4 { 6 } else { 4 }), 6);
    }

    /// The count a policy of `kind` bounded by [min, max] starts with at `steady`, through the
    /// same trait call the engine makes.
    fn start(kind: crate::policy::PolicyKind, min: u32, max: u32, steady: &SteadyState) -> Option<u32> {
        use crate::policy::{PolicySpec, RunContext, Start};
        use crate::time::Clock;
        use crate::traffic::{Process, Shape, TrafficSpec};
        let p = PolicySpec {
            name: "p".into(),
            min,
            max,
            initial: min,
            start: Start::Steady,
            kind,
            activator: None,
        };
        let clock = Clock::utc_monday(3600 * SECOND);
        let traffic = TrafficSpec::from_shape(Shape::Constant(steady.rate), Process::Poisson, None);
        let demand =
            crate::service::Demand::Dist(crate::dist::Dist::Deterministic { value: steady.service_time });
        let run =
            RunContext { clock: &clock, horizon: 3600 * SECOND, seed: 1, traffic: &traffic, demand: &demand };
        p.build(&run).start_steady(steady, min, max).map(|n| n.clamp(min, max))
    }

    fn basic(rule: crate::policy::MetricRule) -> crate::policy::PolicyKind {
        crate::policy::PolicyKind::Basic(crate::policy::BasicSpec {
            interval: 30 * SECOND,
            metrics: vec![rule],
            schedules: vec![],
            down_stabilization: 0,
            up_stabilization: 0,
        })
    }

    fn hpa(yaml_metrics: &str, min: u32, max: u32) -> crate::policy::PolicyKind {
        let text = format!(
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  minReplicas: {min}\n  maxReplicas: {max}\n  metrics:\n{yaml_metrics}"
        );
        let m = crate::policy::hpa::parse_manifest(&text, "test").unwrap();
        crate::policy::PolicyKind::Hpa(crate::policy::hpa::HpaPolicySpec::from_manifest(&m).unwrap())
    }

    const RPS_PODS: &str = "    - type: Pods\n      pods:\n        metric:\n          name: requests_per_second\n        target:\n          type: AverageValue\n          averageValue: \"10\"\n";
    const CPU_60: &str = "    - type: Resource\n      resource:\n        name: cpu\n        target:\n          type: Utilization\n          averageUtilization: 60\n";

    #[test]
    fn rps_policy_starts_at_ceil_of_rate_over_target() {
        let rule = crate::policy::MetricRule::Rps { target: 10.0, tolerance: 0.1, window: 60 * SECOND };
        // 73 / 10 → 8 from min 3 (8 is then within tolerance: 73 / 80 = 0.91).
        assert_eq!(start(basic(rule.clone()), 3, 20, &steady(73.0)), Some(8));
        assert_eq!(start(basic(rule.clone()), 10, 20, &steady(73.0)), Some(10), "never below min");
        assert_eq!(start(basic(rule), 1, 5, &steady(73.0)), Some(5), "never above max");
    }

    #[test]
    fn hpa_starts_at_its_own_decision() {
        // Pods metric: 73 req/s over pods at 10 each → 8 from minReplicas 3.
        assert_eq!(start(hpa(RPS_PODS, 3, 30), 3, 30, &steady(73.0)), Some(8));
    }

    #[test]
    fn cpu_and_concurrency_start_at_a_fixed_point() {
        // 73 req/s × 0.1 s = 7.3 busy workers × 0.25 cores, plus 0.05 idle per replica:
        // utilisation(n) = (1.825 + 0.05 n) / n: the count it settles at keeps itself and is the
        // smallest that does.
        let s = steady(73.0);
        let target = 0.6;
        let rule = crate::policy::MetricRule::Cpu { target, tolerance: 0.1, window: 60 * SECOND };
        let n = start(basic(rule), 1, 50, &s).unwrap();
        let decide = |k: u32| {
            let ratio = s.cpu_utilization(k) / target;
            if (ratio - 1.0).abs() <= 0.1 { k } else { (k as f64 * ratio).ceil() as u32 }
        };
        assert_eq!(decide(n), n, "a fixed point: at {n} replicas the rule keeps {n}");
        assert!((1..n).all(|k| decide(k) != k), "and the smallest");
        // The HPA on CPU settles at the same count (its tolerance, same arithmetic in millicores).
        assert_eq!(start(hpa(CPU_60, 1, 50), 1, 50, &s), Some(n));
        // Concurrency: in flight = λ × latency(n) (queueing shrinks as n grows), target 1 per replica.
        let rule =
            crate::policy::MetricRule::Concurrency { target: 1.0, tolerance: 0.1, window: 60 * SECOND };
        let n = start(basic(rule), 1, 50, &s).unwrap();
        let c = s.concurrency_total(n);
        assert!((c / n as f64 - 1.0).abs() <= 0.1 || n as f64 >= c.ceil(), "{n} replicas for {c} in flight");
        assert!(c.is_finite() && n >= 8, "at least the unsaturated count: {n}");
    }

    #[test]
    fn knative_and_aws_start_at_their_targets() {
        use crate::policy::aws::{AlarmShape, AwsMetric, AwsPolicySpec, TargetTracking};
        use crate::policy::knative::{KnativePolicySpec, KpaMetric};
        let s = steady(73.0);
        let kpa = KnativePolicySpec {
            metric: KpaMetric::Rps,
            target: Some(10.0),
            target_utilization: 1.0,
            min_scale: 1,
            max_scale: 30,
            ..Default::default()
        };
        assert_eq!(start(crate::policy::PolicyKind::Knative(kpa), 1, 30, &s), Some(8), "ceil(73 / 10)");
        let tt = TargetTracking {
            name: "alb".into(),
            metric: AwsMetric::AlbRequestCountPerTarget,
            target: 600.0,
            disable_scale_in: false,
            scale_out_cooldown: 300 * SECOND,
            scale_in_cooldown: 300 * SECOND,
            alarm: AlarmShape::default(),
        };
        let aws = AwsPolicySpec {
            min: 3,
            max: 20,
            desired: 3,
            instance_warmup: None,
            target_tracking: vec![tt],
            step_scaling: vec![],
            scheduled: vec![],
            scheduled_delay: 0,
        };
        // 73 req/s = 4380 per minute, 600 per target → ceil(7.3) = 8.
        assert_eq!(start(crate::policy::PolicyKind::Aws(aws), 3, 20, &s), Some(8));
    }

    #[test]
    fn fixed_and_oracle_keep_their_own_count() {
        assert_eq!(start(crate::policy::PolicyKind::Fixed, 4, 4, &steady(73.0)), None);
    }
}
