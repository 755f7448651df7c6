//! Per-interval aggregation of one run: counters and latency histograms (HDR buckets), constant
//! memory per interval. The engine calls the `on_*` methods as events happen and [`Recorder::close_interval`]
//! at every interval boundary; [`Recorder::finish`] hands over the result.

use super::llm::{LlmLevels, LlmRecorder};
use super::{
    DecisionRow, FailCounts, FailReason, IntervalRow, LatencyHistogram, RunResult, RunSummary, StepCurve,
};
use crate::scenario::{CostModel, Slo};
use crate::time::{Time, to_secs_f64};

fn quantile(h: &LatencyHistogram, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 * 1e-6)
}

/// Replica counts at an instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Desired replicas.
    pub desired: u32,
    /// Starting.
    pub starting: u32,
    /// Ready.
    pub ready: u32,
    /// Draining.
    pub draining: u32,
}

/// Aggregates one run's events.
#[derive(Debug)]
pub struct Recorder {
    slo: Option<Slo>,
    price_per_second: f64,
    // current interval
    start: Time,
    arrived: u64,
    served: u64,
    failed: FailCounts,
    latency_sum_us: u128,
    hist: LatencyHistogram,
    // whole run
    total_arrived: u64,
    total_served: u64,
    total_failed: FailCounts,
    total_latency_us: u128,
    /// The counted intervals' histograms, merged as each closes.
    total_hist: LatencyHistogram,
    slo_violation_s: f64,
    rows: Vec<IntervalRow>,
    decisions: Vec<DecisionRow>,
    scaling_actions: u64,
    ready_curve: StepCurve,
    // event-resolution gauges of the current interval
    ready_lo: u32,
    ready_hi: u32,
    /// The policy's highest replica count, when it can vary (min < max).
    max_replicas: Option<u32>,
    /// Since when the desired count has been at `max_replicas`, if it is.
    at_max_since: Option<Time>,
    at_max_us: Time,
    total_at_max_us: Time,
    // warm-up
    warmup: Time,
    /// Whether the current interval counts towards the summary (it starts at or after warm-up).
    counting: bool,
    counted_replica_seconds: f64,
    /// The LLM figures (an LLM service), and the engine's levels for the interval closing next.
    llm: Option<LlmRecorder>,
    llm_levels: LlmLevels,
}

impl Recorder {
    /// A recorder for a run with the given SLO and cost model.
    pub fn new(slo: Option<Slo>, cost: &CostModel) -> Recorder {
        Recorder {
            slo,
            price_per_second: cost.per_replica_hour / 3600.0,
            start: 0,
            arrived: 0,
            served: 0,
            failed: [0; FailReason::COUNT],
            latency_sum_us: 0,
            hist: LatencyHistogram::new(),
            total_arrived: 0,
            total_served: 0,
            total_failed: [0; FailReason::COUNT],
            total_latency_us: 0,
            total_hist: LatencyHistogram::new(),
            slo_violation_s: 0.0,
            rows: Vec::new(),
            decisions: Vec::new(),
            scaling_actions: 0,
            ready_curve: StepCurve::default(),
            ready_lo: u32::MAX,
            ready_hi: 0,
            max_replicas: None,
            at_max_since: None,
            at_max_us: 0,
            total_at_max_us: 0,
            warmup: 0,
            counting: true,
            counted_replica_seconds: 0.0,
            llm: None,
            llm_levels: LlmLevels::default(),
        }
    }

    /// Also keeps the figures of an LLM service ([`LlmRecorder`]).
    pub fn with_llm(mut self) -> Recorder {
        self.llm = Some(LlmRecorder::default());
        self
    }

    /// The LLM figures' recorder, for an LLM service.
    #[inline]
    pub fn llm(&mut self) -> Option<&mut LlmRecorder> {
        self.llm.as_mut()
    }

    /// The engine's LLM levels over the interval that closes next.
    pub fn set_llm_levels(&mut self, levels: LlmLevels) {
        self.llm_levels = levels;
    }

    /// Tracks time at the policy's highest replica count `max` (when `min < max`; a policy that
    /// cannot vary is never "pinned").
    pub fn with_limits(mut self, min: u32, max: u32) -> Recorder {
        self.max_replicas = (min < max).then_some(max);
        self
    }

    /// Excludes `[0, warmup)` from the whole-run figures. The engine makes `warmup` an interval
    /// boundary, so every interval is either in or out.
    pub fn with_warmup(mut self, warmup: Time) -> Recorder {
        self.warmup = warmup;
        self.counting = warmup == 0;
        self
    }

    /// The desired replica count is `desired` from `now` on.
    pub fn on_desired(&mut self, now: Time, desired: u32) {
        let at_max = self.max_replicas == Some(desired);
        match (self.at_max_since, at_max) {
            (Some(since), false) => {
                self.at_max_us += now.saturating_sub(since);
                self.at_max_since = None;
            }
            (None, true) => self.at_max_since = Some(now),
            _ => {}
        }
    }

    /// A request arrived.
    #[inline]
    pub fn on_arrival(&mut self) {
        self.arrived += 1;
    }

    /// A request was served with `latency`.
    #[inline]
    pub fn on_served(&mut self, latency: Time) {
        self.served += 1;
        self.latency_sum_us += latency as u128;
        self.hist.record(latency);
    }

    /// A request failed.
    #[inline]
    pub fn on_failed(&mut self, reason: FailReason, n: u64) {
        self.failed[reason as usize] += n;
    }

    /// The number of ready replicas became `ready` at `now` (times never decrease). Called at
    /// every change, so each interval knows its lowest and highest count, not only the count at
    /// its end, and the run keeps its ready-replica curve (for the elasticity metrics).
    #[inline]
    pub fn on_ready(&mut self, now: Time, ready: u32) {
        self.ready_lo = self.ready_lo.min(ready);
        self.ready_hi = self.ready_hi.max(ready);
        self.ready_curve.set(now, ready);
    }

    /// The policy decided; `row.desired != row.current` counts as a scaling action.
    pub fn on_decision(&mut self, now: Time, mut row: DecisionRow) {
        if row.desired != row.current && now >= self.warmup {
            self.scaling_actions += 1;
        }
        row.time_s = to_secs_f64(now);
        self.decisions.push(row);
    }

    /// Closes the interval ending at `end`, with the gauges at `end`, the CPU utilisation over
    /// the interval, replica-seconds billed in it and in the whole run so far.
    pub fn close_interval(
        &mut self,
        end: Time,
        gauges: Gauges,
        cpu_utilization: Option<f64>,
        replica_seconds: f64,
        replica_seconds_total: f64,
    ) {
        let len_s = to_secs_f64(end - self.start);
        let finished = self.served + self.failed.iter().sum::<u64>();
        let [p50, p95, p99] = if self.hist.is_empty() {
            [None; 3]
        } else {
            self.hist.values_at_quantiles([0.5, 0.95, 0.99]).map(|v| Some(v as f64 * 1e-6))
        };
        let mut violated = false;
        if let Some(slo) = &self.slo {
            if let Some((pct, bound)) = slo.latency
                && let Some(v) = quantile(&self.hist, pct / 100.0)
            {
                violated |= v > bound;
            }
            if let Some(rate) = slo.error_rate
                && finished > 0
            {
                violated |= self.failed.iter().sum::<u64>() as f64 / finished as f64 > rate;
            }
        }
        let llm = self.llm.as_mut().map(|l| l.close(end - self.start, self.llm_levels, self.counting));
        if violated && self.counting {
            self.slo_violation_s += len_s;
        }
        if let Some(since) = self.at_max_since {
            self.at_max_us += end.saturating_sub(since);
            self.at_max_since = Some(end);
        }
        let (ready_min, ready_max) = if self.ready_lo == u32::MAX {
            (gauges.ready, gauges.ready)
        } else {
            (self.ready_lo.min(gauges.ready), self.ready_hi.max(gauges.ready))
        };
        self.rows.push(IntervalRow {
            start_s: to_secs_f64(self.start),
            end_s: to_secs_f64(end),
            arrived: self.arrived,
            offered_rps: if len_s > 0.0 { self.arrived as f64 / len_s } else { 0.0 },
            served: self.served,
            failed: self.failed,
            desired: gauges.desired,
            starting: gauges.starting,
            ready: gauges.ready,
            ready_min,
            ready_max,
            draining: gauges.draining,
            latency_mean_s: (self.served > 0).then(|| self.latency_sum_us as f64 * 1e-6 / self.served as f64),
            latency_p50_s: p50,
            latency_p95_s: p95,
            latency_p99_s: p99,
            cpu_utilization,
            replica_seconds,
            cost_cumulative: replica_seconds_total * self.price_per_second,
            slo_violated: violated,
            at_max_s: self.max_replicas.map(|_| to_secs_f64(self.at_max_us)),
            llm,
        });
        if self.counting {
            self.total_arrived += self.arrived;
            self.total_served += self.served;
            for (t, f) in self.total_failed.iter_mut().zip(self.failed) {
                *t += f;
            }
            self.total_latency_us += self.latency_sum_us;
            self.total_hist.add(&self.hist);
            self.total_at_max_us += self.at_max_us;
            self.counted_replica_seconds += replica_seconds;
        }
        self.at_max_us = 0;
        self.ready_lo = gauges.ready;
        self.ready_hi = gauges.ready;
        self.start = end;
        self.counting = end >= self.warmup;
        self.arrived = 0;
        self.served = 0;
        self.failed = [0; FailReason::COUNT];
        self.latency_sum_us = 0;
        self.hist.reset();
    }

    /// Whether a closed interval counted so far violated the SLO.
    pub fn slo_violated(&self) -> bool {
        self.slo_violation_s > 0.0
    }

    /// Ends a warm-up (call right after a `close_interval`): the whole-run figures of
    /// [`Recorder::finish`] count from here on; the interval rows and decisions already
    /// recorded are kept.
    pub fn start_measuring(&mut self) {
        self.total_arrived = 0;
        self.total_served = 0;
        self.total_failed = [0; FailReason::COUNT];
        self.total_latency_us = 0;
        self.total_hist.reset();
        self.slo_violation_s = 0.0;
        self.scaling_actions = 0;
        if let Some(l) = &mut self.llm {
            l.start_measuring();
        }
    }

    /// The finished result. Call after the last `close_interval`.
    pub fn finish(
        self,
        policy: &str,
        replication: u32,
        seed: u64,
        in_flight_at_end: u64,
        replica_seconds: f64,
        peak_replicas: u32,
    ) -> RunResult {
        let failed: u64 = self.total_failed.iter().sum();
        let served = self.total_served;
        // Without a warm-up the engine's exact integral; with one, the counted intervals' sum.
        let replica_seconds = if self.warmup == 0 { replica_seconds } else { self.counted_replica_seconds };
        let summary = RunSummary {
            requests: self.total_arrived,
            served,
            failed,
            failed_by_reason: self.total_failed,
            in_flight_at_end,
            latency_mean_s: (served > 0).then(|| self.total_latency_us as f64 * 1e-6 / served as f64),
            latency_p50_s: quantile(&self.total_hist, 0.5),
            latency_p95_s: quantile(&self.total_hist, 0.95),
            latency_p99_s: quantile(&self.total_hist, 0.99),
            replica_seconds,
            cost: replica_seconds * self.price_per_second,
            scaling_actions: self.scaling_actions,
            peak_replicas,
            slo_violation_minutes: self.slo_violation_s / 60.0,
            cost_above_oracle_pct: None,
            elasticity: None,
            time_at_max_minutes: self.max_replicas.map(|_| to_secs_f64(self.total_at_max_us) / 60.0),
            llm: self.llm.as_ref().map(LlmRecorder::figures),
        };
        RunResult {
            policy: policy.to_string(),
            replication,
            seed,
            intervals: self.rows,
            summary,
            decisions: self.decisions,
            ready_curve: self.ready_curve,
            foresight: None,
            requests: Vec::new(),
        }
    }

    /// The latency histogram (µs) of the interval still open.
    pub fn interval_histogram(&self) -> &LatencyHistogram {
        &self.hist
    }

    /// The whole-run latency histogram so far (µs), for tests and diagnostics.
    pub fn latency_histogram(&self) -> &LatencyHistogram {
        &self.total_hist
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn cost() -> CostModel {
        CostModel { per_replica_hour: 3.6, currency: "USD".into() }
    }

    #[test]
    fn intervals_sum_to_the_summary_and_slo_is_checked_per_interval() {
        let slo = Slo { latency: Some((99.0, 0.5)), error_rate: Some(0.1) };
        let mut r = Recorder::new(Some(slo), &cost());
        // Interval 1: fast and clean.
        for _ in 0..100 {
            r.on_arrival();
            r.on_served(100_000);
        }
        r.close_interval(
            60 * SECOND,
            Gauges { desired: 2, ready: 2, ..Default::default() },
            Some(0.5),
            120.0,
            120.0,
        );
        // Interval 2: slow tail.
        for i in 0..100 {
            r.on_arrival();
            r.on_served(if i < 95 { 100_000 } else { 2 * SECOND });
        }
        r.close_interval(120 * SECOND, Gauges::default(), None, 120.0, 240.0);
        // Interval 3: 20 % failures.
        for i in 0..10 {
            r.on_arrival();
            if i < 2 { r.on_failed(FailReason::QueueFull, 1) } else { r.on_served(100_000) }
        }
        r.close_interval(150 * SECOND, Gauges::default(), None, 60.0, 300.0);
        let res = r.finish("p", 0, 1, 0, 300.0, 2);
        let v: Vec<bool> = res.intervals.iter().map(|i| i.slo_violated).collect();
        assert_eq!(v, [false, true, true]);
        assert_eq!(res.summary.slo_violation_minutes, 1.5);
        assert_eq!(res.summary.requests, 210);
        assert_eq!(res.summary.served, 208);
        assert_eq!(res.summary.failed_by_reason, [2, 0, 0, 0, 0]);
        assert!((res.summary.cost - 0.3).abs() < 1e-12, "3.6 per hour = 0.001 per second");
        assert!((res.intervals[1].cost_cumulative - 0.24).abs() < 1e-12);
        assert_eq!(res.intervals[0].offered_rps, 100.0 / 60.0);
        let p50 = res.intervals[0].latency_p50_s.unwrap();
        assert!((p50 - 0.1).abs() < 0.001, "{p50}");
        assert!(res.intervals[2].latency_mean_s.is_some());
    }
}
