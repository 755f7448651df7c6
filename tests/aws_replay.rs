//! Decision replay for the AWS family: two days of noisy traffic against three groups
//! (tests/fixtures/aws/replay-2days.toml: target tracking on CPU and requests per target with
//! warm-up and scheduled actions; step scaling; Application Auto Scaling target tracking with
//! cooldowns). Every decision the simulation logs is re-derived by an independent,
//! straightforward implementation of AWS's documented rules written here, fed only the logged
//! inputs: the CloudWatch datapoints in each decision's metrics and the decision times. The
//! model keeps its own group (launch times, readiness 90 s after launch, warm-up, removal order),
//! alarms, cooldowns and scheduled-action times, and must agree on every decision: the desired
//! capacity, the capacity it started from, and the warm / warming / terminating counts.

use scalesim::engine::simulate;
use scalesim::record::DecisionRow;
use std::collections::VecDeque;
use std::path::Path;

/// Instances are ready this long after their launch (deterministic startup in the fixture).
const STARTUP: u64 = 90;
const HOUR: u64 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Cpu,
    Alb,
}

/// A target-tracking policy: scale-out alarm on 3 of 3 datapoints above the target, scale-in
/// alarm on 15 of 15 below 0.9 × target (as modelled; AWS does not document the alarms).
struct Tt {
    metric: Metric,
    target: f64,
    out_cooldown: u64,
    in_cooldown: u64,
}

/// `MetricIntervalLowerBound` / `UpperBound` relative to the threshold, and the adjustment.
struct StepAdj {
    lower: Option<f64>,
    upper: Option<f64>,
    adjustment: f64,
}

/// A step-scaling policy with its alarm (M of N datapoints).
struct Step {
    metric: Metric,
    threshold: f64,
    breaches: fn(f64, f64) -> bool,
    n: usize,
    m: usize,
    /// `PercentChangeInCapacity` (with `MinAdjustmentMagnitude`) or `ChangeInCapacity`.
    percent: bool,
    min_magnitude: Option<i64>,
    steps: Vec<StepAdj>,
}

/// A scheduled action and the times (seconds from the start) it fires at.
struct Action {
    fires: Vec<u64>,
    min: Option<u32>,
    max: Option<u32>,
    desired: Option<u32>,
}

/// One group, as written in the fixture.
struct Group {
    name: &'static str,
    min: u32,
    max: u32,
    initial: u32,
    warmup: Option<u64>,
    tts: Vec<Tt>,
    steps: Vec<Step>,
    actions: Vec<Action>,
}

fn tt(metric: Metric, target: f64, out_cooldown: u64, in_cooldown: u64) -> Tt {
    Tt { metric, target, out_cooldown, in_cooldown }
}

fn action(fires: &[u64], min: Option<u32>, max: Option<u32>, desired: Option<u32>) -> Action {
    Action { fires: fires.to_vec(), min, max, desired }
}

/// The fixture's groups. The simulation starts Monday 2025-01-06 00:00 UTC and runs 48 h, so a
/// daily cron at hh:mm UTC fires at hh:mm and 24 h later; 08:30 in New York in January (EST,
/// UTC−5) is 13:30 UTC.
fn groups() -> Vec<Group> {
    let h = |x: f64| (x * HOUR as f64) as u64;
    let sa = |lower, upper, adjustment| StepAdj { lower, upper, adjustment };
    vec![
        Group {
            name: "tt-cpu-alb",
            min: 2,
            max: 30,
            initial: 4,
            warmup: Some(120),
            // With a warm-up, EC2 target tracking has no cooldowns.
            tts: vec![tt(Metric::Cpu, 50.0, 0, 0), tt(Metric::Alb, 210.0, 0, 0)],
            steps: vec![],
            actions: vec![
                action(&[h(7.0), h(31.0)], Some(6), None, None),
                action(&[h(20.0), h(44.0)], Some(2), None, None),
                action(&[h(13.5), h(37.5)], None, None, Some(12)),
                action(&[h(39.0)], None, Some(8), None),
                action(&[h(40.0)], None, Some(30), None),
            ],
        },
        Group {
            name: "step-cpu",
            min: 2,
            max: 30,
            initial: 4,
            warmup: Some(60),
            tts: vec![],
            steps: vec![
                Step {
                    metric: Metric::Cpu,
                    threshold: 60.0,
                    breaches: |v, t| v >= t,
                    n: 2,
                    m: 2,
                    percent: true,
                    min_magnitude: Some(2),
                    steps: vec![
                        sa(Some(0.0), Some(10.0), 10.0),
                        sa(Some(10.0), Some(25.0), 30.0),
                        sa(Some(25.0), None, 50.0),
                    ],
                },
                Step {
                    metric: Metric::Cpu,
                    threshold: 35.0,
                    breaches: |v, t| v < t,
                    n: 10,
                    m: 8,
                    percent: false,
                    min_magnitude: None,
                    steps: vec![sa(Some(-15.0), Some(0.0), -1.0), sa(None, Some(-15.0), -2.0)],
                },
            ],
            actions: vec![action(&[h(12.75), h(36.75)], None, None, Some(14))],
        },
        Group {
            name: "aas-tt-cpu",
            min: 2,
            max: 30,
            initial: 4,
            warmup: None,
            // Application Auto Scaling: 300 s scale-out cooldown by default, 600 s scale-in.
            tts: vec![tt(Metric::Cpu, 50.0, 300, 600)],
            steps: vec![],
            actions: vec![action(&[h(13.0), h(37.0)], None, None, Some(16))],
        },
    ]
}

/// Round up, as AWS does when adding capacity (and, for the proposal, when removing: removing
/// less). The tolerance absorbs floating-point noise in products such as 4 × 62.5 / 50.
fn ceil(x: f64) -> u32 {
    (x - 1e-9).ceil().max(0.0) as u32
}

/// The documented rounding of a percent change: above 1 down, in (0, 1) to 1, in (−1, 0) to
/// −1, below −1 toward 0.
fn round_percent(raw: f64) -> i64 {
    if raw >= 1.0 {
        raw.floor() as i64
    } else if raw > 0.0 {
        1
    } else if raw > -1.0 && raw < 0.0 {
        -1
    } else {
        raw.ceil() as i64
    }
}

/// The step that applies at `diff = metric − threshold`: above the threshold [lower, upper),
/// below it (lower, upper].
fn find_step(steps: &[StepAdj], diff: f64) -> Option<&StepAdj> {
    steps.iter().find(|s| {
        let lo = s.lower.unwrap_or(f64::NEG_INFINITY);
        let hi = s.upper.unwrap_or(f64::INFINITY);
        if diff >= 0.0 { diff >= lo && diff < hi } else { diff > lo && diff <= hi }
    })
}

/// An instance of the model's group; `None` for those present at the start (warm).
#[derive(Debug, Clone, Copy)]
struct Instance {
    launched: Option<u64>,
    /// Creation order.
    seq: u64,
}

/// The model's view of the group at one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    warm: u32,
    warming: u32,
    terminating: u32,
}

/// The running model of one group.
struct Model<'a> {
    g: &'a Group,
    min: u32,
    max: u32,
    instances: Vec<Instance>,
    seq: u64,
    cpu: VecDeque<Option<f64>>,
    alb: VecDeque<Option<f64>>,
    /// Per target-tracking policy: (scale-out cooldown end, capacity before that scale-out,
    /// scale-in cooldown end).
    cooldowns: Vec<(u64, u32, u64)>,
    /// (time, action index), in time order.
    fires: Vec<(u64, usize)>,
    next_fire: usize,
}

impl<'a> Model<'a> {
    fn new(g: &'a Group) -> Model<'a> {
        let mut fires: Vec<(u64, usize)> =
            g.actions.iter().enumerate().flat_map(|(i, a)| a.fires.iter().map(move |&t| (t, i))).collect();
        fires.sort();
        Model {
            g,
            min: g.min,
            max: g.max,
            instances: (0..g.initial as u64).map(|seq| Instance { launched: None, seq }).collect(),
            seq: g.initial as u64,
            // The series start with the datapoint at 0, missing: no minute has passed yet. An
            // alarm evaluates once it has as many periods as it looks at (scalesim's start-up
            // convention; until then INSUFFICIENT_DATA).
            cpu: VecDeque::from([None]),
            alb: VecDeque::from([None]),
            cooldowns: vec![(0, 0, 0); g.tts.len()],
            fires,
            next_fire: 0,
        }
    }

    /// Warming: not ready yet, or ready for less than the warm-up.
    fn warming(&self, i: &Instance, t: u64) -> bool {
        i.launched.is_some_and(|l| t < l + STARTUP + self.g.warmup.unwrap_or(0))
    }

    /// Moves the group to `desired` at `t`: launches, or removals.
    fn resize(&mut self, desired: u32, t: u64) {
        while (self.instances.len() as u32) < desired {
            self.instances.push(Instance { launched: Some(t), seq: self.seq });
            self.seq += 1;
        }
        shrink(&mut self.instances, desired, t);
    }

    fn series(&self, m: Metric) -> &VecDeque<Option<f64>> {
        match m {
            Metric::Cpu => &self.cpu,
            Metric::Alb => &self.alb,
        }
    }

    /// `n` of the last `n` datapoints present and satisfying `f`.
    fn all(&self, m: Metric, n: usize, f: impl Fn(f64) -> bool) -> bool {
        let s = self.series(m);
        s.len() >= n && s.iter().skip(s.len() - n).all(|p| p.is_some_and(&f))
    }

    /// One decision at `t` with the logged datapoints; returns (desired, counts if evaluated).
    fn decide(&mut self, t: u64, datapoints: Option<(Option<f64>, Option<f64>)>) -> (u32, Option<Counts>) {
        let mut desired = (self.instances.len() as u32).clamp(self.min, self.max);
        // Scheduled actions first, in time then given order: new bounds, desired within them.
        while let Some(&(ft, i)) = self.fires.get(self.next_fire) {
            if ft > t {
                break;
            }
            self.next_fire += 1;
            let a = &self.g.actions[i];
            self.min = a.min.unwrap_or(self.min);
            self.max = a.max.unwrap_or(self.max).max(self.min);
            desired = a.desired.unwrap_or(desired).clamp(self.min, self.max);
        }
        let Some((cpu, alb)) = datapoints else {
            self.resize(desired, t);
            return (desired, None);
        };
        for (s, v) in [(&mut self.cpu, cpu), (&mut self.alb, alb)] {
            s.push_back(v);
            if s.len() > 20 {
                s.pop_front();
            }
        }
        // The group the dynamic policies see: the actions' launches are warming, the instances
        // they remove terminating.
        let have = self.instances.len() as u32;
        let mut after = self.instances.clone();
        shrink(&mut after, desired, t);
        let mut counts = Counts {
            warm: 0,
            warming: desired.saturating_sub(have),
            terminating: have.saturating_sub(desired),
        };
        for i in &after {
            if self.warming(i, t) {
                counts.warming += 1;
            } else {
                counts.warm += 1;
            }
        }
        let warmup = self.g.warmup.is_some();
        let mut outs: Vec<(u32, Option<usize>)> = Vec::new();
        let mut tt_ins: Vec<(u32, usize)> = Vec::new();
        let mut veto = false;
        for (k, p) in self.g.tts.iter().enumerate() {
            let Some(v) = self.series(p.metric).back().copied().flatten() else {
                veto = true;
                continue;
            };
            let (out_until, out_base, in_until) = self.cooldowns[k];
            if self.all(p.metric, 3, |x| x > p.target) {
                // Scale out from the current capacity without warming instances; without a
                // warm-up, from the desired capacity (the one before the cooldown within it).
                let base = if warmup {
                    counts.warm
                } else if t < out_until {
                    out_base
                } else {
                    desired
                };
                let want = ceil(base as f64 * v / p.target);
                if want > desired {
                    outs.push((want, Some(k)));
                }
            }
            if !self.all(p.metric, 15, |x| x < 0.9 * p.target) {
                veto = true;
                continue;
            }
            // Scale in from the current capacity, terminating instances included.
            let base = if warmup { counts.warm + counts.terminating } else { desired };
            let want = ceil(base as f64 * v / p.target);
            if want >= desired || (warmup && counts.warming > 0) || t < in_until {
                veto = true;
            } else {
                tt_ins.push((want, k));
            }
        }
        let mut ins: Vec<u32> = if veto { Vec::new() } else { tt_ins.iter().map(|w| w.0).collect() };
        for s in &self.g.steps {
            let series = self.series(s.metric);
            if series.len() < s.n {
                continue;
            }
            let last: Vec<Option<f64>> = series.iter().skip(series.len() - s.n).copied().collect();
            let breaching = last.iter().filter(|p| p.is_some_and(|v| (s.breaches)(v, s.threshold))).count();
            if breaching < s.m {
                continue;
            }
            let v = last.iter().rev().find_map(|p| *p).unwrap();
            let Some(step) = find_step(&s.steps, v - s.threshold) else { continue };
            let apply = |base: u32| -> u32 {
                let delta = if s.percent {
                    let mut d = round_percent(base as f64 * step.adjustment / 100.0);
                    if let Some(m) = s.min_magnitude
                        && d != 0
                        && d.abs() < m
                    {
                        d = d.signum() * m;
                    }
                    d
                } else {
                    step.adjustment as i64
                };
                (base as i64 + delta).max(0) as u32
            };
            if step.adjustment > 0.0 {
                // Warming instances are not part of the current capacity when scaling out.
                let want = apply(counts.warm);
                if want > desired {
                    outs.push((want, None));
                }
            } else if step.adjustment < 0.0 {
                let want = apply(desired);
                if want < desired && !(warmup && counts.warming > 0) {
                    ins.push(want);
                }
            }
        }
        // Any scale-out wins (the largest); else the largest scale-in; then the bounds.
        let next = outs.iter().map(|w| w.0).max().or(ins.iter().copied().max()).unwrap_or(desired);
        let next = next.clamp(self.min, self.max);
        if next > desired {
            for (k, p) in self.g.tts.iter().enumerate() {
                self.cooldowns[k].2 = 0;
                if outs.iter().any(|w| w.1 == Some(k)) && t >= self.cooldowns[k].0 {
                    self.cooldowns[k].0 = t + p.out_cooldown;
                    self.cooldowns[k].1 = desired;
                }
            }
        } else if next < desired && !veto {
            for &(_, k) in &tt_ins {
                self.cooldowns[k].2 = t + self.g.tts[k].in_cooldown;
            }
        }
        self.resize(next, t);
        (next, Some(counts))
    }
}

/// Removes instances down to `desired` at `t`: not-ready ones first (newest first), then the
/// most recently ready.
fn shrink(instances: &mut Vec<Instance>, desired: u32, t: u64) {
    while instances.len() as u32 > desired {
        let ready = |i: &Instance| i.launched.is_none_or(|l| t >= l + STARTUP);
        let victim = (0..instances.len())
            .max_by_key(|&k| {
                let i = &instances[k];
                (!ready(i), i.launched.unwrap_or(0), i.seq)
            })
            .unwrap();
        instances.remove(victim);
    }
}

/// The value after `key=` in a metrics note: `Some(None)` for `none`.
fn logged(metrics: &str, key: &str) -> Option<Option<f64>> {
    let at = metrics.find(&format!("{key}="))? + key.len() + 1;
    let rest = &metrics[at..];
    if rest.starts_with("none") {
        return Some(None);
    }
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    Some(Some(rest[..end].parse().unwrap()))
}

fn count(metrics: &str, key: &str) -> u32 {
    logged(metrics, key).flatten().map_or(0, |v| v as u32)
}

fn show(rows: &[DecisionRow], k: usize) -> String {
    rows[k.saturating_sub(4)..(k + 2).min(rows.len())]
        .iter()
        .map(|r| format!("{:>7} {:>2}->{:<2} {} | {}", r.time_s, r.current, r.desired, r.metrics, r.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_decision_of_a_two_day_run_follows_the_documented_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sc = scalesim::config::load(&root.join("tests/fixtures/aws/replay-2days.toml"), &[]).unwrap();
    let groups = groups();
    assert_eq!(
        sc.policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        groups.iter().map(|g| g.name).collect::<Vec<_>>()
    );
    // The three runs in parallel (each is deterministic whatever the scheduling).
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> =
            sc.policies.iter().map(|p| s.spawn(|| simulate(&sc, p, sc.seed, 0, None))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut total = 0;
    for (r, g) in runs.iter().zip(&groups) {
        let rows = &r.decisions;
        let mut model = Model::new(g);
        let (mut changes, mut scheduled) = (0, 0);
        for (k, row) in rows.iter().enumerate() {
            let t = row.time_s as u64;
            assert_eq!(row.time_s, t as f64, "{}: decision off the second grid", g.name);
            // Decisions come every minute (from 1 min) and at each action's time.
            let due = model.fires.get(model.next_fire).is_some_and(|f| f.0 == t);
            assert!(t.is_multiple_of(60) || due, "{}: unexpected decision at {t}\n{}", g.name, show(rows, k));
            if k > 0 {
                let prev = rows[k - 1].time_s as u64;
                assert!(t - prev <= 60, "{}: no decision between {prev} and {t}", g.name);
            }
            let have = model.instances.len() as u32;
            assert_eq!(row.current, have, "{}: group size at {t}\n{}", g.name, show(rows, k));
            let datapoints = t.is_multiple_of(60).then(|| {
                let cpu = logged(&row.metrics, "cpu").unwrap_or(None);
                let alb = logged(&row.metrics, "req/target/min").unwrap_or(None);
                (cpu, alb)
            });
            let (want, counts) = model.decide(t, datapoints);
            if let Some(c) = counts {
                let seen = Counts {
                    warm: count(&row.metrics, "warm"),
                    warming: count(&row.metrics, "warming"),
                    terminating: count(&row.metrics, "terminating"),
                };
                assert_eq!(seen, c, "{}: group counts at {t}\n{}", g.name, show(rows, k));
            }
            assert_eq!(row.desired, want, "{}: decision at {t}\n{}", g.name, show(rows, k));
            changes += (row.desired != row.current) as u32;
            scheduled += row.reason.contains("scheduled action") as u32;
        }
        // A long, eventful run: two days of minutes, every action, scaling both ways.
        // (A decision every minute from 1 min to 47 h 59 min: 2 879, plus off-minute actions.)
        assert!(rows.len() >= 2 * 24 * 60 - 1, "{}: {} decisions", g.name, rows.len());
        assert_eq!(scheduled as usize, model.fires.len(), "{}", g.name);
        assert!(changes >= 20, "{}: only {changes} changes", g.name);
        assert!(rows.iter().any(|r| r.desired < r.current), "{}: never scaled in", g.name);
        assert!(rows.iter().any(|r| r.reason.contains("alarm") || r.reason.contains("step")), "{}", g.name);
        total += rows.len();
    }
    assert!(total >= 3 * (2 * 24 * 60 - 1));
}
