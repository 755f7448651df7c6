//! An LLM inference replica as vLLM's V1 engine runs one (`[service.llm]`): the parameters of its
//! step loop — batch limits, KV cache blocks, the longest sequence — and how long one batch step
//! takes. The step loop itself (running and waiting lists, preemption, chunked prefill) is the
//! engine's second kind of replica (`engine::llm`); the semantics are
//! ../shared/reference/llm-serving.md §1, and docs/llm.md says what is left out of vLLM.

use crate::time::{Time, from_secs_f64};

/// The most tokens a prompt, an output, a step's budget or a KV cache may hold (2^30): token
/// counts stay far from `u32` overflow whatever they are added to. The one bound every reader of
/// token counts (scenario keys, `[traffic.tokens]`, trace columns) checks against.
pub const MAX_TOKENS: u32 = 1 << 30;

/// A GPU of the bundled table: what vLLM's batch defaults and the roofline step model read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gpu {
    /// Name as written in scenario files.
    pub name: &'static str,
    /// Memory, GB (10⁹ bytes, as vendors state it).
    pub memory_gb: f64,
    /// HBM bandwidth, TB/s.
    pub bandwidth_tbs: f64,
    /// Dense bf16 tensor throughput, TFLOPS.
    pub bf16_tflops: f64,
}

/// The bundled GPUs (vendor data sheets; ../shared/reference/llm-serving.md §2).
pub const GPUS: &[Gpu] = &[
    Gpu { name: "H100", memory_gb: 80.0, bandwidth_tbs: 3.35, bf16_tflops: 989.0 },
    Gpu { name: "H200", memory_gb: 141.0, bandwidth_tbs: 4.8, bf16_tflops: 989.0 },
    Gpu { name: "A100-80GB", memory_gb: 80.0, bandwidth_tbs: 2.0, bf16_tflops: 312.0 },
    Gpu { name: "L40S", memory_gb: 48.0, bandwidth_tbs: 0.86, bf16_tflops: 362.0 },
    Gpu { name: "L4", memory_gb: 24.0, bandwidth_tbs: 0.30, bf16_tflops: 121.0 },
];

/// The GPU named `name` (case-insensitive), if bundled.
pub fn gpu(name: &str) -> Option<&'static Gpu> {
    GPUS.iter().find(|g| g.name.eq_ignore_ascii_case(name))
}

impl Gpu {
    /// vLLM's default `(max_num_seqs, max_num_batched_tokens)` for `vllm serve` on this GPU
    /// (`EngineArgs.get_batch_defaults`): 1024 and 8192 on a device of at least 70 GiB other
    /// than the A100, 256 and 2048 otherwise.
    pub fn batch_defaults(&self) -> (u32, u32) {
        let gib = self.memory_gb * 1e9 / (1u64 << 30) as f64;
        if gib >= 70.0 && !self.name.starts_with("A100") { (1024, 8192) } else { (256, 2048) }
    }
}

/// The batch defaults when no GPU is named: vLLM's for a device under 70 GiB.
pub const DEFAULT_BATCH: (u32, u32) = (256, 2048);

/// How long one batch step takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepModel {
    /// `base + prefill_token·P + decode_token·D + context_token·C` seconds, with P the prefill
    /// tokens scheduled, D the decoding requests and C the tokens already in their KV cache.
    Linear {
        /// Seconds per step.
        base: f64,
        /// Seconds per prefill token.
        prefill_token: f64,
        /// Seconds per decoding request.
        decode_token: f64,
        /// Seconds per token of context a decoding request attends to.
        context_token: f64,
    },
}

impl StepModel {
    /// The step's duration in seconds (the formula of §1, in this order of evaluation, which the
    /// independent twin `tools/llm_twin.py` follows too).
    #[inline]
    pub fn seconds(&self, prefill: u64, decoding: u64, context: u64) -> f64 {
        match *self {
            StepModel::Linear { base, prefill_token, decode_token, context_token } => {
                base + prefill_token * prefill as f64
                    + decode_token * decoding as f64
                    + context_token * context as f64
            }
        }
    }

    /// The step's duration on the engine's clock: rounded to the microsecond, halves away
    /// from zero (§1).
    #[inline]
    pub fn duration(&self, prefill: u64, decoding: u64, context: u64) -> Time {
        from_secs_f64(self.seconds(prefill, decoding, context))
    }
}

/// One LLM replica's engine parameters (`[service.llm]`).
#[derive(Debug, Clone, PartialEq)]
pub struct LlmModel {
    /// `max_num_seqs`: requests in the running list at most.
    pub max_num_seqs: u32,
    /// `max_num_batched_tokens`: tokens scheduled per step at most.
    pub max_num_batched_tokens: u32,
    /// Tokens per KV block.
    pub block_size: u32,
    /// Usable KV blocks (vLLM's `num_gpu_blocks` − 1, the null block).
    pub kv_blocks: u32,
    /// The longest sequence (prompt + output); a prompt of at least this many tokens is
    /// refused (`too_long`), an output is capped at `max_model_len − prompt`.
    pub max_model_len: u32,
    /// How long a step takes.
    pub step: StepModel,
    /// The GPU named, if any (for the batch defaults and `validate`).
    pub gpu: Option<&'static Gpu>,
}

impl LlmModel {
    /// KV cache capacity in tokens (`kv_blocks · block_size`).
    pub fn kv_tokens(&self) -> u64 {
        self.kv_blocks as u64 * self.block_size as u64
    }

    /// Blocks holding `tokens` tokens.
    #[inline]
    pub fn blocks(&self, tokens: u32) -> u32 {
        tokens.div_ceil(self.block_size)
    }

    /// Step time (seconds) with one request decoding at context `context`.
    pub fn decode_step_seconds(&self, batch: u32, context: u64) -> f64 {
        self.step.seconds(0, batch as u64, context * batch as u64)
    }

    /// Output tokens per second of a full batch of `max_num_seqs` decoding requests, each with
    /// `context` tokens cached (one token per request per step).
    pub fn saturation_tokens_per_s(&self, context: u64) -> f64 {
        let s = self.max_num_seqs;
        s as f64 / self.decode_step_seconds(s, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_defaults_follow_vllm() {
        // H100: 80 GB = 74.5 GiB ≥ 70, not an A100.
        assert_eq!(gpu("h100").unwrap().batch_defaults(), (1024, 8192));
        assert_eq!(gpu("H200").unwrap().batch_defaults(), (1024, 8192));
        // The A100 is excluded whatever its memory.
        assert_eq!(gpu("A100-80GB").unwrap().batch_defaults(), (256, 2048));
        // L40S: 48 GB = 44.7 GiB < 70.
        assert_eq!(gpu("L40S").unwrap().batch_defaults(), (256, 2048));
        assert!(gpu("V100").is_none());
    }

    #[test]
    fn step_time_rounds_to_the_microsecond() {
        let m =
            StepModel::Linear { base: 0.005, prefill_token: 4e-5, decode_token: 1e-4, context_token: 2e-8 };
        // 0.005 + 4e-5·100 = 0.009 s = 9000 µs.
        assert_eq!(m.duration(100, 0, 0), 9000);
        // 0.005 + 1e-4·3 + 2e-8·1000 = 0.00532 s.
        assert_eq!(m.duration(0, 3, 1000), 5320);
        // 0.005 + 2e-8·25 = 0.0050005 s: half a microsecond rounds up.
        let half =
            StepModel::Linear { base: 0.005, prefill_token: 0.0, decode_token: 0.0, context_token: 2e-8 };
        assert_eq!(half.duration(0, 0, 25), 5001);
    }
}
