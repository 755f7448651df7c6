//! `[service.llm]` and `[service.llm.step]`: an LLM replica's batch limits, KV cache and step
//! time, checked and built into an [`LlmModel`] (semantics: ../shared/reference/llm-serving.md §1).

use super::super::error::KeyError;
use super::super::raw::{RawLlm, RawLlmStep};
use super::super::source::KeyPath;
use crate::service::llm::{DEFAULT_BATCH, GPUS, LlmModel, StepModel, gpu};

/// [`crate::service::llm::MAX_TOKENS`] as the integers the keys are read as.
const MAX_TOKENS: i64 = crate::service::llm::MAX_TOKENS as i64;

type R<T> = Result<T, KeyError>;

fn err<T>(path: KeyPath, message: impl Into<String>) -> R<T> {
    Err(KeyError::new(path, message))
}

/// A positive whole number of at most [`MAX_TOKENS`].
fn count(path: KeyPath, v: i64, what: &str) -> R<u32> {
    if v < 1 {
        return err(path, format!("found {v}, expected a positive number of {what}"));
    }
    if v > MAX_TOKENS {
        return err(path, format!("found {v}, expected at most {MAX_TOKENS} {what}"));
    }
    Ok(v as u32)
}

/// Builds `[service.llm]` found at `p`.
pub(super) fn build_llm(p: &KeyPath, raw: RawLlm) -> R<LlmModel> {
    let gpu = match &raw.gpu {
        None => None,
        Some(name) => Some(gpu(name).ok_or_else(|| {
            KeyError::new(
                p.key("gpu"),
                format!(
                    "unknown GPU `{name}`, expected one of {} (or leave `gpu` out and give `max_num_seqs`, \
                     `max_num_batched_tokens` and the KV cache explicitly)",
                    GPUS.iter().map(|g| format!("`{}`", g.name)).collect::<Vec<_>>().join(", ")
                ),
            )
        })?),
    };
    let (seqs_default, batched_default) = gpu.map_or(DEFAULT_BATCH, |g| g.batch_defaults());
    let max_num_seqs = match raw.max_num_seqs {
        Some(v) => count(p.key("max_num_seqs"), v, "sequences")?,
        None => seqs_default,
    };
    let max_num_batched_tokens = match raw.max_num_batched_tokens {
        Some(v) => count(p.key("max_num_batched_tokens"), v, "tokens")?,
        None => batched_default,
    };
    let block_size = match raw.block_size {
        Some(v) => count(p.key("block_size"), v, "tokens")?,
        None => 16,
    };
    if max_num_batched_tokens < max_num_seqs {
        // vLLM refuses it too (SchedulerConfig: "max_num_batched_tokens … must be greater than
        // or equal to max_num_seqs").
        return err(
            p.key("max_num_batched_tokens"),
            format!(
                "found {max_num_batched_tokens}, below max_num_seqs ({max_num_seqs}); expected at least \
                 max_num_seqs, as vLLM requires (every running request must get a token each step)"
            ),
        );
    }
    if max_num_batched_tokens < block_size {
        return err(
            p.key("max_num_batched_tokens"),
            format!(
                "found {max_num_batched_tokens}, below block_size ({block_size}); expected at least one block"
            ),
        );
    }
    let kv_blocks = match (raw.kv_blocks, raw.kv_tokens) {
        (Some(_), Some(_)) => return err(p.key("kv_tokens"), "give `kv_blocks` or `kv_tokens`, not both"),
        (Some(b), None) => count(p.key("kv_blocks"), b, "blocks")?,
        (None, Some(t)) => {
            let t = count(p.key("kv_tokens"), t, "tokens")?;
            // vLLM logs its cache as num_gpu_blocks · block_size tokens, one of which is the
            // null block that never holds a request.
            let k = (t / block_size) as i64 - 1;
            if k < 1 {
                return err(
                    p.key("kv_tokens"),
                    format!(
                        "found {t} tokens: {} blocks of {block_size}, one of them vLLM's null block; expected \
                         at least 2 blocks",
                        t / block_size
                    ),
                );
            }
            k as u32
        }
        (None, None) => {
            return err(
                p.key("kv_blocks"),
                "missing: give the KV cache as `kv_blocks` (usable blocks) or `kv_tokens` (as vLLM logs \
                 \"GPU KV cache size: N tokens\")",
            );
        }
    };
    let capacity = kv_blocks as i64 * block_size as i64;
    if capacity > MAX_TOKENS {
        return err(
            p.key(if raw.kv_blocks.is_some() { "kv_blocks" } else { "kv_tokens" }),
            format!("gives a KV cache of {capacity} tokens, expected at most {MAX_TOKENS}"),
        );
    }
    let max_model_len = match raw.max_model_len {
        None => capacity as u32,
        Some(v) => {
            let l = count(p.key("max_model_len"), v, "tokens")?;
            if l as i64 > capacity {
                // vLLM refuses to start when one sequence of max_model_len does not fit the
                // cache; here a request could wait forever.
                return err(
                    p.key("max_model_len"),
                    format!(
                        "found {l}, more than the KV cache holds ({kv_blocks} blocks × {block_size} = {capacity} \
                         tokens); expected at most {capacity}, as vLLM requires"
                    ),
                );
            }
            if l < 2 {
                return err(
                    p.key("max_model_len"),
                    "found 1, expected at least 2 (a prompt token and an output token)",
                );
            }
            l
        }
    };
    let step = build_step(&p.key("step"), raw.step)?;
    let model =
        LlmModel { max_num_seqs, max_num_batched_tokens, block_size, kv_blocks, max_model_len, step, gpu };
    // The longest step this replica can take must be a time the clock represents.
    let worst = step.seconds(max_num_batched_tokens as u64, max_num_seqs as u64, capacity as u64);
    if !(worst.is_finite() && worst <= crate::time::MAX_VALUE_SECS) {
        return err(
            p.key("step"),
            format!(
                "gives a full step ({max_num_batched_tokens} prefill tokens, {max_num_seqs} decodes, {capacity} \
                 tokens of context) {} s, more than the longest supported time; check the units",
                crate::time::fmt_big(worst)
            ),
        );
    }
    Ok(model)
}

fn build_step(p: &KeyPath, raw: Option<RawLlmStep>) -> R<StepModel> {
    let Some(raw) = raw else {
        return err(
            p.clone(),
            "missing: give the step time as `[service.llm.step]` with `base`, `prefill_token`, \
             `decode_token` and `context_token`",
        );
    };
    let need = |k: &str, v: Option<super::super::values::Seconds>| -> R<f64> {
        v.map(|s| s.0).ok_or_else(|| KeyError::new(p.key(k), "missing required key of the linear step model"))
    };
    let base = need("base", raw.base)?;
    if base.is_nan() || base < 1e-6 {
        return err(p.key("base"), format!("found {base} s, expected at least 1µs (every step takes time)"));
    }
    let positive = |k: &str, v: f64| -> R<f64> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            err(p.key(k), format!("found {v} s, expected a positive time"))
        }
    };
    let prefill_token = positive("prefill_token", need("prefill_token", raw.prefill_token)?)?;
    let decode_token = positive("decode_token", need("decode_token", raw.decode_token)?)?;
    let context_token = raw.context_token.map_or(0.0, |s| s.0);
    if !(context_token.is_finite() && context_token >= 0.0) {
        return err(p.key("context_token"), format!("found {context_token} s, expected a non-negative time"));
    }
    Ok(StepModel::Linear { base, prefill_token, decode_token, context_token })
}
