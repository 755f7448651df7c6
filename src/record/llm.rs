//! The figures of an LLM service (`[service.llm]`): time to first token (TTFT), inter-token
//! latency (ITL, per token), time per output token (TPOT, per request), output tokens, KV cache
//! usage, running and waiting requests, preemptions — per recording interval and for the run.
//! Kept only for LLM scenarios, so other scenarios' outputs do not change.

use super::LatencyHistogram;
use crate::time::{Time, to_secs_f64};
use serde::{Deserialize, Serialize};

/// Mean and percentiles of one latency, seconds (`None` when nothing was measured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    /// Mean.
    pub mean: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
}

impl Quantiles {
    fn of(h: &LatencyHistogram, sum_us: u128) -> Quantiles {
        if h.is_empty() {
            return Quantiles::default();
        }
        let [p50, p95, p99] = h.values_at_quantiles([0.5, 0.95, 0.99]).map(|v| Some(v as f64 * 1e-6));
        Quantiles { mean: Some(sum_us as f64 * 1e-6 / h.len() as f64), p50, p95, p99 }
    }
}

/// The LLM figures of one interval or of a whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmFigures {
    /// Output tokens emitted (a token counts where it is emitted).
    pub output_tokens: u64,
    /// Output tokens per second.
    pub tokens_per_s: f64,
    /// Time to first token of the first tokens emitted (overhead included, as the client sees it).
    pub ttft: Quantiles,
    /// Inter-token latency: each token after a request's first, the time since its previous one.
    pub itl: Quantiles,
    /// Time per output token of each request served with at least two: (end − first token) /
    /// (tokens − 1).
    pub tpot: Quantiles,
    /// Time-weighted mean KV cache usage of the ready replicas (fraction of their blocks).
    pub kv_usage_mean: Option<f64>,
    /// Highest KV cache usage of any ready replica at any step.
    pub kv_usage_max: Option<f64>,
    /// Time-weighted mean of the requests in the running lists, all replicas together.
    pub running_mean: f64,
    /// Time-weighted mean of the requests in the waiting lists, all replicas together.
    pub waiting_mean: f64,
    /// Preemptions.
    pub preemptions: u64,
}

/// Counters of one span (an interval, or the counted part of a run).
#[derive(Debug, Clone, Default)]
struct Span {
    tokens: u64,
    preemptions: u64,
    ttft: LatencyHistogram,
    ttft_sum: u128,
    itl: LatencyHistogram,
    itl_sum: u128,
    tpot: LatencyHistogram,
    tpot_sum: u128,
    kv_max: Option<f64>,
    /// ∫ Σ KV usage of ready replicas dt, ∫ ready replicas dt, ∫ running dt, ∫ waiting dt, and
    /// the span's length (seconds).
    kv: f64,
    ready: f64,
    running: f64,
    waiting: f64,
    secs: f64,
}

impl Span {
    fn add(&mut self, o: &Span) {
        self.tokens += o.tokens;
        self.preemptions += o.preemptions;
        self.ttft.add(&o.ttft);
        self.ttft_sum += o.ttft_sum;
        self.itl.add(&o.itl);
        self.itl_sum += o.itl_sum;
        self.tpot.add(&o.tpot);
        self.tpot_sum += o.tpot_sum;
        self.kv_max = match (self.kv_max, o.kv_max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.kv += o.kv;
        self.ready += o.ready;
        self.running += o.running;
        self.waiting += o.waiting;
        self.secs += o.secs;
    }

    fn figures(&self) -> LlmFigures {
        LlmFigures {
            output_tokens: self.tokens,
            tokens_per_s: if self.secs > 0.0 { self.tokens as f64 / self.secs } else { 0.0 },
            ttft: Quantiles::of(&self.ttft, self.ttft_sum),
            itl: Quantiles::of(&self.itl, self.itl_sum),
            tpot: Quantiles::of(&self.tpot, self.tpot_sum),
            kv_usage_mean: (self.ready > 1e-9).then(|| self.kv / self.ready),
            kv_usage_max: self.kv_max,
            running_mean: if self.secs > 0.0 { self.running / self.secs } else { 0.0 },
            waiting_mean: if self.secs > 0.0 { self.waiting / self.secs } else { 0.0 },
            preemptions: self.preemptions,
        }
    }
}

/// What the engine measured over an interval from its integrals.
#[derive(Debug, Clone, Copy, Default)]
pub struct LlmLevels {
    /// ∫ Σ KV usage (fraction) of ready replicas dt, seconds.
    pub kv: f64,
    /// ∫ ready replicas dt, seconds.
    pub ready: f64,
    /// ∫ running requests dt, seconds.
    pub running: f64,
    /// ∫ waiting requests dt, seconds.
    pub waiting: f64,
}

/// The LLM part of a run's recorder.
#[derive(Debug, Clone, Default)]
pub struct LlmRecorder {
    interval: Span,
    total: Span,
}

impl LlmRecorder {
    /// A first token, `ttft` after its request arrived.
    #[inline]
    pub fn on_first_token(&mut self, ttft: Time) {
        self.interval.ttft.record(ttft);
        self.interval.ttft_sum += ttft as u128;
    }

    /// `n` output tokens emitted.
    #[inline]
    pub fn on_tokens(&mut self, n: u64) {
        self.interval.tokens += n;
    }

    /// A token emitted `itl` after its request's previous one.
    #[inline]
    pub fn on_itl(&mut self, itl: Time) {
        self.interval.itl.record(itl);
        self.interval.itl_sum += itl as u128;
    }

    /// A request served with `tokens` output tokens, the first at `first`, the last at `end`.
    #[inline]
    pub fn on_served(&mut self, first: Time, end: Time, tokens: u32) {
        if tokens >= 2 {
            let tpot = (end - first) / (tokens as u64 - 1);
            self.interval.tpot.record(tpot);
            self.interval.tpot_sum += tpot as u128;
        }
    }

    /// `n` requests preempted.
    #[inline]
    pub fn on_preempted(&mut self, n: u64) {
        self.interval.preemptions += n;
    }

    /// A ready replica's KV cache usage reached `usage` (a fraction).
    #[inline]
    pub fn on_kv(&mut self, usage: f64) {
        if self.interval.kv_max.is_none_or(|m| usage > m) {
            self.interval.kv_max = Some(usage);
        }
    }

    /// Closes an interval of `len` with the engine's `levels`; `counting`: it counts towards the
    /// run's figures. Returns the interval's figures.
    pub fn close(&mut self, len: Time, levels: LlmLevels, counting: bool) -> LlmFigures {
        let s = &mut self.interval;
        s.secs = to_secs_f64(len);
        (s.kv, s.ready, s.running, s.waiting) = (levels.kv, levels.ready, levels.running, levels.waiting);
        let f = s.figures();
        if counting {
            self.total.add(&self.interval);
        }
        // Reset, keeping the histograms' allocations.
        let s = &mut self.interval;
        let (mut ttft, mut itl, mut tpot) =
            (std::mem::take(&mut s.ttft), std::mem::take(&mut s.itl), std::mem::take(&mut s.tpot));
        ttft.reset();
        itl.reset();
        tpot.reset();
        *s = Span { ttft, itl, tpot, ..Span::default() };
        f
    }

    /// Forgets the run's figures so far (the end of a warm-up).
    pub fn start_measuring(&mut self) {
        self.total = Span::default();
    }

    /// The run's figures.
    pub fn figures(&self) -> LlmFigures {
        self.total.figures()
    }
}
