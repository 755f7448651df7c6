//! Access logs, one request per line, replayed exactly: nginx/Apache `combined` (and `common`)
//! logs, and AWS Application Load Balancer logs.
//!
//! * **combined**: `$remote_addr - $remote_user [$time_local] "$request" $status
//!   $body_bytes_sent "$http_referer" "$http_user_agent"`; the time has 1 s resolution and any
//!   UTC offset (`[10/Oct/2000:13:55:36 -0700]`). The requests of one second are spread evenly
//!   over it (`k/n` for the `k`-th of `n`), deterministically. Trailing fields beyond the
//!   `common` seven (referer, user agent, anything a custom format appends) are ignored.
//! * **alb**: space-separated fields, quoted ones in double quotes; the arrival is field 22,
//!   `request_creation_time` (ISO 8601 UTC, microseconds). Entries are written in response
//!   order, so they are sorted by creation time. Unknown trailing fields are ignored.
//!
//! [`parse_log`] reads one file (pure, over its text) into arrival times in Unix microseconds;
//! [`assemble`] merges the files of a trace in time order into a [`RequestTrace`]. A malformed
//! line is an error with its line number, or skipped and counted.

use super::{RequestTrace, TraceError, err};
use crate::traffic::MAX_SIZES;

/// Which log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// nginx / Apache combined (or common) log format.
    Combined,
    /// AWS Application Load Balancer access log.
    Alb,
}

/// Fields usable as request sizes, by name, with their 0-based field index.
const COMBINED_SIZES: [(&str, usize); 1] = [("body_bytes_sent", 6)];
const ALB_SIZES: [(&str, usize); 5] = [
    ("request_processing_time", 5),
    ("target_processing_time", 6),
    ("response_processing_time", 7),
    ("received_bytes", 10),
    ("sent_bytes", 11),
];
/// ALB connection types (field 1).
const ALB_TYPES: [&str; 6] = ["http", "https", "h2", "grpcs", "ws", "wss"];
/// 0-based index of `request_creation_time`.
const ALB_CREATION: usize = 21;
/// Fields of the `common` log format.
const COMMON_FIELDS: usize = 7;

impl LogFormat {
    /// Names of the numeric fields that can be size columns.
    pub fn size_fields(self) -> Vec<&'static str> {
        self.sizes().iter().map(|(n, _)| *n).collect()
    }

    fn sizes(self) -> &'static [(&'static str, usize)] {
        match self {
            LogFormat::Combined => &COMBINED_SIZES,
            LogFormat::Alb => &ALB_SIZES,
        }
    }

    /// The field index of the size column `name`.
    pub fn size_field(self, name: &str) -> Option<usize> {
        self.sizes().iter().find(|(n, _)| *n == name).map(|(_, i)| *i)
    }
}

/// One file's requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedLog {
    /// Arrival times, Unix microseconds, in file order.
    pub micros: Vec<i64>,
    /// Sizes per request (empty without size fields).
    pub sizes: Vec<[f64; MAX_SIZES]>,
    /// Malformed lines skipped (`skip_malformed`).
    pub skipped: u64,
    /// The first skipped line and why.
    pub first_skipped: Option<(u64, String)>,
    /// Requests whose size field was `-1` (ALB: not dispatched, or no response) or `-`, taken as 0.
    pub undefined_sizes: u64,
}

/// Splits a log line into fields: space-separated, `"quoted"` (with `\"` and `\\` escapes) or
/// `[bracketed]`. Returns the field texts without their quotes or brackets, or why not.
fn fields<'l>(line: &'l str, out: &mut Vec<&'l str>) -> Result<(), String> {
    out.clear();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' => i += 1,
            b'"' => {
                let start = i + 1;
                let mut j = start;
                loop {
                    match b.get(j) {
                        None => return Err(format!("found an unclosed quote in field {}", out.len() + 1)),
                        Some(b'\\') => j += 2,
                        Some(b'"') => break,
                        Some(_) => j += 1,
                    }
                }
                let j = j.min(b.len());
                out.push(&line[start..j]);
                i = j + 1;
            }
            b'[' => {
                let start = i + 1;
                let Some(k) = line[start..].find(']') else {
                    return Err(format!("found an unclosed `[` in field {}", out.len() + 1));
                };
                out.push(&line[start..start + k]);
                i = start + k + 1;
            }
            _ => {
                let start = i;
                while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                    i += 1;
                }
                out.push(&line[start..i]);
            }
        }
    }
    Ok(())
}

fn size_value(s: &str, undefined: &mut u64) -> Option<f64> {
    if s == "-" || s == "-1" {
        *undefined += 1;
        return Some(0.0);
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0)
}

/// Reads one line; `Ok(None)` for a blank line.
fn parse_line<'l>(
    line: &'l str,
    format: LogFormat,
    size_fields: &[(String, usize)],
    buf: &mut Vec<&'l str>,
    undefined: &mut u64,
) -> Result<Option<(i64, [f64; MAX_SIZES])>, String> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    fields(line, buf)?;
    let micros = match format {
        LogFormat::Combined => {
            if buf.len() < COMMON_FIELDS {
                return Err(format!(
                    "found {} fields, expected at least {COMMON_FIELDS}: $remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent (then optionally \"$http_referer\" \"$http_user_agent\")",
                    buf.len()
                ));
            }
            let t = buf[3];
            let d = chrono::DateTime::parse_from_str(t, "%d/%b/%Y:%H:%M:%S %z").map_err(|_| {
                format!(
                    "found `{t}` as $time_local (field 4), expected a time like [10/Oct/2000:13:55:36 -0700]"
                )
            })?;
            let status = buf[5];
            if !(status.len() == 3 && status.bytes().all(|c| c.is_ascii_digit())) {
                return Err(format!(
                    "found `{status}` as the status (field 6), expected a 3-digit HTTP status"
                ));
            }
            let bytes = buf[6];
            if !(bytes == "-" || bytes.bytes().all(|c| c.is_ascii_digit())) {
                return Err(format!(
                    "found `{bytes}` as $body_bytes_sent (field 7), expected a number of bytes or `-`"
                ));
            }
            // Within chrono's range this cannot overflow; checked all the same.
            d.timestamp().checked_mul(1_000_000).ok_or_else(|| {
                format!("found `{t}` as $time_local (field 4), expected a time between the years 1 and 9999")
            })?
        }
        LogFormat::Alb => {
            if buf.len() <= ALB_CREATION {
                return Err(format!(
                    "found {} fields, expected at least {} (request_creation_time is field {})",
                    buf.len(),
                    ALB_CREATION + 1,
                    ALB_CREATION + 1
                ));
            }
            if !ALB_TYPES.contains(&buf[0]) {
                return Err(format!(
                    "found `{}` as the type (field 1), expected one of {}",
                    buf[0],
                    ALB_TYPES.join(", ")
                ));
            }
            let t = buf[ALB_CREATION];
            let d = chrono::DateTime::parse_from_rfc3339(t).map_err(|_| {
                format!(
                    "found `{t}` as request_creation_time (field {}), expected an ISO 8601 time like 2024-11-30T10:00:00.123456Z",
                    ALB_CREATION + 1
                )
            })?;
            d.timestamp_micros()
        }
    };
    let mut sizes = [0.0; MAX_SIZES];
    for (k, (name, fi)) in size_fields.iter().enumerate() {
        let s = buf[*fi];
        sizes[k] = size_value(s, undefined).ok_or_else(|| {
            format!("found `{s}` as {name} (field {}), expected a non-negative number", fi + 1)
        })?;
    }
    Ok(Some((micros, sizes)))
}

/// Parses one log file. `size_fields` are (name, 0-based field index) pairs from
/// [`LogFormat::size_field`]. A malformed line is an error naming its line, unless
/// `skip_malformed` (then it is counted).
pub fn parse_log(
    text: &str,
    format: LogFormat,
    size_fields: &[(String, usize)],
    skip_malformed: bool,
) -> Result<ParsedLog, TraceError> {
    let mut out = ParsedLog::default();
    let mut buf: Vec<&str> = Vec::with_capacity(32);
    for (i, line) in text.lines().enumerate() {
        let n = i as u64 + 1;
        match parse_line(line, format, size_fields, &mut buf, &mut out.undefined_sizes) {
            Ok(None) => {}
            Ok(Some((t, s))) => {
                out.micros.push(t);
                if !size_fields.is_empty() {
                    out.sizes.push(s);
                }
            }
            Err(m) if skip_malformed => {
                out.skipped += 1;
                if out.first_skipped.is_none() {
                    out.first_skipped = Some((n, m));
                }
            }
            Err(m) => {
                let hint = " (or set skip_malformed = true to skip such lines)";
                return Err(err(n, None, format!("{m}{hint}")));
            }
        }
    }
    Ok(out)
}

/// Merges the files of one trace in arrival order (stable: equal times keep file order) into a
/// [`RequestTrace`] relative to the first arrival, and returns that arrival's Unix
/// microseconds. Combined logs' whole seconds are spread evenly over each second.
pub fn assemble(parts: Vec<ParsedLog>, format: LogFormat, size_columns: Vec<String>) -> (RequestTrace, i64) {
    let with_sizes = !size_columns.is_empty();
    let mut micros: Vec<i64> = Vec::with_capacity(parts.iter().map(|p| p.micros.len()).sum());
    let mut sizes: Vec<[f64; MAX_SIZES]> = Vec::new();
    for p in parts {
        micros.extend_from_slice(&p.micros);
        if with_sizes {
            sizes.extend_from_slice(&p.sizes);
        }
    }
    if with_sizes {
        let mut order: Vec<u32> = (0..micros.len() as u32).collect();
        order.sort_by_key(|&i| micros[i as usize]);
        micros = order.iter().map(|&i| micros[i as usize]).collect();
        sizes = order.iter().map(|&i| sizes[i as usize]).collect();
    } else {
        micros.sort_unstable();
    }
    let first = micros.first().copied().unwrap_or(0);
    let times = match format {
        // Differences in i128: two times of chrono's range differ by more than an i64 holds.
        LogFormat::Alb => micros.iter().map(|&t| (i128::from(t) - i128::from(first)) as f64 * 1e-6).collect(),
        LogFormat::Combined => {
            let mut times = Vec::with_capacity(micros.len());
            let mut i = 0;
            while i < micros.len() {
                let j = i + micros[i..].iter().take_while(|&&t| t == micros[i]).count();
                let n = (j - i) as f64;
                let base = (i128::from(micros[i]) - i128::from(first)) as f64 * 1e-6;
                times.extend((0..j - i).map(|k| base + k as f64 / n));
                i = j;
            }
            times
        }
    };
    (RequestTrace { times, sizes, size_columns }, first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NGINX: &str = r#"203.0.113.7 - - [30/Nov/2024:10:00:00 +0100] "GET /api/items?id=7 HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64)"
198.51.100.23 - alice [30/Nov/2024:10:00:00 +0100] "POST /api/cart HTTP/2.0" 201 48 "https://shop.example/" "curl/8.5.0"
192.0.2.44 - - [30/Nov/2024:10:00:02 +0100] "-" 400 0 "-" "-"
192.0.2.45 - - [30/Nov/2024:04:00:01 -0500] "GET /q?s=\"x\" HTTP/1.1" 200 - "-" "sc\"anner"
"#;

    #[test]
    fn combined_any_offset_spread_within_the_second() {
        let p = parse_log(NGINX, LogFormat::Combined, &[], false).unwrap();
        assert_eq!(p.micros.len(), 4);
        // 10:00:00 +0100 = 09:00:00Z; 04:00:01 -0500 = 09:00:01Z.
        assert_eq!(p.micros[0], 1_732_957_200_000_000);
        assert_eq!(p.micros[3], 1_732_957_201_000_000);
        let (tr, first) = assemble(vec![p], LogFormat::Combined, vec![]);
        assert_eq!(first, 1_732_957_200_000_000);
        assert_eq!(tr.times, vec![0.0, 0.5, 1.0, 2.0]);
        assert!(tr.sizes.is_empty());
        let sizes = [("body_bytes_sent".to_string(), 6)];
        let p = parse_log(NGINX, LogFormat::Combined, &sizes, false).unwrap();
        assert_eq!(p.sizes.iter().map(|s| s[0]).collect::<Vec<_>>(), vec![512.0, 48.0, 0.0, 0.0]);
        assert_eq!(p.undefined_sizes, 1);
    }

    #[test]
    fn malformed_lines_error_or_are_counted() {
        let bad = format!(
            "{NGINX}not a log line\n10.0.0.1 - - [30/Nov/2024:25:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n"
        );
        let e = parse_log(&bad, LogFormat::Combined, &[], false).unwrap_err();
        assert!(e.to_string().starts_with("line 5: found 4 fields, expected at least 7"), "{e}");
        let p = parse_log(&bad, LogFormat::Combined, &[], true).unwrap();
        assert_eq!((p.micros.len(), p.skipped), (4, 2));
        assert_eq!(p.first_skipped.as_ref().unwrap().0, 5);
        let e = parse_log(&bad.replace("not a log line\n", ""), LogFormat::Combined, &[], false).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "line 5: found `30/Nov/2024:25:00:00 +0000` as $time_local (field 4), expected a time like [10/Oct/2000:13:55:36 -0700]"
            ),
            "{e}"
        );
        let e = parse_log(
            "1.2.3.4 - - [30/Nov/2024:10:00:00 +0000] \"GET / HTTP/1.1 200 1\n",
            LogFormat::Combined,
            &[],
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("unclosed quote"), "{e}");
    }

    const ALB: &str = r#"https 2024-11-30T10:00:01.412345Z app/shop-prod/50dc6c495c0c9188 203.0.113.7:53211 10.0.1.17:8080 0.000 0.352 0.000 200 200 412 2311 "GET https://shop.example.com:443/api/items?id=7 HTTP/1.1" "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/73e2d6bc24d8a067 "Root=1-674ae2c1-0a1b2c3d4e5f60718293a4b5" "shop.example.com" "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 0 2024-11-30T10:00:01.060000Z "forward" "-" "-" "10.0.1.17:8080" "200" "-" "-" TID_1a2b3c4d5e6f
h2 2024-11-30T10:00:01.100000Z app/shop-prod/50dc6c495c0c9188 198.51.100.23:40112 10.0.2.31:8080 0.001 0.021 0.000 200 200 230 890 "GET https://shop.example.com:443/health HTTP/2.0" "kube-probe/1.29" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/73e2d6bc24d8a067 "Root=1-674ae2c1-1b2c3d4e5f60718293a4b5c6" "shop.example.com" "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 0 2024-11-30T10:00:01.078000Z "forward" "-" "-" "10.0.2.31:8080" "200" "-" "-" TID_2b3c4d5e6f7a
https 2024-11-30T10:00:31.000100Z app/shop-prod/50dc6c495c0c9188 192.0.2.44:1024 - -1 -1 -1 504 - 120 0 "POST https://shop.example.com:443/api/checkout HTTP/1.1" "okhttp/4.12.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/73e2d6bc24d8a067 "Root=1-674ae2c1-2c3d4e5f60718293a4b5c6d7" "shop.example.com" "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 0 2024-11-30T10:00:01.000100Z "forward" "-" "TargetConnectionError" "10.0.1.17:8080" "-" "-" "-" TID_3c4d5e6f7a8b
"#;

    #[test]
    fn alb_sorted_by_creation_time_with_sizes() {
        let sizes = [("target_processing_time".to_string(), 6)];
        let p = parse_log(ALB, LogFormat::Alb, &sizes, false).unwrap();
        assert_eq!(p.micros.len(), 3);
        assert_eq!(p.undefined_sizes, 1);
        let (tr, first) = assemble(vec![p], LogFormat::Alb, vec!["target_processing_time".into()]);
        assert_eq!(first, 1_732_960_801_000_100);
        assert_eq!(tr.times.len(), 3);
        assert!((tr.times[1] - 0.0599).abs() < 1e-9 && (tr.times[2] - 0.0779).abs() < 1e-9, "{:?}", tr.times);
        assert_eq!(tr.sizes.iter().map(|s| s[0]).collect::<Vec<_>>(), vec![0.0, 0.352, 0.021]);
        let e =
            parse_log("http 2024-11-30T10:00:01Z app/x 1.2.3.4:1 - 0 0 0 200\n", LogFormat::Alb, &[], false)
                .unwrap_err();
        assert!(e.to_string().starts_with("line 1: found 9 fields, expected at least 22"), "{e}");
        let e = parse_log(NGINX, LogFormat::Alb, &[], false).unwrap_err();
        assert!(e.to_string().starts_with("line 1: found 9 fields, expected at least 22"), "{e}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(crate::traffic::trace::fuzz::CASES))]

        /// Both log formats never panic on arbitrary bytes or a mutated log; every error has a
        /// line; the merge of what parses never overflows.
        #[test]
        fn logs_fuzz(noise in crate::traffic::trace::fuzz::bytes(), edits in crate::traffic::trace::fuzz::edits()) {
            use crate::traffic::trace::fuzz;
            for (format, valid) in [(LogFormat::Combined, NGINX), (LogFormat::Alb, ALB)] {
                let sizes: Vec<(String, usize)> =
                    format.size_fields().iter().map(|n| (n.to_string(), format.size_field(n).unwrap())).take(MAX_SIZES).collect();
                for text in [noise.clone(), fuzz::mutate(valid, &edits)] {
                    for skip in [false, true] {
                        match parse_log(&text, format, &sizes, skip) {
                            Err(e) => proptest::prop_assert!(fuzz::located(&e), "{e:?}"),
                            Ok(p) => {
                                let names = sizes.iter().map(|(n, _)| n.clone()).collect();
                                let (t, _) = assemble(vec![p.clone(), p], format, names);
                                proptest::prop_assert!(t.times.windows(2).all(|w| w[0] <= w[1]));
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn times_of_chrono_extremes_do_not_overflow() {
        let line = |t: &str| format!("1.2.3.4 - - [{t}] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"\n");
        let text = line("01/Jan/-200000:00:00:00 +0000") + &line("01/Jan/+200000:00:00:00 +0000");
        if let Ok(p) = parse_log(&text, LogFormat::Combined, &[], false) {
            let (t, _) = assemble(vec![p], LogFormat::Combined, vec![]);
            assert!(t.times.iter().all(|x| x.is_finite() && *x >= 0.0));
        }
    }
}
