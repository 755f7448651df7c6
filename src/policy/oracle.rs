//! The oracle: a policy with perfect foresight of the arrivals, the cost yardstick other
//! policies are measured against.
//!
//! It is a policy like the others, not an engine mode. When it is built for a run it makes a
//! pre-pass over that run's own arrival stream (`traffic.source(seed, …)`: the same seed and
//! stream the engine will replay, so it sees exactly the arrivals the run will see) and turns it
//! into an [`OraclePlan`]; during the run it only follows the plan's schedule through the normal
//! [`Policy`] seam. What it assumes:
//!
//! * **Demand.** Time is cut into intervals of `interval` (30 s by default), each into
//!   sub-windows of `window` (10 s; a last sub-window shorter than half a window joins the one
//!   before). The load of an interval is its **peak sub-window rate**, in request equivalents
//!   per second: every arrival counts 1, or, when requests carry sizes (linear demand),
//!   its expected demand divided by `reference_demand_s` (the demand of the requests the
//!   capacity was measured with). The replicas an interval demands are
//!   `⌈peak rate / capacity_rps⌉`: each interval is sized on its own, with no queue carried over
//!   from the one before, and a demand of zero when nothing arrives.
//! * **Capacity.** `capacity_rps` is what one replica serves within the SLO (measured by
//!   `crate::oracle` with the step test of `crate::capacity`, or given). Several replicas are
//!   assumed to serve `n ×` that.
//! * **Foresight of startup.** Replicas for an interval are requested `lead` before it starts
//!   (an upper bound of the startup time by default) and released when it ends, so the replicas
//!   asked for at time t are the largest demand of the intervals that overlap `[t, t + lead]`,
//!   clamped to the policy's `[min, max]`.
//!
//! The pre-pass counts arrivals per sub-window of the current interval only (no list of arrival
//! times is kept): one interval's sub-window sums plus one demand per interval.

use super::{Decision, Observation, Policy, RunContext};
use crate::record::{DemandCurve, StepCurve};
use crate::service::Demand;
use crate::time::{Time, to_secs_f64};
use std::collections::VecDeque;

/// Default length of the oracle's demand intervals.
pub const DEFAULT_INTERVAL: Time = 30 * crate::time::SECOND;
/// Default sub-window over which an interval's peak rate is measured.
pub const DEFAULT_WINDOW: Time = 10 * crate::time::SECOND;

/// The checked settings of an oracle policy.
#[derive(Debug, Clone, PartialEq)]
pub struct OracleSpec {
    /// Length of one demand interval (the grid of the demand curve).
    pub interval: Time,
    /// Sub-window over which an interval's peak rate is measured (at most `interval`).
    pub window: Time,
    /// How long before an interval its replicas are requested.
    pub lead: Time,
    /// Requests per second one replica serves within the SLO (> 0).
    pub capacity_rps: f64,
    /// Demand (seconds) of the requests `capacity_rps` counts, used to weigh requests with
    /// per-request sizes; unused (every request counts 1) for demand drawn from a distribution.
    pub reference_demand_s: f64,
    /// Where `capacity_rps` comes from, for reports (e.g. `step test, p99 < 500 ms` or `given`).
    pub capacity_source: String,
    /// The pre-pass's peak rates, already computed for the run with this seed (the capacity
    /// search of [`crate::oracle::search_capacity`] runs one pre-pass for all its trials, whose
    /// arrivals are the same); `None` (every oracle a scenario builds) computes them.
    pub pre_pass: Option<PrePass>,
}

/// Peak rates of a pre-pass ([`OraclePlan::peak_rps`]) over the whole horizon of the run with
/// `seed`: they depend on the arrivals, the interval and the window, not on the capacity.
#[derive(Debug, Clone, PartialEq)]
pub struct PrePass {
    /// The run's seed.
    pub seed: u64,
    /// Peak rate of each interval of the horizon.
    pub peak_rps: std::sync::Arc<[f64]>,
}

/// What the pre-pass found for one run: the demand per interval and the replica schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct OraclePlan {
    /// Length of one interval (interval k covers `[k·interval, (k+1)·interval)`).
    pub interval: Time,
    /// Peak sub-window load of each interval, request equivalents per second.
    pub peak_rps: Vec<f64>,
    /// Replicas each interval demands, `⌈peak_rps / capacity⌉`, not clamped to the bounds.
    pub demand: Vec<u32>,
    /// Replicas to ask for over time (requested `lead` ahead, clamped to `[min, max]`).
    pub schedule: StepCurve,
}

/// ⌈x⌉, tolerant of rounding noise (30 / 10 is 3, not 4).
fn ceil_u32(x: f64) -> u32 {
    if x.is_finite() { (x - 1e-9).ceil().clamp(0.0, u32::MAX as f64) as u32 } else { u32::MAX }
}

impl OraclePlan {
    /// The pre-pass over the arrivals of `run` (its traffic, seed and horizon), for the
    /// intervals that start before `until` (the whole horizon with `Time::MAX`).
    pub fn compute(spec: &OracleSpec, min: u32, max: u32, run: &RunContext, until: Time) -> OraclePlan {
        let demand_model = run.demand;
        let horizon = run.horizon;
        let interval = spec.interval.max(1);
        let window = spec.window.clamp(1, interval);
        let end = horizon.min(until);
        let n = end.div_ceil(interval) as usize;
        // Every request counts 1, or with per-request sizes its expected demand in units of
        // the reference request's.
        let reference = match demand_model {
            Demand::Linear { .. } if spec.reference_demand_s > 0.0 => Some(spec.reference_demand_s),
            _ => None,
        };
        let weigh = |a: &crate::traffic::Arrival| reference.map_or(1.0, |r| demand_model.expected(a) / r);
        let known = spec.pre_pass.as_ref().filter(|f| f.seed == run.seed && f.peak_rps.len() >= n);
        let mut peak_rps = Vec::with_capacity(n);
        if let Some(f) = known {
            // Interval k's peak depends only on the arrivals within it (and the horizon).
            peak_rps.extend_from_slice(&f.peak_rps[..n]);
        } else {
            Self::pre_pass(run, interval, window, n, weigh, &mut peak_rps);
        }
        let cap = spec.capacity_rps;
        let demand: Vec<u32> = peak_rps.iter().map(|&r| ceil_u32(r / cap)).collect();
        let schedule = schedule(&demand, interval, spec.lead, min, max);
        OraclePlan { interval, peak_rps, demand, schedule }
    }

    /// The peak sub-window rate of each of the first `n` intervals, from the run's arrivals.
    fn pre_pass(
        run: &RunContext,
        interval: Time,
        window: Time,
        n: usize,
        weigh: impl Fn(&crate::traffic::Arrival) -> f64,
        peak_rps: &mut Vec<f64>,
    ) {
        let horizon = run.horizon;
        let per = interval.div_ceil(window) as usize;
        let mut sums = vec![0.0f64; per];
        let mut source = run.traffic.source(run.seed, run.clock, horizon);
        let mut pending = source.next_arrival();
        for k in 0..n {
            let start = k as u64 * interval;
            let stop = (start + interval).min(horizon);
            sums.iter_mut().for_each(|x| *x = 0.0);
            while let Some(a) = pending {
                if a.time >= stop {
                    break;
                }
                let j = ((a.time.saturating_sub(start)) / window) as usize;
                sums[j.min(per - 1)] += weigh(&a);
                pending = source.next_arrival();
            }
            peak_rps.push(peak_rate(&sums, start, stop, window));
        }
    }

    /// The demand as a step curve (replicas per interval, unclamped): the reference of the
    /// elasticity metrics.
    pub fn demand_curve(&self) -> StepCurve {
        StepCurve::from_points(self.demand.iter().enumerate().map(|(k, &d)| (k as u64 * self.interval, d)))
    }
}

/// The largest rate over the sub-windows of `[start, stop)` (sums in `sums`, each `window`
/// long but the last, which is merged into the one before when shorter than half a window).
fn peak_rate(sums: &[f64], start: Time, stop: Time, window: Time) -> f64 {
    let len = stop.saturating_sub(start);
    if len == 0 {
        return 0.0;
    }
    let used = len.div_ceil(window) as usize;
    let mut peak: f64 = 0.0;
    let mut j = 0;
    while j < used {
        let w_start = j as u64 * window;
        let mut w_end = (w_start + window).min(len);
        let mut sum = sums[j];
        // A short last piece joins the sub-window before it.
        if j + 2 == used && len - (w_end) < window / 2 {
            w_end = len;
            sum += sums[j + 1];
            j += 1;
        }
        peak = peak.max(sum / to_secs_f64(w_end - w_start));
        j += 1;
    }
    peak
}

/// Replicas to ask for at each time: the largest demand over the intervals overlapping
/// `[t, t + lead]`, clamped to `[min, max]`.
fn schedule(demand: &[u32], interval: Time, lead: Time, min: u32, max: u32) -> StepCurve {
    let n = demand.len();
    if n == 0 {
        return StepCurve::constant(min.min(max));
    }
    // Event times: each interval's start (it leaves the window's front) and its start − lead
    // (it enters the window's back).
    let mut times: Vec<Time> =
        (0..n as u64).flat_map(|k| [k * interval, (k * interval).saturating_sub(lead)]).collect();
    times.sort_unstable();
    times.dedup();
    let mut curve = StepCurve::constant(0);
    // Monotone deque of interval indices with decreasing demand: the front is the window max.
    let mut deque: VecDeque<usize> = VecDeque::new();
    let mut next = 0usize;
    for t in times {
        let a = (t / interval) as usize;
        let b = (((t + lead) / interval) as usize).min(n - 1);
        while next <= b {
            while deque.back().is_some_and(|&i| demand[i] <= demand[next]) {
                deque.pop_back();
            }
            deque.push_back(next);
            next += 1;
        }
        while deque.front().is_some_and(|&i| i < a) {
            deque.pop_front();
        }
        let want = deque.front().map_or(0, |&i| demand[i]);
        curve.set(t, want.clamp(min, max.max(min)));
    }
    curve
}

/// The oracle controller of one run: follows its plan's schedule.
#[derive(Debug, Clone)]
pub struct Oracle {
    plan: OraclePlan,
}

impl Oracle {
    /// A controller following `plan`.
    pub fn new(plan: OraclePlan) -> Oracle {
        Oracle { plan }
    }

    /// The plan it follows.
    pub fn plan(&self) -> &OraclePlan {
        &self.plan
    }
}

impl Policy for Oracle {
    fn next_tick(&self, last: Option<Time>) -> Time {
        let points = self.plan.schedule.points();
        match last {
            None => 0,
            Some(l) => {
                let i = points.partition_point(|&(t, _)| t <= l);
                points.get(i).map_or(Time::MAX, |p| p.0)
            }
        }
    }

    fn reads_pod_cpu(&self) -> bool {
        false
    }

    fn foresight(&self) -> Option<DemandCurve> {
        Some(DemandCurve { curve: self.plan.demand_curve(), interval: self.plan.interval })
    }

    fn decide(&mut self, seen: &Observation) -> Option<Decision> {
        let want = self.plan.schedule.at(seen.now);
        let k = (seen.now / self.plan.interval) as usize;
        let metrics = match self.plan.peak_rps.get(k) {
            Some(r) => format!("peak_rps={:.1} demand={}", r, self.plan.demand[k]),
            None => String::new(),
        };
        Some(Decision { metrics, ..Decision::new(want, "foresight") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::time::{Clock, SECOND};
    use crate::traffic::{Process, Shape, TrafficSpec};
    use std::sync::Arc;

    fn spec(capacity: f64, lead_s: u64) -> OracleSpec {
        OracleSpec {
            interval: 30 * SECOND,
            window: 10 * SECOND,
            lead: lead_s * SECOND,
            capacity_rps: capacity,
            reference_demand_s: 0.1,
            pre_pass: None,
            capacity_source: "given".into(),
        }
    }

    #[test]
    fn schedule_requests_ahead_and_releases_at_the_end() {
        // Demand 1, 3, 1, 1 per 30 s interval, lead 40 s: the 3 is wanted from 30 − 40 < 0, i.e.
        // from 0, until 60.
        let c = schedule(&[1, 3, 1, 1], 30 * SECOND, 40 * SECOND, 0, 10);
        assert_eq!(c.points(), &[(0, 3), (60 * SECOND, 1)]);
        // Lead 10 s: from 20 s.
        let c = schedule(&[1, 3, 1, 1], 30 * SECOND, 10 * SECOND, 0, 10);
        assert_eq!(c.points(), &[(0, 1), (20 * SECOND, 3), (60 * SECOND, 1)]);
        // Zero lead: exactly the demand; bounds clamp.
        let c = schedule(&[0, 5, 2], 30 * SECOND, 0, 1, 4);
        assert_eq!(c.points(), &[(0, 1), (30 * SECOND, 4), (60 * SECOND, 2)]);
        // A lead longer than several intervals looks over all of them.
        let c = schedule(&[1, 1, 1, 6, 1], 30 * SECOND, 75 * SECOND, 0, 10);
        assert_eq!(c.points(), &[(0, 1), (15 * SECOND, 6), (120 * SECOND, 1)]);
    }

    #[test]
    fn peak_rate_over_sub_windows() {
        // 30 s interval, 10 s windows: 50, 80, 20 arrivals → peak 8 /s.
        assert_eq!(peak_rate(&[50.0, 80.0, 20.0], 0, 30 * SECOND, 10 * SECOND), 8.0);
        // A 32 s interval cut 10/10/10/2: the last 2 s join the third window (12 s).
        let r = peak_rate(&[10.0, 10.0, 60.0, 12.0], 0, 32 * SECOND, 10 * SECOND);
        assert!((r - 72.0 / 12.0).abs() < 1e-12, "{r}");
        // A short horizon-cut interval of 5 s is one window.
        assert_eq!(peak_rate(&[10.0, 0.0, 0.0], 60 * SECOND, 65 * SECOND, 10 * SECOND), 2.0);
    }

    #[test]
    fn demand_follows_the_counted_arrivals() {
        // Uniform arrivals at 40 /s for 60 s, then 100 /s: with 10.5 req/s per replica the
        // demand is 4 then 10 replicas (a count off by one at a window edge changes nothing).
        let shape = Shape::Steps(Arc::from(vec![(0.0, 40.0), (60.0, 100.0)]));
        let traffic = TrafficSpec::from_shape(shape, Process::Uniform, None);
        let horizon = 120 * SECOND;
        let clock = Clock::utc_monday(horizon);
        let demand = Demand::Dist(Dist::exponential(0.1));
        let run = RunContext { clock: &clock, horizon, seed: 3, traffic: &traffic, demand: &demand };
        let plan = OraclePlan::compute(&spec(10.5, 30), 1, 50, &run, Time::MAX);
        assert_eq!(plan.demand, vec![4, 4, 10, 10]);
        // Lead 30 s: the 10 replicas of [60 s, 90 s) are asked for at 30 s.
        assert_eq!(plan.schedule.points(), &[(0, 4), (30 * SECOND, 10)]);
        let plan = OraclePlan::compute(&spec(10.5, 5), 1, 50, &run, Time::MAX);
        assert_eq!(plan.schedule.points(), &[(0, 4), (55 * SECOND, 10)]);
        assert_eq!(plan.demand_curve().points(), &[(0, 4), (60 * SECOND, 10)]);
        // Only the first interval.
        let head = OraclePlan::compute(&spec(10.5, 5), 1, 50, &run, 30 * SECOND);
        assert_eq!(head.demand, vec![4]);
        // The policy ticks at each change and asks for the schedule.
        let o = Oracle::new(plan);
        assert_eq!(o.next_tick(None), 0);
        assert_eq!(o.next_tick(Some(0)), 55 * SECOND);
        assert_eq!(o.next_tick(Some(55 * SECOND)), Time::MAX);
    }

    #[test]
    fn a_known_pre_pass_gives_the_plan_the_arrivals_give() {
        // Poisson arrivals stepping 40 → 100 /s: the peaks of one pre-pass, reused at another
        // capacity (the capacity search), give exactly the plan a fresh pre-pass gives, for the
        // whole horizon or its head; another seed's peaks are not used.
        let shape = Shape::Steps(Arc::from(vec![(0.0, 40.0), (60.0, 100.0)]));
        let traffic = TrafficSpec::from_shape(shape, Process::Poisson, None);
        let horizon = 125 * SECOND;
        let clock = Clock::utc_monday(horizon);
        let demand = Demand::Dist(Dist::exponential(0.1));
        let run = RunContext { clock: &clock, horizon, seed: 3, traffic: &traffic, demand: &demand };
        let first = OraclePlan::compute(&spec(10.5, 30), 1, 50, &run, Time::MAX);
        let known = PrePass { seed: 3, peak_rps: first.peak_rps.clone().into() };
        for (capacity, until) in [(7.0, Time::MAX), (13.0, Time::MAX), (7.0, 30 * SECOND), (9.0, 61 * SECOND)]
        {
            let fresh = OraclePlan::compute(&spec(capacity, 30), 1, 50, &run, until);
            let mut reused = spec(capacity, 30);
            reused.pre_pass = Some(known.clone());
            assert_eq!(OraclePlan::compute(&reused, 1, 50, &run, until), fresh, "{capacity} until {until}");
        }
        // Peaks of another seed are ignored: the plan is this seed's.
        let mut other = spec(7.0, 30);
        other.pre_pass = Some(PrePass { seed: 4, peak_rps: vec![1e6; first.peak_rps.len()].into() });
        assert_eq!(
            OraclePlan::compute(&other, 1, 50, &run, Time::MAX),
            OraclePlan::compute(&spec(7.0, 30), 1, 50, &run, Time::MAX)
        );
    }

    #[test]
    fn sized_requests_weigh_by_their_expected_demand() {
        // Linear demand 0.1 s + 0.01 s per token; replay-free check through `weigh`: a request
        // of 10 tokens is worth 2 of the reference (0.1 s) requests.
        let demand = Demand::Linear { base: 0.1, coef: [0.01, 0.0, 0.0], noise: None };
        let a = crate::traffic::Arrival { time: 0, sizes: [10.0, 0.0, 0.0] };
        assert!((demand.expected(&a) / 0.1 - 2.0).abs() < 1e-12);
    }
}
