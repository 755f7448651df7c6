//! Production-traffic trace formats (issue 12), through the real binary: Prometheus
//! `query_range` JSON, Grafana CSV, nginx/Apache combined and AWS ALB access logs (globs, gzip,
//! skipped lines, sizes) and the Azure Functions 2019 trace. Each format is read from files
//! shaped like the real ones (the shipped examples in traces/production-formats, and gzip
//! fixtures made here); counts are checked exactly where the format is exact; bad files must give
//! `file:line` errors and exit 2; every format's example runs.

use assert_cmd::Command;
use std::io::Write;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn example(rel: &str) -> String {
    format!("{ROOT}/traces/production-formats/{rel}")
}

/// A small scenario around `trace` (a `[traffic...]` section), lasting `duration`.
fn scenario(trace: &str, duration: &str) -> String {
    format!(
        r#"[simulation]
name = "t"
duration = "{duration}"
seed = 5
record_interval = "1m"

{trace}

[service]
workers = 8
timeout = "30s"

[service.demand]
distribution = "exponential"
mean = "20ms"

[service.startup]
distribution = "deterministic"
value = "5s"

[[policy]]
name = "fixed-2"
type = "fixed"
replicas = 2
"#
    )
}

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(text: &str) -> Case {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("s.toml"), text).expect("write scenario");
        Case { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> &Case {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).expect("write file");
        self
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::cargo_bin("scalesim")
            .expect("binary")
            .current_dir(self.dir.path())
            .args(args)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .expect("runs")
    }

    /// `validate` succeeds; its stdout and stderr.
    fn validate(&self) -> (String, String) {
        let out = self.cmd(&["validate", "s.toml"]);
        let (o, e) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(out.status.success(), "validate failed:\n{o}\n{e}");
        (o, e)
    }

    /// `validate` and `run` both refuse with exit 2 and a message containing every `wanted`.
    fn refuses(&self, wanted: &[&str]) {
        for args in [vec!["validate", "s.toml"], vec!["run", "s.toml", "--no-oracle", "--out", "refused"]] {
            let out = self.cmd(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.starts_with("error: "), "{args:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            for w in wanted {
                assert!(err.contains(w), "{args:?}: `{w}` not in:\n{err}");
            }
        }
        assert!(!self.path("refused").exists(), "nothing is written");
    }

    /// `run` (one fixed policy, no oracle) into `out`; the per-minute arrivals of that policy.
    fn run_arrivals(&self, out: &str) -> Vec<u64> {
        let res = self.cmd(&["run", "s.toml", "--no-oracle", "--out", out]);
        assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
        let text = std::fs::read_to_string(self.path(out).join("timeseries.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = header.iter().position(|h| *h == "arrived").unwrap();
        lines.map(|l| l.split(',').nth(col).unwrap().parse().unwrap()).collect()
    }
}

fn gz(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

fn gunzip(path: &Path) -> String {
    let mut s = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()),
        &mut s,
    )
    .unwrap();
    s
}

/// The `trace` lines `validate` prints.
fn trace_lines(stdout: &str) -> String {
    let mut out = String::new();
    let mut on = false;
    for l in stdout.lines() {
        if l.starts_with("trace      ") {
            on = true;
        } else if !l.starts_with("           ") {
            on = false;
        }
        if on {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

// ---- Prometheus and Grafana --------------------------------------------------------------

#[test]
fn prometheus_example_is_summed_held_and_described() {
    let trace = format!(
        "[traffic.trace]\nformat = \"prometheus\"\npath = \"{}\"\nmissing = \"hold\"",
        example("prometheus/query_range.json")
    );
    let c = Case::new(&scenario(&trace, "2h"));
    let (out, _) = c.validate();
    let t = trace_lines(&out);
    assert!(
        t.contains("trace      prometheus (1 file): 3 series summed, step 15s; 5 missing point(s) held at the last value"),
        "{t}"
    );
    assert!(t.contains("span 2h 15s from 2024-11-30 08:59:45 UTC"), "{t}");
    assert!(
        t.contains("requests (integral of the rate), mean 2.38 req/s, peak 5.83 req/s (busiest 15s step)"),
        "{t}"
    );
    // The Grafana download of the same panel holds the same numbers.
    let grafana = format!(
        "[traffic.trace]\nformat = \"grafana_csv\"\npath = \"{}\"\nmissing = \"hold\"",
        example("grafana/shop-web-requests.csv")
    );
    let g = Case::new(&scenario(&grafana, "2h"));
    let (gout, _) = g.validate();
    let gt = trace_lines(&gout);
    assert!(gt.contains("grafana_csv (1 file): 3 column(s) summed, step 15s; 5 missing point(s)"), "{gt}");
    let figures = |s: &str| s.lines().nth(1).unwrap().to_string();
    assert_eq!(figures(&t), figures(&gt));
    // One pod selected by its label.
    let one = format!(
        "[traffic.trace]\nformat = \"prometheus\"\npath = \"{}\"\nseries = {{ pod = \"shop-web-7d9f8c6b5-m4tr8\" }}",
        example("prometheus/query_range.json")
    );
    let (out, _) = Case::new(&scenario(&one, "1h")).validate();
    // Created at 10:09:30: its series is the last 51 steps of the query.
    assert!(
        trace_lines(&out).contains(
            "(1 file): 1 series summed, step 15s\n           span 50m 45s from 2024-11-30 10:09:15 UTC"
        ),
        "{out}"
    );
}

#[test]
fn prometheus_without_missing_names_the_gap_and_nan() {
    let c = Case::new(&scenario(
        &format!(
            "[traffic.trace]\nformat = \"prometheus\"\npath = \"{}\"",
            example("prometheus/query_range.json")
        ),
        "1h",
    ));
    c.refuses(&[
        "query_range.json: series {pod=\"shop-web-7d9f8c6b5-x2k4p\"} has no point at 2024-11-30T09:47:00Z",
        "(between data.result[0].values[187] and data.result[0].values[188])",
        "set missing = \"zero\" or \"hold\"",
    ]);
    let nan = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"a"},"values":[[1732957200,"3"],[1732957215,"NaN"],[1732957230,"2.5"]]}]}}"#;
    let c = Case::new(&scenario("[traffic.trace]\nformat = \"prometheus\"\npath = \"q.json\"", "1h"));
    c.write("q.json", nan.as_bytes());
    c.refuses(&[
        "traffic.trace.path",
        "q.json: data.result[0].values[1] (series {pod=\"a\"}, time 2024-11-30T09:00:15Z): found NaN, expected a number",
    ]);
    // With missing = "zero" the same file is read, and a syntax error is located by line.
    let c = Case::new(&scenario(
        "[traffic.trace]\nformat = \"prometheus\"\npath = \"q.json\"\nmissing = \"zero\"",
        "1h",
    ));
    c.write("q.json", nan.as_bytes());
    c.validate();
    c.write("q.json", b"{\"status\":\"success\",\n\"data\":{\"resultType\":\"matrix\",\"result\":[}}\n");
    c.refuses(&["q.json:2: cannot read the JSON at column 41: expected value"]);
}

#[test]
fn grafana_csv_errors_name_line_and_column() {
    let c = Case::new(&scenario("[traffic.trace]\nformat = \"grafana_csv\"\npath = \"panel.csv\"", "1h"));
    c.write("panel.csv", b"\"Time\",\"a\",\"b\"\r\n1732957200000,1,2\r\n1732957215000,1\r\n");
    c.refuses(&["panel.csv:3: found 2 fields, expected 3"]);
    c.write(
        "panel.csv",
        b"\"Time\",\"a\"\r\n1732957200000,1\r\n2024-11-30 09:00:15,1\r\n1732957230000,1 req/s\r\n",
    );
    c.refuses(&["panel.csv:4:2: column `a`: found `1 req/s`, expected a number"]);
}

// ---- Access logs ---------------------------------------------------------------------------

/// Lines of the shipped nginx example that are well formed.
fn nginx_requests() -> usize {
    let dir = example("nginx");
    let mut text = std::fs::read_to_string(format!("{dir}/access.log")).unwrap();
    text.push_str(&std::fs::read_to_string(format!("{dir}/access.log.1")).unwrap());
    text.push_str(&gunzip(Path::new(&format!("{dir}/access.log.2.gz"))));
    // One line of access.log.1 was cut short (an unclosed quote).
    text.lines().filter(|l| l.matches('"').count() % 2 == 0).count()
}

#[test]
fn nginx_rotated_logs_are_merged_exactly() {
    let want = nginx_requests();
    assert_eq!(want, 1851);
    let trace = format!(
        "[traffic.trace]\nformat = \"access_log\"\nlog_format = \"combined\"\npath = \"{}\"\nskip_malformed = true",
        example("nginx/access.log*")
    );
    let c = Case::new(&scenario(&trace, "15m"));
    let (out, err) = c.validate();
    let t = trace_lines(&out);
    assert!(t.contains("trace      access_log (3 files): combined log, files merged in time order; 1 s timestamps spread evenly"), "{t}");
    assert!(t.contains(&format!("from 2024-11-30 10:00:00 UTC, {want} requests, mean")), "{t}");
    assert!(t.contains("1 malformed line(s) skipped; the first: "), "{t}");
    assert!(t.contains("access.log.1:251: found an unclosed quote"), "{t}");
    // The skip is also a warning, on stderr, for `run` as well.
    assert!(
        err.contains("warning: ")
            && err.contains("traffic.trace.skip_malformed: skipped 1 malformed line(s)"),
        "{err}"
    );
    let arrived = c.run_arrivals("out");
    assert_eq!(arrived.iter().sum::<u64>() as usize, want);
    // Without skip_malformed the cut line is an error naming the file and line.
    let strict = trace.replace("\nskip_malformed = true", "");
    Case::new(&scenario(&strict, "15m"))
        .refuses(&["nginx/access.log.1:251: found an unclosed quote in field 5"]);
}

#[test]
fn combined_logs_any_offset_and_a_bad_timestamp() {
    let log = "10.0.0.1 - - [30/Nov/2024:10:00:00 +0000] \"GET /a HTTP/1.1\" 200 10 \"-\" \"curl/8.5.0\"\n\
               10.0.0.2 - bob [30/Nov/2024:05:00:00 -0500] \"GET /b HTTP/1.1\" 200 10 \"-\" \"curl/8.5.0\"\n\
               10.0.0.3 - - [30/Nov/2024:15:30:00 +0530] \"GET /c HTTP/1.1\" 404 0 \"-\" \"curl/8.5.0\"\n\
               10.0.0.4 - - [30/Nov/2024:10:00:59 +0000] \"GET /d HTTP/1.1\" 200 10\n";
    let c = Case::new(&scenario(
        "[traffic.trace]\nformat = \"access_log\"\nlog_format = \"combined\"\npath = \"logs/access.log\"",
        "5m",
    ));
    c.write("logs/access.log", log.as_bytes());
    // 10:00:00 UTC three times (offsets +0000, -0500, +0530), then 10:00:59.
    let (out, _) = c.validate();
    assert!(trace_lines(&out).contains("span 59s from 2024-11-30 10:00:00 UTC, 4 requests, mean 0.07 req/s, peak 3.00 req/s (busiest second)"), "{out}");
    assert_eq!(c.run_arrivals("out"), vec![4, 0, 0, 0, 0]);
    c.write("logs/access.log", log.replace("05:00:00 -0500", "05:00:00 EST").as_bytes());
    c.refuses(&["logs/access.log:2: found `30/Nov/2024:05:00:00 EST` as $time_local (field 4), expected a time like [10/Oct/2000:13:55:36 -0700]"]);
    c.write(
        "logs/access.log",
        log.replace("\"GET /c HTTP/1.1\" 404 0 \"-\" \"curl/8.5.0\"", "\"GET /c HTTP/1.1\"").as_bytes(),
    );
    c.refuses(&["logs/access.log:3: found 5 fields, expected at least 7"]);
}

fn alb_line(created: &str, sent: &str, target_time: &str) -> String {
    format!(
        "https {sent} app/shop/50dc6c495c0c9188 203.0.113.7:53211 10.0.1.17:8080 0.000 {target_time} 0.000 200 200 412 2311 \
         \"GET https://shop.example.com:443/api HTTP/1.1\" \"curl/8.5.0\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 \
         arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067 \"Root=1-674ae2c1-0a1b2c3d4e5f60718293a4b5\" \
         \"shop.example.com\" \"-\" 0 {created} \"forward\" \"-\" \"-\" \"10.0.1.17:8080\" \"200\" \"-\" \"-\" TID_1a2b3c\n"
    )
}

#[test]
fn alb_example_exact_counts_and_sizes_drive_a_linear_demand() {
    let files: Vec<PathBuf> = glob::glob(&example("alb/**/*.log.gz")).unwrap().map(Result::unwrap).collect();
    assert_eq!(files.len(), 4);
    let want: usize = files.iter().map(|f| gunzip(f).lines().count()).sum();
    assert_eq!(want, 1850);
    let c = Case::new(
        &std::fs::read_to_string(format!("{ROOT}/configs/replay-access-log.toml")).unwrap().replace(
            "../traces/production-formats/alb/AWSLogs/**/*.log.gz",
            &example("alb/AWSLogs/**/*.log.gz"),
        ),
    );
    let (out, _) = c.validate();
    let t = trace_lines(&out);
    assert!(t.contains("access_log (4 files): ALB log, files merged in time order; 2 size value(s) of target_processing_time were -1"), "{t}");
    assert!(t.contains(&format!("from 2024-11-30 10:00:00 UTC, {want} requests")), "{t}");
    let res = c.cmd(&["run", "s.toml", "--out", "out"]);
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(c.path("out/summary.json")).unwrap()).unwrap();
    for p in summary["policies"].as_array().unwrap() {
        assert_eq!(p["requests"].as_u64(), Some(want as u64), "{}", p["policy"]);
    }
}

#[test]
fn alb_files_are_sorted_by_creation_time_across_files() {
    // Two nodes' files, each in response order; arrivals interleave across them.
    let a = alb_line("2024-11-30T10:00:01.500000Z", "2024-11-30T10:00:01.600000Z", "0.100")
        + &alb_line("2024-11-30T10:00:00.100000Z", "2024-11-30T10:00:03.000000Z", "2.900");
    let b = alb_line("2024-11-30T10:00:00.900000Z", "2024-11-30T10:00:01.000000Z", "0.100")
        + &alb_line("2024-11-30T10:01:30.000000Z", "2024-11-30T10:01:30.050000Z", "-1");
    let c = Case::new(&scenario(
        "[traffic.trace]\nformat = \"access_log\"\nlog_format = \"alb\"\npath = \"logs/*/*.log.gz\"\nsize_columns = [\"target_processing_time\"]",
        "5m",
    ));
    c.write("logs/n1/app.shop_20241130T1005Z_10.0.0.1_a.log.gz", &gz(&a));
    c.write("logs/n2/app.shop_20241130T1005Z_10.0.0.2_b.log.gz", &gz(&b));
    let (out, _) = c.validate();
    // 10:00:00.1 .. 10:01:30.0.
    assert!(
        trace_lines(&out).contains("span 1m 29s 900ms from 2024-11-30 10:00:00 UTC, 4 requests"),
        "{out}"
    );
    assert_eq!(c.run_arrivals("out"), vec![3, 1, 0, 0, 0]);
    // A bad line in the second file names that file and line.
    c.write(
        "logs/n2/app.shop_20241130T1005Z_10.0.0.2_b.log.gz",
        &gz(&(b.clone() + &alb_line("yesterday", "2024-11-30T10:02:00Z", "0.1"))),
    );
    c.refuses(&["logs/n2/app.shop_20241130T1005Z_10.0.0.2_b.log.gz:3: found `yesterday` as request_creation_time (field 22)"]);
    // A truncated line: too few fields.
    let short: String = alb_line("2024-11-30T10:00:00Z", "2024-11-30T10:00:00Z", "0.1")
        .split(' ')
        .take(12)
        .collect::<Vec<_>>()
        .join(" ");
    c.write("logs/n2/app.shop_20241130T1005Z_10.0.0.2_b.log.gz", &gz(&(b + &short + "\n")));
    c.refuses(&["_b.log.gz:3: found 12 fields, expected at least 22"]);
    // A glob that matches nothing.
    let none = Case::new(&scenario(
        "[traffic.trace]\nformat = \"access_log\"\nlog_format = \"alb\"\npath = \"logs/*.log.gz\"",
        "5m",
    ));
    none.refuses(&["traffic.trace.path", "logs/*.log.gz`: no file matches the pattern"]);
    // A size field the format does not have.
    let bad = Case::new(&scenario(
        "[traffic.trace]\nformat = \"access_log\"\nlog_format = \"alb\"\npath = \"x.log\"\nsize_columns = [\"latency\"]",
        "5m",
    ));
    bad.refuses(&[
        "traffic.trace.size_columns[0]",
        "found \"latency\", expected a numeric field of the ALB log",
    ]);
}

// ---- Azure Functions -------------------------------------------------------------------------

/// Per-minute sums of the rows of `file` kept by `keep(app_hash, trigger)`.
fn azure_counts(file: &str, keep: impl Fn(&str, &str) -> bool) -> Vec<u64> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut sums = vec![0u64; 1440];
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 1444);
        if keep(f[1], f[3]) {
            for (s, v) in sums.iter_mut().zip(&f[4..]) {
                *s += v.parse::<u64>().unwrap();
            }
        }
    }
    sums
}

const STOREFRONT: &str = "dc900b31335238ddc208d5b877d113178496c5154ad77b938c0c7e4bf886a698";

#[test]
fn azure_functions_two_days_exact_per_minute() {
    let day = |d: u32| example(&format!("azure-functions/invocations_per_function_md.anon.d{d:02}.csv"));
    let keep = |app: &str, trig: &str| app == STOREFRONT && trig == "http";
    let mut want = azure_counts(&day(1), keep);
    want.extend(azure_counts(&day(2), keep));
    let trace = format!(
        "[traffic.trace]\nformat = \"azure_functions\"\npath = \"{}\"\napp = \"{STOREFRONT}\"\ntrigger = \"http\"",
        example("azure-functions/invocations_per_function_md.anon.d*.csv")
    );
    let c = Case::new(&scenario(&trace, "48h"));
    let (out, _) = c.validate();
    let t = trace_lines(&out);
    assert!(t.contains("azure_functions (2 files): days d01–d02: 6 of 28 rows summed"), "{t}");
    let total: u64 = want.iter().sum();
    assert!(t.contains(&format!("span 2days, {total} requests, mean")), "{t}");
    // Exactly the trace's count in every minute of both days, in day order.
    let arrived = c.run_arrivals("out");
    assert_eq!(arrived, want);
    // Same seed, same bytes; another seed moves the arrivals inside the minutes, not between.
    let again = c.run_arrivals("again");
    assert_eq!(again, arrived);
    let ts = |d: &str| std::fs::read(c.path(d).join("timeseries.csv")).unwrap();
    assert_eq!(ts("out"), ts("again"));
    let other = Case::new(&scenario(&trace, "48h").replace("seed = 5", "seed = 6"));
    assert_eq!(other.run_arrivals("out"), want);
    assert_ne!(std::fs::read(other.path("out/timeseries.csv")).unwrap(), ts("out"));
}

#[test]
fn azure_functions_selection_and_bad_files() {
    let d01 =
        std::fs::read_to_string(example("azure-functions/invocations_per_function_md.anon.d01.csv")).unwrap();
    let c = Case::new(&scenario(
        "[traffic.trace]\nformat = \"azure_functions\"\npath = \"invocations_per_function_md.anon.d*.csv\"\ntrigger = \"timer\"",
        "24h",
    ));
    c.write("invocations_per_function_md.anon.d01.csv", d01.as_bytes());
    let (out, _) = c.validate();
    // Timers: every minute (1440), every 5 minutes (288), hourly (24), daily (1).
    assert!(trace_lines(&out).contains("day d01: 4 of 14 rows summed (trigger = \"timer\")"), "{out}");
    assert!(trace_lines(&out).contains("span 1day, 1753 requests"), "{out}");
    // A row one column short.
    let mut lines: Vec<String> = d01.lines().map(String::from).collect();
    let cut = lines[2].rfind(',').unwrap();
    lines[2].truncate(cut);
    c.write("invocations_per_function_md.anon.d01.csv", (lines.join("\n") + "\n").as_bytes());
    c.refuses(&["invocations_per_function_md.anon.d01.csv:3: found 1443 fields, expected 1444"]);
    // A count that is not a whole number, in a selected (timer) row.
    let mut lines: Vec<String> = d01.lines().map(String::from).collect();
    let row = lines.iter().position(|l| l.contains(",timer,")).unwrap();
    let mut f: Vec<&str> = lines[row].split(',').collect();
    f[4] = "1.5";
    lines[row] = f.join(",");
    c.write("invocations_per_function_md.anon.d01.csv", (lines.join("\n") + "\n").as_bytes());
    c.refuses(&[&format!(
        "invocations_per_function_md.anon.d01.csv:{}:5: column `1`: found `1.5`, expected a whole number of invocations",
        row + 1
    )]);
    // Days 1 and 3 without day 2.
    c.write("invocations_per_function_md.anon.d01.csv", d01.as_bytes());
    c.write("invocations_per_function_md.anon.d03.csv", d01.as_bytes());
    c.refuses(&["found days 1 and 3 but none between"]);
    // A function that is in no file, and a trigger that does not exist.
    let none = Case::new(&scenario(
        &format!(
            "[traffic.trace]\nformat = \"azure_functions\"\npath = \"{}\"\nfunction = \"0000\"",
            example("azure-functions/*.d01.csv")
        ),
        "1h",
    ));
    none.refuses(&["no row of 1 file(s) (14 rows) has function = \"0000\""]);
    let trig = Case::new(&scenario(
        "[traffic.trace]\nformat = \"azure_functions\"\npath = \"x.csv\"\ntrigger = \"HTTP\"",
        "1h",
    ));
    trig.refuses(&["traffic.trace.trigger", "found \"HTTP\", expected one of \"http\", \"timer\""]);
}

// ---- The shipped configs --------------------------------------------------------------------

#[test]
fn every_format_example_runs() {
    for name in ["replay-prometheus", "replay-access-log", "replay-azure-functions"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = Command::cargo_bin("scalesim")
            .unwrap()
            .current_dir(ROOT)
            .args(["run", &format!("configs/{name}.toml"), "--out"])
            .arg(tmp.path())
            .timeout(std::time::Duration::from_secs(300))
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(tmp.path().join("summary.json").exists(), "{name}");
    }
    // grafana_csv, through the alternative the prometheus config describes.
    let text = std::fs::read_to_string(format!("{ROOT}/configs/replay-prometheus.toml"))
        .unwrap()
        .replace(
            "format = \"prometheus\"\npath = \"../traces/production-formats/prometheus/query_range.json\"",
            "format = \"grafana_csv\"\npath = \"../traces/production-formats/grafana/shop-web-requests.csv\"",
        )
        .replace("../traces/production-formats/", &example(""));
    assert!(text.contains("format = \"grafana_csv\""));
    let c = Case::new(&text);
    let out = c.cmd(&["run", "s.toml", "--no-oracle", "--out", "out"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

// ---- Determinism and the common options, through the library -------------------------------

fn arrivals(sc: &scalesim::scenario::Scenario, seed: u64) -> Vec<scalesim::traffic::Arrival> {
    let mut s = sc.traffic.source(seed, &sc.clock, sc.duration);
    let mut v = Vec::new();
    while let Some(a) = s.next_arrival() {
        v.push(a);
    }
    v
}

#[test]
fn same_seed_same_arrivals_for_every_format() {
    for name in ["replay-prometheus", "replay-access-log", "replay-azure-functions"] {
        let sc = scalesim::config::load(&Path::new(ROOT).join(format!("configs/{name}.toml")), &[]).unwrap();
        let a = arrivals(&sc, 1);
        assert!(!a.is_empty(), "{name}");
        assert!(a.windows(2).all(|w| w[0].time <= w[1].time), "{name}: time order");
        assert_eq!(a, arrivals(&sc, 1), "{name}");
        let b = arrivals(&sc, 2);
        if name == "replay-access-log" {
            // An exact replay does not depend on the seed at all.
            assert_eq!(a, b);
            assert_eq!(a.len() as f64, sc.traffic.expected_requests(&sc.clock, sc.duration));
            assert!(a.iter().any(|x| x.sizes[0] > 0.3), "target_processing_time is carried");
        } else {
            assert_ne!(a, b, "{name}");
        }
        if name == "replay-azure-functions" {
            assert_eq!(a.len(), b.len());
            assert_eq!(a.len() as f64, sc.traffic.expected_requests(&sc.clock, sc.duration));
        }
    }
}

#[test]
fn offset_loop_speedup_and_scale_apply_to_the_new_formats() {
    let d = example("azure-functions");
    let load = |trace: &str, duration: &str| {
        scalesim::config::load_str(&scenario(trace, duration), "s.toml", Path::new(&d), &[]).unwrap()
    };
    let per_minute = |sc: &scalesim::scenario::Scenario| {
        let mut m = vec![0u64; (sc.duration / 60_000_000) as usize];
        for a in arrivals(sc, 3) {
            m[(a.time / 60_000_000) as usize] += 1;
        }
        m
    };
    let base = "[traffic.trace]\nformat = \"azure_functions\"\npath = \"invocations_per_function_md.anon.d*.csv\"\ntrigger = \"http\"";
    let both = per_minute(&load(base, "48h"));
    // start_offset: the second day first.
    let day2 = per_minute(&load(&format!("{base}\nstart_offset = \"24h\""), "24h"));
    assert_eq!(day2[..], both[1440..]);
    // loop: two days, then the first again.
    let looped = per_minute(&load(&format!("{base}\nloop = true"), "49h"));
    assert_eq!(looped[..2880], both[..]);
    assert_eq!(looped[2880..], both[..60]);
    // speedup 2: a trace minute in 30 s.
    let fast = load(&format!("{base}\nspeedup = 2.0"), "1h");
    let n = arrivals(&fast, 3).len() as u64;
    assert_eq!(n, both[..120].iter().sum::<u64>());
    // scale 2 (trace) × traffic.scale 1.5: each invocation 3 times.
    let scaled = load(
        &format!("{base}\nscale = 2.0").replace("[traffic.trace]", "[traffic]\nscale = 1.5\n[traffic.trace]"),
        "1h",
    );
    assert_eq!(arrivals(&scaled, 3).len() as u64, 3 * both[..60].iter().sum::<u64>());
    // A start_offset past the end without loop is refused.
    let e = scalesim::config::load_str(
        &scenario(&format!("{base}\nstart_offset = \"49h\""), "1h"),
        "s.toml",
        Path::new(&d),
        &[],
    )
    .unwrap_err();
    assert!(e.to_string().contains("traffic.trace.start_offset"), "{e}");
    // The same options on a rate series: prometheus sped up 2× covers 2 h of trace in 1 h.
    let p = example("prometheus");
    let prom = scalesim::config::load_str(
        &scenario("[traffic.trace]\nformat = \"prometheus\"\npath = \"query_range.json\"\nmissing = \"zero\"\nspeedup = 2.0", "1h"),
        "s.toml",
        Path::new(&p),
        &[],
    )
    .unwrap();
    let slow = scalesim::config::load_str(
        &scenario(
            "[traffic.trace]\nformat = \"prometheus\"\npath = \"query_range.json\"\nmissing = \"zero\"",
            "2h",
        ),
        "s.toml",
        Path::new(&p),
        &[],
    )
    .unwrap();
    let e_fast = prom.traffic.expected_requests(&prom.clock, prom.duration);
    let e_slow = slow.traffic.expected_requests(&slow.clock, slow.duration);
    assert!((e_fast - e_slow).abs() < 1e-6 * e_slow, "{e_fast} vs {e_slow}");
}
