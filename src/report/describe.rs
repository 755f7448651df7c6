//! What `scalesim validate` prints: a checked scenario described in words — its clock,
//! traffic (and the traces behind it), replica model, each policy's rules and where it starts,
//! the SLO and cost — so that a reader sees what a run would do before running it.

use crate::dist::Dist;
use crate::policy::{AwsPolicySpec, MetricRule, PolicyKind, PolicySpec};
use crate::scenario::Scenario;
use crate::service::Demand;
use crate::time::{Time, to_secs_f64};
use crate::traffic::trace::summary::TraceInfo;
use std::fmt::Write;

fn dur(t: Time) -> String {
    humantime::format_duration(std::time::Duration::from_micros(t)).to_string()
}

fn secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3}s").replace(".000s", "s")
    } else {
        format!("{:.1}ms", s * 1000.0).replace(".0ms", "ms")
    }
}

fn dist(d: &Dist) -> String {
    match d {
        Dist::Deterministic { value } => format!("deterministic {}", secs(*value)),
        Dist::Exponential { mean } => format!("exponential, mean {}", secs(*mean)),
        Dist::LogNormal { sigma, .. } => format!("lognormal, mean {}, sigma {sigma:.3}", secs(d.mean())),
        Dist::Gamma { shape, .. } => format!("gamma, mean {}, shape {shape:.3}", secs(d.mean())),
        Dist::Uniform { low, high } => format!("uniform {} to {}", secs(*low), secs(*high)),
        Dist::Empirical { samples } => {
            format!("empirical, {} samples, mean {}", samples.len(), secs(d.mean()))
        }
    }
}

/// An aws policy, with the defaults where scalesim differs from AWS spelled out.
fn aws_rules(a: &AwsPolicySpec, sim_tz: chrono_tz::Tz) -> String {
    let mut s = format!(
        "aws: {} target tracking, {} step scaling, {} scheduled actions, on 60s datapoints; ",
        a.target_tracking.len(),
        a.step_scaling.len(),
        a.scheduled.len()
    );
    match a.instance_warmup {
        Some(w) => {
            let _ = write!(s, "instance warm-up {} (EC2 model)", dur(w));
        }
        None => s.push_str(
            "no instance_warmup: Application Auto Scaling model (cooldowns, no warm-up), \
             where an EC2 group without a default warm-up warms instances for its default \
             cooldown (300s)",
        ),
    }
    if !a.scheduled.is_empty() {
        let _ = write!(
            s,
            "; scheduled actions without `timezone` are read in simulation.timezone ({}){}",
            sim_tz.name(),
            if sim_tz == chrono_tz::UTC { ", as AWS does" } else { ", where AWS uses UTC" }
        );
    }
    s
}

fn rules(p: &PolicySpec, sim_tz: chrono_tz::Tz) -> String {
    let b = match &p.kind {
        PolicyKind::Aws(a) => return aws_rules(a, sim_tz),
        PolicyKind::Oracle(o) => {
            return format!(
                "oracle (perfect foresight): {:.2} req/s per replica ({}), per-{} demand from the peak {} rate, replicas requested {} ahead",
                o.capacity_rps,
                o.capacity_source,
                dur(o.interval),
                dur(o.window),
                dur(o.lead)
            );
        }
        PolicyKind::Basic(b) => b,
        PolicyKind::Fixed => return format!("always {} replicas", p.min),
        PolicyKind::Hpa(h) => {
            let metrics: Vec<String> = h.hpa.with_defaults().metrics.iter().map(|m| m.label()).collect();
            return format!(
                "HPA every {}: {}; {}",
                dur(h.sync_period),
                metrics.join(", "),
                if h.hpa.behavior.is_some() { "with behavior" } else { "no behavior (legacy path)" }
            );
        }
        PolicyKind::Keda(k) => {
            let triggers: Vec<&str> = k
                .keda
                .triggers
                .iter()
                .map(|t| match t {
                    crate::policy::keda::KedaTrigger::Cpu { .. } => "cpu",
                    crate::policy::keda::KedaTrigger::Prometheus { .. } => "prometheus",
                    crate::policy::keda::KedaTrigger::Cron { .. } => "cron",
                })
                .collect();
            return format!(
                "KEDA polling {}, cooldown {}: triggers {} over an HPA every {}",
                dur(k.keda.polling_interval),
                dur(k.keda.cooldown_period),
                triggers.join(", "),
                dur(k.hpa.sync_period)
            );
        }
        PolicyKind::Knative(k) => {
            return format!(
                "Knative KPA every 2s: {:?} target {}, stable window {}, scale to zero {}",
                k.metric,
                k.target.map_or("default".to_string(), |t| t.to_string()),
                dur(k.stable_window),
                if k.enable_scale_to_zero && p.min == 0 { "allowed" } else { "off" }
            );
        }
    };
    let mut parts: Vec<String> = b
        .metrics
        .iter()
        .map(|m| match m {
            MetricRule::Rps { target, tolerance, window } => {
                format!("rps {target}/replica ±{:.0}% over {}", tolerance * 100.0, dur(*window))
            }
            MetricRule::Cpu { target, tolerance, window } => {
                format!("cpu {:.0}% ±{:.0}% over {}", target * 100.0, tolerance * 100.0, dur(*window))
            }
            MetricRule::Concurrency { target, tolerance, window } => {
                format!("concurrency {target}/replica ±{:.0}% over {}", tolerance * 100.0, dur(*window))
            }
        })
        .collect();
    for w in &b.schedules {
        parts.push(format!(
            "{} replicas from \"{}\" to \"{}\" ({})",
            w.replicas,
            w.start,
            w.end,
            w.tz.name()
        ));
    }
    let mut s = format!("every {}: {}", dur(b.interval), parts.join("; "));
    if b.down_stabilization > 0 {
        let _ = write!(s, "; scale-down stabilization {}", dur(b.down_stabilization));
    }
    if b.up_stabilization > 0 {
        let _ = write!(s, "; scale-up stabilization {}", dur(b.up_stabilization));
    }
    s
}

/// What KEDA's polling interval does and does not do (it looks like a reaction-time knob).
/// Why a policy starts with the replicas it does (`policy[].initial`, `simulation.initial`).
fn start_note(p: &crate::policy::PolicySpec, start: u32, steady: &crate::policy::SteadyState) -> String {
    use crate::policy::Start;
    let n = |k: u32| if k == 1 { "1 replica".to_string() } else { format!("{k} replicas") };
    match p.start {
        Start::Given if matches!(p.kind, PolicyKind::Oracle(_)) => {
            format!("starts with {}: its schedule's count at time 0", n(start))
        }
        Start::Given if matches!(p.kind, PolicyKind::Fixed) => format!("starts with {}: fixed", n(start)),
        Start::Given => format!("starts with {}: its `initial`", n(start)),
        Start::Min if start == p.min => {
            format!("starts with {}: its min (simulation.initial = \"min\")", n(start))
        }
        Start::Min => format!(
            "starts with {}: its family's starting count, above its min {} (simulation.initial = \"min\")",
            n(start),
            p.min
        ),
        Start::Steady => format!(
            "starts with {}: steady state at λ(0) = {:.2} req/s, all ready (simulation.initial = \"steady\")",
            n(start),
            steady.rate
        ),
    }
}

fn polling_note(k: &crate::policy::keda::KedaPolicySpec) -> String {
    let poll = dur(k.keda.polling_interval);
    let sync = dur(k.hpa.sync_period);
    let zero = if k.keda.min_replica_count == 0 {
        format!("scaling from zero waits for a poll (up to {poll}); ")
    } else {
        String::new()
    };
    format!(
        "note: polling_interval {poll} only drives activation and scale to zero; {zero}scaling between 1 and max \
         follows the HPA's {sync} sync, so a shorter polling_interval does not react faster; to react \
         faster shorten controller.sync_period or allow faster scale-up in behavior (docs/metrics.md)"
    )
}

/// What a trace holds, as read: format, files and notes; span, requests, mean and peak rate.
fn trace_lines(info: &TraceInfo) -> String {
    let mut o = String::new();
    let files = if info.files == 1 { "1 file".to_string() } else { format!("{} files", info.files) };
    let mut head = format!("trace      {} ({files})", info.format);
    if !info.notes.is_empty() {
        let _ = write!(head, ": {}", info.notes.join("; "));
    }
    let _ = writeln!(o, "{head}");
    let span =
        humantime::format_duration(std::time::Duration::from_millis((info.span * 1000.0).round() as u64));
    let from = info
        .start_ms
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or(String::new(), |d| format!(" from {}", d.format("%Y-%m-%d %H:%M:%S UTC")));
    let requests = if info.exact {
        format!("{:.0} requests", info.requests)
    } else {
        format!("{:.0} requests (integral of the rate)", info.requests)
    };
    let mean = info.mean().map_or("-".to_string(), |m| format!("{m:.2} req/s"));
    let peaks: Vec<String> = info.peaks.iter().map(|(w, r)| format!("{r:.2} req/s (busiest {w})")).collect();
    let _ = writeln!(o, "           span {span}{from}, {requests}, mean {mean}, peak {}", peaks.join(", "));
    if info.skipped > 0 {
        let _ = writeln!(
            o,
            "           {} malformed line(s) skipped; the first: {}",
            info.skipped,
            info.first_skipped.as_deref().unwrap_or("?")
        );
    }
    o
}

/// A short time that may be well under a millisecond (step-time coefficients): three
/// significant digits in µs below 1 ms.
fn fine(x: f64) -> String {
    if x == 0.0 || x >= 1e-3 {
        return secs(x);
    }
    let us = x * 1e6;
    let digits = (2 - us.abs().log10().floor() as i32).max(0) as usize;
    let t = format!("{us:.digits$}");
    let t = if t.contains('.') { t.trim_end_matches('0').trim_end_matches('.').to_string() } else { t };
    format!("{t}µs")
}

/// The lines of an LLM replica: its limits, its KV cache, and the step time at the extremes of
/// the batch (llm-serving.md §1).
fn llm_lines(m: &crate::service::llm::LlmModel) -> String {
    use crate::service::llm::StepModel;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "service    LLM replica (vLLM V1 step loop): max_num_seqs {}, max_num_batched_tokens {}; KV cache {} blocks × {} = {} tokens; max_model_len {}{}",
        m.max_num_seqs,
        m.max_num_batched_tokens,
        m.kv_blocks,
        m.block_size,
        m.kv_tokens(),
        m.max_model_len,
        m.gpu.map_or(String::new(), |g| format!("; GPU {} (vLLM's batch defaults for it)", g.name)),
    );
    let StepModel::Linear { base, prefill_token, decode_token, context_token } = m.step;
    let _ = writeln!(
        o,
        "           step = {} + {} × prefill tokens + {} × decoding requests + {} × their context tokens",
        fine(base),
        fine(prefill_token),
        fine(decode_token),
        fine(context_token)
    );
    // Decoding at 1024 tokens of context each (as many as the KV cache holds at most).
    let context = 1024u64.min(m.kv_tokens() / m.max_num_seqs.max(1) as u64);
    let one = m.decode_step_seconds(1, context);
    let full = m.decode_step_seconds(m.max_num_seqs, context);
    let _ = writeln!(
        o,
        "           decoding at {context} tokens of context: 1 request {} a step ({:.0} tokens/s); {} requests {} a step ({:.0} tokens/s: saturation)",
        secs(one),
        1.0 / one,
        m.max_num_seqs,
        secs(full),
        m.saturation_tokens_per_s(context)
    );
    let _ = writeln!(
        o,
        "           a prompt of {} tokens (one full step's budget) takes {} to its first token on an idle replica",
        m.max_num_batched_tokens,
        secs(m.step.seconds(m.max_num_batched_tokens as u64, 0, 0))
    );
    o
}

/// The description `validate` prints.
pub fn describe(s: &Scenario, file: &str, overrides: &[String]) -> String {
    let mut o = String::new();
    let expected = s.traffic.expected_requests(&s.clock, s.duration);
    let mean_rps = expected / to_secs_f64(s.duration).max(1e-9);
    let _ = writeln!(o, "scenario   {} ({file})", s.name);
    let _ = writeln!(o, "duration   {}, recorded every {}", dur(s.duration), dur(s.record_interval));
    let _ = writeln!(
        o,
        "clock      starts {} ({})",
        s.clock.start().format("%a %Y-%m-%d %H:%M:%S %Z"),
        s.clock.tz().name()
    );
    let _ = writeln!(o, "seed       {}", s.seed);
    let _ = writeln!(o, "traffic    {expected:.0} requests expected, mean {mean_rps:.2} req/s");
    if let Some(info) = s.traffic.trace_info() {
        o.push_str(&trace_lines(info));
    }
    let svc = &s.service;
    let mean_demand = svc.demand.mean_without_sizes();
    let demand = match &svc.demand {
        Demand::Dist(d) => dist(d),
        Demand::Linear { base, .. } => format!("linear in request sizes, base {}", secs(*base)),
    };
    let sizes = if matches!(svc.demand, Demand::Linear { .. }) { " (sizes ignored)" } else { "" };
    if let Some(m) = &svc.llm {
        o.push_str(&llm_lines(m));
    } else {
        let _ = writeln!(o, "service    {} workers per replica; demand {demand}", svc.workers);
    }
    if let Some(ov) = &svc.overhead {
        let _ = writeln!(
            o,
            "           overhead {} outside the replica: added to every latency, occupies no worker, not counted toward the timeout",
            dist(ov)
        );
    }
    let saturation = if svc.llm.is_some() { 0.0 } else { svc.capacity_rps(mean_demand) };
    let saturation_text = if svc.llm.is_some() {
        String::new()
    } else {
        format!(
            "saturation ≈ {saturation:.2} req/s per replica (workers ÷ mean demand: the most it serves, SLO or not){sizes}; "
        )
    };
    let _ = writeln!(
        o,
        "           {saturation_text}queue {}; timeout {}; startup {}; grace {}",
        svc.queue_limit.map_or("unbounded".to_string(), |q| q.to_string()),
        svc.timeout.map_or("none".to_string(), dur),
        dist(&svc.startup),
        dur(svc.grace),
    );
    // The one replica capacity (`capacity`, summary.json, the charts and the oracle's start).
    let within = crate::oracle::replica_capacity(svc, s.slo.as_ref());
    match &within {
        Ok(e) => {
            let _ = writeln!(
                o,
                "capacity   {} per replica within the SLO ({}; {})",
                e.describe(),
                e.objective.describe(),
                e.method().split(", ").next().unwrap_or_default()
            );
        }
        Err(e) => {
            let _ = writeln!(o, "capacity   unknown: {e}");
        }
    }
    let per_replica = within.as_ref().map_or(saturation, |e| e.mean_rps);
    if mean_rps > 0.0 && per_replica > 0.0 {
        let _ = writeln!(
            o,
            "           needs ≈ {:.1} replicas at the mean rate ({}); balancer {}",
            mean_rps / per_replica,
            if within.is_ok() { "within the SLO" } else { "at saturation" },
            s.balancer.name()
        );
    } else {
        let _ = writeln!(o, "           balancer {}", s.balancer.name());
    }
    if let Some(slo) = &s.slo {
        let mut parts = Vec::new();
        if let Some((p, l)) = slo.latency {
            parts.push(format!("p{p} latency ≤ {}", secs(l)));
        }
        if let Some(e) = slo.error_rate {
            parts.push(format!("errors ≤ {}%", e * 100.0));
        }
        let _ = writeln!(o, "slo        {}", parts.join(", "));
    }
    let _ = writeln!(o, "cost       {} {} per replica-hour", s.cost.per_replica_hour, s.cost.currency);
    let _ = writeln!(o, "policies   {}", s.policies.len());
    let w = s.policies.iter().map(|p| p.name.chars().count()).max().unwrap_or(0);
    let (steady, starts) = crate::engine::start_counts(s);
    for (p, &start) in s.policies.iter().zip(&starts) {
        let _ = writeln!(
            o,
            "  {:<w$}  {:<11}  min {:<3} max {:<3} initial {:<3}  {}",
            p.name,
            p.family(),
            p.min,
            if p.max == u32::MAX { "-".to_string() } else { p.max.to_string() },
            start,
            rules(p, s.clock.tz())
        );
        let _ = writeln!(o, "  {:<w$}  {}", "", start_note(p, start, &steady));
        if let PolicyKind::Keda(k) = &p.kind {
            let _ = writeln!(o, "  {:<w$}  {}", "", polling_note(k));
        }
    }
    let baseline = match s.oracle() {
        Some(o) => {
            format!("{} (cost_above_oracle_pct and elasticity figures are measured against it)", o.name)
        }
        None if s.service.llm.is_some() => format!("none ({})", crate::oracle::OracleError::LlmReplica),
        None => {
            "an `oracle` policy with perfect foresight, added by `scalesim run` (not with --no-oracle)".into()
        }
    };
    let _ = writeln!(o, "baseline   {baseline}");
    let _ = writeln!(
        o,
        "outputs    {}/: {} (written by `scalesim run`)",
        crate::run::default_out_dir(&s.name, overrides).display(),
        crate::report::OUTPUT_FILES.join(", ")
    );
    let _ = writeln!(o, "ok: the scenario is valid");
    o
}
