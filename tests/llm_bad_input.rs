//! Bad input for an LLM replica (`[service.llm]`, `[traffic.tokens]`, token traces): the binary
//! exits 2 with one error naming the file, the line, the key, what it found and what it
//! expected.

use assert_cmd::Command;
use predicates::str::contains;

const BASE: &str = r#"[simulation]
duration = "1h"

[traffic]
rate = 2
[traffic.tokens]
prompt = { distribution = "lognormal", mean = 500, sigma = 1.0, max = 4000 }
output = { distribution = "exponential", mean = 100, max = 1000 }

[service]
timeout = "60s"

[service.llm]
gpu = "H100"
kv_blocks = 30000

[service.llm.step]
base = "5ms"
prefill_token = 0.00004
decode_token = 0.0001
context_token = 0.00000002

[[policy]]
name = "fixed"
type = "fixed"
replicas = 2
"#;

/// Validates `text` (written to `s.toml` beside `files`); expects exit 2, an error at `line` of
/// the scenario (or of `at`, a file it names) with every one of `wanted`.
fn rejects_in(text: &str, files: &[(&str, &str)], at: (&str, usize), wanted: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let file = dir.path().join("s.toml");
    std::fs::write(&file, text).unwrap();
    let shown = if at.0 == "s.toml" {
        file.display().to_string()
    } else {
        dir.path().join(at.0).display().to_string()
    };
    let mut a = Command::cargo_bin("scalesim")
        .unwrap()
        .arg("validate")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(contains(format!("{shown}:{}:", at.1)));
    for w in wanted {
        a = a.stderr(contains(*w));
    }
}

fn rejects(text: &str, line: usize, wanted: &[&str]) {
    rejects_in(text, &[], ("s.toml", line), wanted)
}

/// The 1-based line of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines().position(|l| l.starts_with(prefix)).expect("the key is in the text") + 1
}

fn with(old: &str, new: &str) -> String {
    assert!(BASE.contains(old), "{old}");
    BASE.replacen(old, new, 1)
}

#[test]
fn the_base_scenario_is_valid() {
    Command::cargo_bin("scalesim")
        .unwrap()
        .arg("validate")
        .arg({
            let dir = tempfile::tempdir().unwrap().keep();
            let f = dir.join("s.toml");
            std::fs::write(&f, BASE).unwrap();
            f
        })
        .assert()
        .success();
}

#[test]
fn batched_tokens_below_max_num_seqs_is_refused_as_vllm_refuses_it() {
    let t = with("gpu = \"H100\"", "max_num_seqs = 512\nmax_num_batched_tokens = 256");
    rejects(
        &t,
        line_of(&t, "max_num_batched_tokens"),
        &["service.llm.max_num_batched_tokens", "found 256", "max_num_seqs (512)"],
    );
}

#[test]
fn batched_tokens_below_one_block_is_refused() {
    let t = with("gpu = \"H100\"", "max_num_seqs = 8\nmax_num_batched_tokens = 8\nblock_size = 32");
    rejects(&t, line_of(&t, "max_num_batched_tokens"), &["below block_size (32)"]);
}

#[test]
fn zero_and_negative_sizes_and_coefficients_are_refused() {
    let t = with("kv_blocks = 30000", "kv_blocks = 0");
    rejects(&t, line_of(&t, "kv_blocks"), &["service.llm.kv_blocks", "found 0", "positive number of blocks"]);
    let t = with("base = \"5ms\"", "base = 0");
    rejects(&t, line_of(&t, "base ="), &["service.llm.step.base", "at least 1µs"]);
    let t = with("decode_token = 0.0001", "decode_token = 0");
    rejects(&t, line_of(&t, "decode_token"), &["service.llm.step.decode_token", "expected a positive time"]);
    let t = with("prefill_token = 0.00004", "prefill_token = -1");
    rejects(&t, line_of(&t, "prefill_token"), &["service.llm.step.prefill_token"]);
}

#[test]
fn the_kv_cache_is_given_once_and_holds_the_longest_sequence() {
    let t = with("kv_blocks = 30000", "kv_blocks = 100\nkv_tokens = 1600");
    rejects(&t, line_of(&t, "kv_tokens"), &["give `kv_blocks` or `kv_tokens`, not both"]);
    let t = with("kv_blocks = 30000", "kv_tokens = 16");
    rejects(&t, line_of(&t, "kv_tokens"), &["null block", "at least 2 blocks"]);
    let t = with("kv_blocks = 30000", "kv_blocks = 100\nmax_model_len = 4096");
    rejects(&t, line_of(&t, "max_model_len"), &["found 4096", "100 blocks × 16 = 1600 tokens"]);
    let t = with("kv_blocks = 30000", "block_size = 16");
    rejects(&t, line_of(&t, "[service.llm]"), &["service.llm.kv_blocks", "missing", "kv_tokens"]);
    let t = with("kv_blocks = 30000", "kv_blocks = 3000000000");
    rejects(&t, line_of(&t, "kv_blocks"), &["found 3000000000", "expected at most"]);
}

#[test]
fn an_unknown_gpu_lists_the_known_ones_and_the_explicit_keys() {
    let t = with("gpu = \"H100\"", "gpu = \"V100\"");
    rejects(
        &t,
        line_of(&t, "gpu"),
        &["unknown GPU `V100`", "`H100`, `H200`, `A100-80GB`, `L40S`, `L4`", "max_num_seqs"],
    );
}

#[test]
fn worker_keys_do_not_apply_to_an_llm_replica() {
    let t = with("timeout = \"60s\"", "timeout = \"60s\"\nworkers = 4");
    rejects(&t, line_of(&t, "workers"), &["service.workers", "does not apply to an LLM replica"]);
}

#[test]
fn a_trace_without_two_size_columns_is_refused() {
    let t = with(
        "rate = 2\n[traffic.tokens]\nprompt = { distribution = \"lognormal\", mean = 500, sigma = 1.0, max = 4000 }\noutput = { distribution = \"exponential\", mean = 100, max = 1000 }",
        "[traffic.trace]\nformat = \"requests_csv\"\npath = \"t.csv\"\nsize_columns = [\"p\"]",
    );
    rejects_in(
        &t,
        &[("t.csv", "time,p\n0,10\n1,20\n")],
        ("s.toml", line_of(&t, "[service.llm]")),
        &["service.llm", "prompt and output tokens", "two size columns"],
    );
}

#[test]
fn zero_fractional_or_huge_token_counts_in_a_trace_name_their_line() {
    let trace = |rows: &str| format!("time,p,o\n0,10,5\n{rows}\n");
    let t = with(
        "rate = 2\n[traffic.tokens]\nprompt = { distribution = \"lognormal\", mean = 500, sigma = 1.0, max = 4000 }\noutput = { distribution = \"exponential\", mean = 100, max = 1000 }",
        "[traffic.trace]\nformat = \"requests_csv\"\npath = \"t.csv\"\nsize_columns = [\"p\", \"o\"]",
    );
    for (row, found) in [("1,10,0", "`0`"), ("1,10.5,3", "`10.5`"), ("1,1e12,3", "`1e12`")] {
        rejects_in(&t, &[("t.csv", &trace(row))], ("t.csv", 3), &[found, "whole number of tokens from 1 to"]);
    }
}

#[test]
fn a_token_mix_beside_a_sized_trace_is_refused() {
    let t = with(
        "rate = 2\n",
        "[traffic.trace]\nformat = \"requests_csv\"\npath = \"t.csv\"\nsize_columns = [\"p\", \"o\"]\n",
    );
    rejects_in(
        &t,
        &[("t.csv", "time,p,o\n0,1,1\n")],
        ("s.toml", line_of(&t, "[traffic.tokens]")),
        &["traffic.tokens", "already gives each request its sizes"],
    );
}

#[test]
fn token_distributions_need_positive_parameters() {
    let t = with("mean = 100, max = 1000", "mean = 0, max = 1000");
    rejects(&t, line_of(&t, "output"), &["traffic.tokens.output.mean", "found 0"]);
    let t = with("sigma = 1.0, max = 4000", "sigma = 1.0, max = 4000, cv = 2");
    rejects(
        &t,
        line_of(&t, "prompt"),
        &["traffic.tokens.prompt.cv", "is not used by distribution `lognormal`"],
    );
}
