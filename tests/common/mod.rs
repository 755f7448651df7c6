//! Shared builders for library-level integration tests.
#![allow(dead_code)]

use scalesim::balancer::BalancerKind;
use scalesim::dist::Dist;
use scalesim::policy::PolicySpec;
use scalesim::scenario::{CostModel, Scenario};
use scalesim::service::{CpuModel, Demand, MemoryModel, ServiceModel};
use scalesim::time::{Clock, SECOND};
use scalesim::traffic::TrafficSpec;

/// A replica with `workers` slots and exponential service of mean `mean_s`, unbounded queue.
pub fn mmc_service(workers: u32, mean_s: f64) -> ServiceModel {
    ServiceModel {
        workers,
        queue_limit: None,
        timeout: None,
        demand: Demand::Dist(Dist::exponential(mean_s)),
        slowdown: None,
        overhead: None,
        startup: Dist::Deterministic { value: 0.0 },
        pending: None,
        grace: 3600 * SECOND,
        cpu: CpuModel::default(),
        memory: MemoryModel::default(),
        llm: None,
    }
}

/// Poisson traffic at `rate` for `secs` against `service`, with the given policies.
pub fn scenario(rate: f64, secs: u64, service: ServiceModel, policies: Vec<PolicySpec>) -> Scenario {
    Scenario {
        name: "test".into(),
        duration: secs * SECOND,
        clock: Clock::utc_monday(secs * SECOND),
        seed: 1,
        record_interval: 60 * SECOND,
        warmup: 0,
        slo: None,
        traffic: TrafficSpec::constant_poisson(rate),
        service,
        balancer: BalancerKind::RoundRobin,
        cost: CostModel { per_replica_hour: 1.0, currency: "USD".into() },
        policies,
    }
}
