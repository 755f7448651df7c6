//! The discrete-event simulation of one policy over one traffic stream.
//!
//! Exact events, no time step for requests: one pending arrival from the traffic source, a
//! 4-ary heap of service completions ([`heap`]), a small heap of replica events (ready, drain deadline),
//! and three periodic ticks (metric snapshots every second, policy decisions, recording
//! intervals). At equal times the order is fixed — recording, snapshot, replica events,
//! completions, policy, arrival — so a run is a pure function of its inputs.
//!
//! The per-request path allocates nothing and does no hashing or formatting: per-replica FIFO
//! queues (`VecDeque`, reused), integer microsecond times, HDR histograms with fixed buckets.
//! Timeouts: a queued request whose deadline passes leaves the queue (purged lazily but dated
//! exactly); a request in service that would overrun its deadline is abandoned at the deadline
//! (the client gives up and the worker is freed).
//!
//! Overhead (`service.overhead`): each request's latency outside the replica (network, client,
//! framework), drawn once per request in arrival order from its own stream (only when the
//! scenario has one, so scenarios without it draw exactly as before). It occupies no worker and
//! is not in flight at the replica: it is added to the latency of a served request, and a
//! closed-loop user receives the response that much after the replica finished it. It does not
//! count toward the timeout, which bounds the time at the replica (queue and service), as a
//! load balancer's or the server's own timeout does: a request served in time whose overhead
//! takes its latency past `timeout` is served, with that latency.
//!
//! [`simulate_with`] adds optional features that cost nothing when unused ([`Extras`]): a
//! closed-loop user population ([`ClosedLoop`]) whose users send their next request a think time
//! after the previous one ends, explicit recording-interval boundaries, and per-interval latency
//! histograms. The step test of `capacity` uses them.
//!
//! Seams for what comes next (ARCHITECTURE.md, "Seams"), each one type the event loop reaches
//! through: what a replica is (`replica::ReplicaWork`), where replicas run
//! (`placement::Placement`), what happens to a replica at a scheduled time (`Lifecycle`, where
//! faults enter), and who sends requests besides the open-loop traffic (`closed::Clients`).

mod closed;
mod cluster;
mod heap;
mod placement;
mod replica;

pub use closed::ClosedLoop;

use crate::balancer::Balancer;
use crate::metrics::{MetricsHistory, MetricsView, Snapshot};
use crate::policy::Explanation;
use crate::policy::{
    ActivatorBuffer, Decision, Observation, PodPhase, PodView, Policy, PolicySpec, Start, SteadyState,
};
use crate::record::DecisionRow;
use crate::record::{FailReason, Gauges, LatencyHistogram, Recorder, RunResult};
use crate::rng::{SimRng, Stream, stream};
use crate::scenario::Scenario;
use crate::time::{SECOND, Time, from_secs_f64};
use crate::traffic::Arrival;
use closed::Clients;
use cluster::{Cluster, Integral, RState, Waiting};
use heap::Heap4;
use placement::Placement;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};

/// How much metric history policies can look back on.
pub const METRICS_HISTORY: Time = 3600 * SECOND;

/// A request in service: when it ends, on which replica, and its [`Ticket`]. Ordered by time,
/// then by scheduling order (`seq`, unique). 24 bytes, so the heap's sifts move little.
#[derive(Debug, Clone, Copy)]
struct Completion {
    time: Time,
    seq: u64,
    replica: u32,
    ticket: u32,
}

const _: () = assert!(std::mem::size_of::<Completion>() == 24);

/// What a completion needs besides its time, held in [`Tickets`] beside the heap.
#[derive(Debug, Clone, Copy)]
struct Ticket {
    arrival: Time,
    /// Latency outside the replica, added when served.
    overhead: Time,
    timed_out: bool,
}

/// The tickets of the requests in service: slots reused last-freed first, so the live ones
/// stay few and close together.
#[derive(Debug, Default)]
struct Tickets {
    slots: Vec<Ticket>,
    free: Vec<u32>,
}

impl Tickets {
    #[inline]
    fn issue(&mut self, t: Ticket) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = t;
                i
            }
            None => {
                self.slots.push(t);
                (self.slots.len() - 1) as u32
            }
        }
    }

    #[inline]
    fn redeem(&mut self, i: u32) -> Ticket {
        self.free.push(i);
        self.slots[i as usize]
    }
}

impl Completion {
    /// (time, seq) as one number, so that comparing two is one wide comparison, no branch.
    #[inline(always)]
    fn key(&self) -> u128 {
        (self.time as u128) << 64 | self.seq as u128
    }
}

impl PartialEq for Completion {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Completion {}

impl PartialOrd for Completion {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }

    #[inline]
    fn lt(&self, other: &Self) -> bool {
        self.key() < other.key()
    }

    #[inline]
    fn le(&self, other: &Self) -> bool {
        self.key() <= other.key()
    }

    #[inline]
    fn gt(&self, other: &Self) -> bool {
        self.key() > other.key()
    }

    #[inline]
    fn ge(&self, other: &Self) -> bool {
        self.key() >= other.key()
    }
}

impl Ord for Completion {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// What happens to a replica at a scheduled time, apart from its requests' completions: the
/// seam where faults enter the event loop (ARCHITECTURE.md, "Seams"). A crash, a hang, a
/// restart after back-off, a zone or a node lost are further variants, scheduled on the same
/// heap and handled in [`Sim::on_lifecycle`] at the place replica events hold among events at
/// one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Lifecycle {
    /// The replica's start-up ends: it takes traffic.
    Ready,
    /// A draining replica's grace period ends: what it still holds fails as `terminated`.
    DrainDeadline,
}

/// A [`Lifecycle`] event of one replica, ordered by time, then by scheduling order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct LifecycleEvent {
    time: Time,
    seq: u64,
    kind: Lifecycle,
    replica: u32,
}

/// One simulation run.
struct Sim<'a> {
    sc: &'a Scenario,
    timeout: Option<Time>,
    queue_limit: usize,
    workers: u32,
    cluster: Cluster,
    balancer: Balancer,
    lb_rng: SimRng,
    demand_rng: SimRng,
    /// Draws each request's overhead (only when the service has one).
    overhead_rng: SimRng,
    startup_rng: SimRng,
    completions: Heap4<Completion>,
    tickets: Tickets,
    lifecycle: BinaryHeap<Reverse<LifecycleEvent>>,
    seq: u64,
    rec: Recorder,
    arrivals_total: u64,
    served_total: u64,
    inflight: Integral,
    ready: Integral,
    busy_ready: Integral,
    billed: Integral,
    cpu_request_starts: u64,
    desired: u32,
    peak: u32,
    /// Requests held while no replica is ready.
    held: VecDeque<Waiting>,
    activator: Option<ActivatorBuffer>,
    /// A request was held while the policy wanted zero replicas.
    poke: bool,
    pods: Vec<PodView>,
    /// Who sends requests besides the open-loop traffic.
    clients: Clients,
    /// Where replicas run.
    placement: Placement,
    /// Whether each replica's CPU is integrated (the policy reads its pods' CPU).
    pod_cpu: bool,
}

impl<'a> Sim<'a> {
    /// The state of a run at time 0: `initial` replicas ready (and billed), every random
    /// stream seeded from `seed`, nothing in flight.
    fn new(sc: &'a Scenario, policy: &PolicySpec, seed: u64, initial: u32, extras: &Extras) -> Self {
        let svc = &sc.service;
        let mut sim = Sim {
            sc,
            timeout: svc.timeout,
            queue_limit: svc.queue_limit.map_or(usize::MAX, |q| q as usize),
            workers: svc.workers.max(1),
            cluster: Cluster::default(),
            balancer: Balancer::new(sc.balancer),
            lb_rng: stream(seed, Stream::Balancer),
            demand_rng: stream(seed, Stream::Demand),
            overhead_rng: stream(seed, Stream::Overhead),
            startup_rng: stream(seed, Stream::Startup),
            completions: Heap4::with_capacity(1024),
            tickets: Tickets::default(),
            lifecycle: BinaryHeap::new(),
            seq: 0,
            rec: Recorder::new(sc.slo.clone(), &sc.cost)
                .with_limits(policy.min, policy.max)
                .with_warmup(sc.warmup),
            arrivals_total: 0,
            served_total: 0,
            inflight: Integral::default(),
            ready: Integral::default(),
            busy_ready: Integral::default(),
            billed: Integral::default(),
            cpu_request_starts: 0,
            desired: initial,
            peak: 0,
            held: VecDeque::new(),
            activator: policy.activator,
            poke: false,
            pods: Vec::new(),
            clients: Clients::new(extras.closed_loop.clone(), seed),
            placement: Placement::Unbounded,
            pod_cpu: true,
        };
        for _ in 0..initial {
            sim.cluster.add(0, RState::Ready, svc.cpu.idle_cores);
            sim.ready.add(0, 1.0);
            sim.billed.add(0, 1.0);
        }
        sim.peak = initial;
        sim.rec.on_ready(0, sim.cluster.ready_count());
        sim.rec.on_desired(0, initial);
        sim
    }

    /// A policy tick at `t`: the observation (replica counts, metrics, pods, held requests) goes
    /// to the controller; a decision is logged, clamped to the policy's bounds and applied.
    /// Returns the decision [`Extras::explain_at`] asked for, which ends the run.
    fn on_policy_tick(
        &mut self,
        t: Time,
        controller: &mut dyn Policy,
        history: &MetricsHistory,
        policy: &PolicySpec,
        extras: &Extras,
    ) -> Option<ExplainedDecision> {
        let (ready, starting, draining) =
            (self.cluster.ready_count(), self.cluster.starting, self.cluster.draining);
        let current = ready + starting;
        self.fill_pods(t);
        let view = MetricsView {
            history,
            now: self.snapshot(t),
            cpu_request_cores: self.sc.service.cpu.request_cores,
        };
        let seen = Observation {
            now: t,
            clock: &self.sc.clock,
            current,
            ready,
            starting,
            draining,
            metrics: view,
            pods: &self.pods,
            buffered: self.held.len() as u32,
        };
        let mut explanation = None;
        let decided = if extras.explain_at.is_some_and(|a| t >= a) {
            controller.explain(&seen).map(|(d, e)| {
                explanation = Some(e);
                d
            })
        } else {
            controller.decide(&seen)
        };
        let Decision { desired, reason, metrics, proposal, stabilized, limited } = decided?;
        let desired = desired.clamp(policy.min, policy.max);
        let row = DecisionRow {
            time_s: 0.0,
            current: self.desired,
            ready,
            metrics,
            proposal,
            stabilized,
            limited,
            desired,
            reason,
        };
        if let Some(explanation) = explanation {
            let mut row = row;
            row.time_s = crate::time::to_secs_f64(t);
            return Some(ExplainedDecision { row, explanation });
        }
        self.rec.on_decision(t, row);
        self.rec.on_desired(t, desired);
        self.desired = desired;
        if desired != current {
            self.scale_to(t, desired);
        }
        None
    }

    /// A closed-loop user's think time ends at `t`: it sends a request (or has retired).
    fn on_user(&mut self, t: Time) {
        if self.clients.step(t) {
            self.on_arrival(Arrival { time: t, ..Arrival::default() });
        }
    }

    #[inline(always)]
    fn push_completion(&mut self, time: Time, replica: u32, w: Waiting, timed_out: bool) {
        self.seq += 1;
        let ticket = self.tickets.issue(Ticket { arrival: w.arrival, overhead: w.overhead, timed_out });
        self.completions.push(Completion { time, seq: self.seq, replica, ticket });
    }

    fn push_lifecycle(&mut self, time: Time, kind: Lifecycle, replica: u32) {
        self.seq += 1;
        self.lifecycle.push(Reverse(LifecycleEvent { time, seq: self.seq, kind, replica }));
    }

    /// `n` requests ended at `at` (noticed at `now`): closed-loop users start thinking.
    #[inline]
    fn ended(&mut self, at: Time, now: Time, n: u64) {
        self.clients.ended(at, now, n);
    }

    fn snapshot(&self, now: Time) -> Snapshot {
        let cpu = &self.sc.service.cpu;
        Snapshot {
            t: now,
            arrivals: self.arrivals_total,
            served: self.served_total,
            inflight_integral: self.inflight.at(now),
            cpu_seconds: cpu.idle_cores * self.ready.at(now)
                + cpu.per_request_cpu_s * self.cpu_request_starts as f64
                + cpu.busy_worker_cores * self.busy_ready.at(now),
            ready_replica_seconds: self.ready.at(now),
        }
    }

    fn gauges(&self) -> Gauges {
        let c = &self.cluster;
        Gauges { desired: self.desired, starting: c.starting, ready: c.ready_count(), draining: c.draining }
    }

    /// Starts service of a request on replica `r` at `now`.
    #[inline(always)]
    fn start_service(&mut self, r: u32, now: Time, w: Waiting) {
        let cpu = &self.sc.service.cpu;
        let rep = &mut self.cluster.replicas[r as usize];
        let busy = rep.work.start();
        if self.pod_cpu {
            rep.cpu.add(now, cpu.busy_worker_cores);
            rep.cpu.value += cpu.per_request_cpu_s;
        }
        if rep.state == RState::Ready {
            self.busy_ready.add(now, 1.0);
            self.cpu_request_starts += 1;
        }
        let st = self.sc.service.service_time(w.demand, busy);
        let mut end = now + from_secs_f64(st);
        let mut timed_out = false;
        if let Some(to) = self.timeout {
            let deadline = w.arrival + to;
            if end > deadline {
                end = deadline;
                timed_out = true;
            }
        }
        self.push_completion(end, r, w, timed_out);
    }

    /// Drops queued requests of replica `r` whose deadline has passed by `now`.
    fn purge_expired(&mut self, r: u32, now: Time) {
        let Some(to) = self.timeout else { return };
        while let Some(front) = self.cluster.replicas[r as usize].work.oldest_waiting() {
            let deadline = front.arrival + to;
            if deadline > now {
                break;
            }
            self.cluster.replicas[r as usize].work.take_oldest();
            self.rec.on_failed(FailReason::Timeout, 1);
            // It left at its deadline, not now.
            self.inflight.add(now, -1.0);
            self.inflight.value -= (now - deadline) as f64 * 1e-6;
            self.ended(deadline, now, 1);
        }
    }

    #[inline(always)]
    fn on_arrival(&mut self, a: Arrival) {
        let now = a.time;
        self.arrivals_total += 1;
        self.rec.on_arrival();
        // Drawn for every request, whatever happens to it: request k has the same demand under
        // every policy.
        let demand = self.sc.service.demand.sample(&a, &mut self.demand_rng);
        let overhead = match &self.sc.service.overhead {
            Some(d) => from_secs_f64(d.sample(&mut self.overhead_rng).max(0.0)),
            None => 0,
        };
        let w = Waiting { arrival: now, demand, overhead };
        if self.cluster.active.is_empty() {
            if self.activator.is_some() {
                // Requests whose wait is over leave first, freeing their places.
                self.purge_held(now);
            }
            match self.activator {
                Some(b) if (self.held.len() as u64) < b.capacity as u64 => {
                    self.held.push_back(w);
                    self.inflight.add(now, 1.0);
                    self.poke |= self.desired == 0;
                }
                _ => {
                    self.rec.on_failed(FailReason::NoReplica, 1);
                    self.ended(now, now, 1);
                }
            }
            return;
        }
        self.dispatch(now, w);
    }

    /// Sends a request (arrived at `arrival`) to a ready replica chosen by the balancer; the
    /// request is not yet counted in flight.
    #[inline(always)]
    fn dispatch(&mut self, now: Time, w: Waiting) {
        let n = self.cluster.active.len();
        let cl = &self.cluster;
        let idx =
            self.balancer.pick(n, |i| cl.replicas[cl.active[i] as usize].outstanding(), &mut self.lb_rng);
        let r = self.cluster.active[idx];
        if self.cluster.replicas[r as usize].work.can_start(self.workers) {
            self.inflight.add(now, 1.0);
            self.start_service(r, now, w);
            return;
        }
        if self.timeout.is_some() {
            self.purge_expired(r, now);
        }
        if self.cluster.replicas[r as usize].work.enqueue(w, self.queue_limit) {
            self.inflight.add(now, 1.0);
        } else {
            self.rec.on_failed(FailReason::QueueFull, 1);
            self.ended(now, now, 1);
        }
    }

    /// When a held request gives up: the activator's wait limit (`no_replica`) or the client
    /// timeout (`timeout`), whichever comes first.
    fn held_deadline(&self, arrival: Time) -> (Time, FailReason) {
        let wait = self.activator.map_or(Time::MAX, |b| arrival.saturating_add(b.max_wait));
        match self.timeout {
            Some(to) if arrival.saturating_add(to) < wait => (arrival + to, FailReason::Timeout),
            _ => (wait, FailReason::NoReplica),
        }
    }

    /// Fails held requests whose deadline has passed by `now` (dated at their deadline).
    fn purge_held(&mut self, now: Time) {
        while let Some(front) = self.held.front() {
            let (deadline, reason) = self.held_deadline(front.arrival);
            if deadline > now {
                break;
            }
            self.held.pop_front();
            self.rec.on_failed(reason, 1);
            self.inflight.add(now, -1.0);
            self.inflight.value -= (now - deadline) as f64 * 1e-6;
            self.ended(deadline, now, 1);
        }
    }

    /// Sends every held request to the ready replicas, oldest first.
    fn release_held(&mut self, now: Time) {
        self.purge_held(now);
        while !self.cluster.active.is_empty() {
            let Some(w) = self.held.pop_front() else { break };
            // It stops being counted as held and is counted again by `dispatch`.
            self.inflight.add(now, -1.0);
            self.dispatch(now, w);
        }
    }

    #[inline(always)]
    fn on_completion(&mut self, c: Completion) {
        let now = c.time;
        let r = c.replica;
        let t = self.tickets.redeem(c.ticket);
        let rep = &mut self.cluster.replicas[r as usize];
        if rep.state == RState::Gone {
            return; // already failed as `terminated` at the drain deadline
        }
        rep.work.finish();
        if self.pod_cpu {
            rep.cpu.add(now, -self.sc.service.cpu.busy_worker_cores);
        }
        if rep.state == RState::Ready {
            self.busy_ready.add(now, -1.0);
        }
        self.inflight.add(now, -1.0);
        if t.timed_out {
            self.rec.on_failed(FailReason::Timeout, 1);
            self.ended(now, now, 1);
        } else {
            self.served_total += 1;
            self.rec.on_served(now - t.arrival + t.overhead);
            // The client has the response `overhead` after the replica finished it.
            self.ended(now + t.overhead, now, 1);
        }
        if self.timeout.is_some() {
            self.purge_expired(r, now);
        }
        if let Some(w) = self.cluster.replicas[r as usize].work.take_oldest() {
            self.start_service(r, now, w);
        } else {
            let rep = &self.cluster.replicas[r as usize];
            if rep.state == RState::Draining && rep.work.in_service() == 0 {
                self.remove(r, now);
            }
        }
    }

    /// The replica is gone: billing stops.
    fn remove(&mut self, r: u32, now: Time) {
        let was = self.cluster.replicas[r as usize].state;
        self.cluster.set_state(r, RState::Gone);
        match was {
            RState::Starting | RState::Draining => {}
            RState::Ready => {
                // Only via cancellation paths that first drain; kept for completeness.
                self.ready.add(now, -1.0);
                self.rec.on_ready(now, self.cluster.ready_count());
            }
            RState::Gone => return,
        }
        self.billed.add(now, -1.0);
    }

    fn on_lifecycle(&mut self, c: LifecycleEvent) {
        let now = c.time;
        let r = c.replica;
        match c.kind {
            Lifecycle::Ready => {
                if self.cluster.replicas[r as usize].state == RState::Starting {
                    self.cluster.set_state(r, RState::Ready);
                    self.cluster.replicas[r as usize].ready_at = Some(now);
                    self.ready.add(now, 1.0);
                    self.rec.on_ready(now, self.cluster.ready_count());
                    if !self.held.is_empty() {
                        self.release_held(now);
                    }
                }
            }
            Lifecycle::DrainDeadline => {
                let rep = &mut self.cluster.replicas[r as usize];
                if rep.state == RState::Draining {
                    let n = rep.work.drop_all();
                    self.rec.on_failed(FailReason::Terminated, n);
                    self.inflight.add(now, -(n as f64));
                    self.ended(now, now, n);
                    self.remove(r, now);
                }
            }
        }
    }

    /// Fills `self.pods` with what the Kubernetes API would show at `now`.
    fn fill_pods(&mut self, now: Time) {
        self.pods.clear();
        let request = self.sc.service.cpu.request_cores;
        for &r in &self.cluster.alive {
            let rep = &self.cluster.replicas[r as usize];
            let running = now >= rep.started;
            self.pods.push(PodView {
                id: r,
                phase: if running { PodPhase::Running } else { PodPhase::Pending },
                ready: rep.state == RState::Ready,
                deleting: rep.state == RState::Draining,
                requested_at: rep.created,
                start_time: running.then_some(rep.started),
                ready_transition: rep.ready_at.unwrap_or(rep.started),
                cpu_request: request,
                cpu_seconds: if self.pod_cpu { rep.cpu.at(now) } else { f64::NAN },
                in_flight: rep.outstanding(),
                memory_bytes: self.sc.service.memory.usage(rep.outstanding()),
                memory_request: self.sc.service.memory.request_bytes,
            });
        }
    }

    /// Brings the number of non-draining replicas to `desired`.
    fn scale_to(&mut self, now: Time, desired: u32) {
        let current = self.cluster.current();
        if desired > current {
            for _ in current..desired {
                let startup = from_secs_f64(self.sc.service.startup.sample(&mut self.startup_rng));
                let pending = match &self.sc.service.pending {
                    Some(d) => from_secs_f64(d.sample(&mut self.startup_rng)).min(startup),
                    None => 0,
                };
                let placed = self.placement.place(now, pending, startup);
                let r = self.cluster.add(now, RState::Starting, self.sc.service.cpu.idle_cores);
                self.cluster.replicas[r as usize].started = placed.running;
                self.billed.add(now, 1.0);
                self.push_lifecycle(placed.ready, Lifecycle::Ready, r);
            }
        } else {
            for _ in desired..current {
                // Not-ready replicas go first (newest first), then the newest ready ones drain.
                if let Some(r) = self.cluster.newest(RState::Starting) {
                    self.remove(r, now);
                } else if let Some(r) = self.cluster.newest(RState::Ready) {
                    let busy = self.cluster.replicas[r as usize].work.in_service();
                    self.cluster.set_state(r, RState::Draining);
                    self.ready.add(now, -1.0);
                    self.rec.on_ready(now, self.cluster.ready_count());
                    self.busy_ready.add(now, -(busy as f64));
                    if self.cluster.replicas[r as usize].work.is_idle() {
                        self.remove(r, now);
                    } else {
                        self.push_lifecycle(now + self.sc.service.grace, Lifecycle::DrainDeadline, r);
                    }
                }
            }
        }
        self.peak = self.peak.max(self.cluster.billed());
    }
}

/// How many replicas `policy` starts with on `sc` (all ready at time 0): its `initial`, or its
/// steady state ([`Start::Steady`]: the policy's own decision on the rate at time 0, clamped to
/// [min, max]; the metric history is then pre-filled with that steady state).
pub fn start_count(
    sc: &Scenario,
    policy: &PolicySpec,
    controller: &mut dyn crate::policy::Policy,
    history: &mut MetricsHistory,
) -> u32 {
    if policy.start != Start::Steady {
        return policy.initial;
    }
    let steady = SteadyState::of(sc);
    match controller.start_steady(&steady, policy.min, policy.max) {
        Some(n) => {
            let n = n.clamp(policy.min, policy.max);
            history.set_prior(steady.prior(n));
            n
        }
        None => policy.initial,
    }
}

/// The replicas each policy of `sc` starts with, and the steady state they start from
/// (`validate`): the same computation as a run's ([`start_count`]).
pub fn start_counts(sc: &Scenario) -> (SteadyState, Vec<u32>) {
    let run = crate::policy::RunContext {
        clock: &sc.clock,
        horizon: sc.duration,
        seed: sc.seed,
        traffic: &sc.traffic,
        demand: &sc.service.demand,
    };
    let counts = sc
        .policies
        .iter()
        .map(|p| {
            if p.start != Start::Steady {
                return p.initial;
            }
            let mut c = p.build(&run);
            start_count(sc, p, c.as_mut(), &mut MetricsHistory::new(SECOND))
        })
        .collect();
    (SteadyState::of(sc), counts)
}

/// Runs `policy` on `scenario` with `seed`; `progress` (if any) receives simulated microseconds
/// as recording intervals close.
pub fn simulate(
    scenario: &Scenario,
    policy: &PolicySpec,
    seed: u64,
    replication: u32,
    progress: Option<&AtomicU64>,
) -> RunResult {
    simulate_detailed(scenario, policy, seed, replication, progress).0
}

/// Raw measurements of a run beyond its [`RunResult`], for validation against queueing theory
/// and for the step test.
#[derive(Debug, Clone)]
pub struct RunDetail {
    /// Latencies of served requests, microseconds.
    pub latency_us: LatencyHistogram,
    /// ∫ requests in the system dt over the run, request-seconds (L = this / duration).
    pub in_flight_integral: f64,
    /// The cumulative counters at the end of each recording interval, in order (one per
    /// `RunResult::intervals` row).
    pub interval_ends: Vec<Snapshot>,
    /// Latencies (µs) of the requests served in each recording interval, when
    /// [`Extras::interval_histograms`] asked for them; empty otherwise.
    pub interval_histograms: Vec<LatencyHistogram>,
    /// The decision [`Extras::explain_at`] asked for (the run stopped after it), if one was
    /// made before the horizon.
    pub explained: Option<ExplainedDecision>,
}

/// One decision of a run with its full account (`scalesim explain decision`).
#[derive(Debug, Clone)]
pub struct ExplainedDecision {
    /// The row the run logs for it (as in `decisions.csv`).
    pub row: DecisionRow,
    /// The policy's account.
    pub explanation: Explanation,
}

/// Optional engine features, all off by default (and then free).
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// A closed-loop user population sending requests in addition to the scenario's traffic.
    pub closed_loop: Option<ClosedLoop>,
    /// Explicit recording-interval ends (increasing; the horizon always ends the last one)
    /// instead of every `record_interval`.
    pub record_marks: Option<Vec<Time>>,
    /// Keep each recording interval's latency histogram in [`RunDetail::interval_histograms`].
    pub interval_histograms: bool,
    /// A warm-up: the run's summary (requests, latencies, failures, cost, scaling actions,
    /// peak replicas, SLO-violation minutes) counts only what happens from the first
    /// recording-interval boundary at or after this time; the interval rows, the decisions and
    /// the ready-replica curve keep the whole run. 0 (the default) measures everything.
    pub measure_from: Time,
    /// Explain the first decision at or after this time and stop the run there (the policy's
    /// [`Policy::explain`] replaces `decide` from then on).
    pub explain_at: Option<Time>,
    /// Stop the run at the end of the first recording interval that violates the SLO (after
    /// the warm-up), to answer "does it meet the SLO?" (the oracle's capacity search) without
    /// simulating the rest. The result is then only good for that answer: its rows end there,
    /// and its summary mixes the part simulated with whole-horizon figures (billing).
    pub stop_at_slo_violation: bool,
}

/// [`simulate`], also returning the raw [`RunDetail`].
pub fn simulate_detailed(
    scenario: &Scenario,
    policy: &PolicySpec,
    seed: u64,
    replication: u32,
    progress: Option<&AtomicU64>,
) -> (RunResult, RunDetail) {
    simulate_with(scenario, policy, seed, replication, progress, &Extras::default())
}

/// [`simulate_detailed`] with optional [`Extras`]: the event loop. Each turn takes the earliest
/// event — at equal times in the fixed order record, snapshot, replica event, completion,
/// policy, closed-loop user, arrival — and hands it to its handler.
pub fn simulate_with(
    scenario: &Scenario,
    policy: &PolicySpec,
    seed: u64,
    replication: u32,
    progress: Option<&AtomicU64>,
    extras: &Extras,
) -> (RunResult, RunDetail) {
    let sc = scenario;
    let horizon = sc.duration;
    let run = crate::policy::RunContext {
        clock: &sc.clock,
        horizon,
        seed,
        traffic: &sc.traffic,
        demand: &sc.service.demand,
    };
    let mut controller = policy.build(&run);
    if extras.explain_at.is_some() {
        controller.prepare_explain();
    }
    let mut history = MetricsHistory::new(METRICS_HISTORY);
    let initial = start_count(sc, policy, controller.as_mut(), &mut history);
    let mut sim = Sim::new(sc, policy, seed, initial, extras);
    sim.pod_cpu = controller.reads_pod_cpu();
    let mut source = sc.traffic.source(seed, &sc.clock, horizon);
    let mut pending = source.next_arrival();
    history.push(sim.snapshot(0));
    let mut ticks = Ticks::new(sc, extras, controller.next_tick(None), sim.snapshot(0));
    let mut explained = None;
    let open_loop = sim.clients.is_open();
    loop {
        if open_loop {
            // The hot path: requests' arrivals and completions strictly before the next other
            // event (tick, replica event), in the loop's order (a completion before an arrival
            // at the same instant). Neither handler schedules another kind of event, except a
            // poke, which ends the stretch.
            let t_other = sim.lifecycle.peek().map_or(Time::MAX, |c| c.0.time).min(ticks.next());
            loop {
                let t_arrival = pending.map_or(Time::MAX, |a| a.time);
                let t_completion = sim.completions.peek().map_or(Time::MAX, |c| c.time);
                if t_completion <= t_arrival {
                    if t_completion >= t_other {
                        break;
                    }
                    let c = sim.completions.pop().expect("peeked");
                    sim.on_completion(c);
                } else {
                    if t_arrival >= t_other {
                        break;
                    }
                    let a = pending.take().expect("arrival is the next event");
                    sim.on_arrival(a);
                    pending = source.next_arrival();
                    if sim.poke {
                        // As below (the same lines, kept inline: moving them into a shared
                        // function made the whole loop 5-10 % slower, measured).
                        sim.poke = false;
                        if controller.poke_on_demand() {
                            ticks.next_policy = ticks.next_policy.min(t_arrival);
                        }
                        break;
                    }
                }
            }
        }
        let t_arrival = pending.map_or(Time::MAX, |a| a.time);
        let t_completion = sim.completions.peek().map_or(Time::MAX, |c| c.time);
        let t_lifecycle = sim.lifecycle.peek().map_or(Time::MAX, |c| c.0.time);
        let t_tick = ticks.next();
        let t_users = sim.clients.next_time();
        let t = t_arrival.min(t_completion).min(t_lifecycle).min(t_tick).min(t_users);
        if t > horizon {
            break;
        }
        if t == t_tick && t == ticks.next_record {
            if ticks.close_interval(&mut sim, t, progress) {
                break;
            }
        } else if t == t_tick && t == ticks.next_sample {
            history.push(sim.snapshot(t));
            ticks.next_sample += MetricsHistory::RESOLUTION;
        } else if t == t_lifecycle {
            let Reverse(c) = sim.lifecycle.pop().expect("peeked");
            sim.on_lifecycle(c);
        } else if t == t_completion {
            let c = sim.completions.pop().expect("peeked");
            sim.on_completion(c);
        } else if t == t_tick && t == ticks.next_policy {
            explained = sim.on_policy_tick(t, controller.as_mut(), &history, policy, extras);
            if explained.is_some() {
                break;
            }
            ticks.next_policy = controller.next_tick(Some(t)).max(t + 1);
        } else if t == t_users {
            sim.on_user(t);
        } else {
            let a = pending.take().expect("arrival is the next event");
            sim.on_arrival(a);
            pending = source.next_arrival();
            if sim.poke {
                // A request is held while the policy wants no replica: it may decide right away.
                sim.poke = false;
                if controller.poke_on_demand() {
                    ticks.next_policy = ticks.next_policy.min(t);
                }
            }
        }
    }
    let detail = RunDetail {
        latency_us: sim.rec.latency_histogram().clone(),
        in_flight_integral: sim.inflight.at(horizon),
        interval_ends: ticks.interval_ends,
        interval_histograms: ticks.interval_histograms,
        explained,
    };
    let in_flight = sim.cluster.in_flight() + sim.held.len() as u64;
    let billed = sim.billed.at(horizon);
    let mut result = sim.rec.finish(
        &policy.name,
        replication,
        seed,
        in_flight,
        billed - ticks.billed_at_measure,
        sim.peak,
    );
    result.foresight = controller.foresight();
    (result, detail)
}

/// The periodic ticks of a run — recording-interval ends, 1 s metric snapshots, policy
/// evaluations — and what closing an interval needs from the one before.
struct Ticks<'e> {
    extras: &'e Extras,
    horizon: Time,
    record: Time,
    warmup: Time,
    next_record: Time,
    next_sample: Time,
    next_policy: Time,
    last_record: Time,
    billed_at_last_record: f64,
    snap_at_last_record: Snapshot,
    /// Whether the summary measures yet (the warm-up of [`Extras::measure_from`] is over).
    measuring: bool,
    billed_at_measure: f64,
    interval_ends: Vec<Snapshot>,
    interval_histograms: Vec<LatencyHistogram>,
}

impl<'e> Ticks<'e> {
    /// The ticks of a run starting at 0, the policy's first at `first_policy`.
    fn new(sc: &Scenario, extras: &'e Extras, first_policy: Time, snap0: Snapshot) -> Self {
        let mut ticks = Ticks {
            extras,
            horizon: sc.duration,
            record: sc.record_interval.max(1),
            warmup: sc.warmup,
            next_record: 0,
            next_sample: MetricsHistory::RESOLUTION,
            next_policy: first_policy,
            last_record: 0,
            billed_at_last_record: 0.0,
            snap_at_last_record: snap0,
            measuring: extras.measure_from == 0,
            billed_at_measure: 0.0,
            interval_ends: Vec::new(),
            interval_histograms: Vec::new(),
        };
        ticks.next_record = ticks.boundary_after(0);
        ticks
    }

    /// The earliest tick.
    #[inline]
    fn next(&self) -> Time {
        self.next_record.min(self.next_sample).min(self.next_policy)
    }

    /// The recording-interval boundary after `t`: the next multiple of the interval, the
    /// warm-up's end (so every interval is either in it or out), or the next explicit mark.
    fn boundary_after(&self, t: Time) -> Time {
        let (record, warmup, horizon) = (self.record, self.warmup, self.horizon);
        match &self.extras.record_marks {
            // (The next multiple of the interval: the same as t + record on the grid.)
            None if t < warmup => ((t / record + 1) * record).min(warmup).min(horizon),
            None => ((t / record + 1) * record).min(horizon),
            Some(marks) => marks.iter().copied().find(|&m| m > t).unwrap_or(horizon).min(horizon),
        }
    }

    /// Closes the recording interval [last boundary, t): purges expired queue heads so timeouts
    /// are dated inside it, records the interval's row, and starts measuring at the end of the
    /// warm-up. Returns whether the run stops here (the horizon, or the first SLO-violating
    /// interval when [`Extras::stop_at_slo_violation`] asks for it).
    fn close_interval(&mut self, sim: &mut Sim<'_>, t: Time, progress: Option<&AtomicU64>) -> bool {
        if sim.timeout.is_some() {
            for i in 0..sim.cluster.alive.len() {
                let r = sim.cluster.alive[i];
                sim.purge_expired(r, t);
            }
        }
        sim.purge_held(t);
        let snap = sim.snapshot(t);
        let svc = &sim.sc.service;
        let rs = snap.ready_replica_seconds - self.snap_at_last_record.ready_replica_seconds;
        let cpu = (rs > 1e-9 && svc.cpu.request_cores > 0.0).then(|| {
            (snap.cpu_seconds - self.snap_at_last_record.cpu_seconds) / (rs * svc.cpu.request_cores)
        });
        let billed = sim.billed.at(t);
        let g = sim.gauges();
        if self.extras.interval_histograms {
            self.interval_histograms.push(sim.rec.interval_histogram().clone());
        }
        self.interval_ends.push(snap);
        sim.rec.close_interval(t, g, cpu, billed - self.billed_at_last_record, billed);
        if let Some(p) = progress {
            p.fetch_add(t - self.last_record, Ordering::Relaxed);
        }
        if t == self.warmup {
            // Peak replicas count from the end of the warm-up.
            sim.peak = sim.cluster.billed();
        }
        self.last_record = t;
        self.billed_at_last_record = billed;
        self.snap_at_last_record = snap;
        if !self.measuring && t >= self.extras.measure_from {
            // The warm-up ends: the summary starts here.
            self.measuring = true;
            sim.rec.start_measuring();
            self.billed_at_measure = billed;
            sim.peak = sim.cluster.billed();
        }
        self.next_record = if t >= self.horizon { Time::MAX } else { self.boundary_after(t) };
        t >= self.horizon || (self.extras.stop_at_slo_violation && sim.rec.slo_violated())
    }
}

#[cfg(test)]
mod tests;
