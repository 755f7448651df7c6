//! The Azure Functions trace 2019 (AzurePublicDataset): `invocations_per_function_md.anon.dNN.csv`,
//! one file per day, one row per function with `HashOwner`, `HashApp`, `HashFunction`, `Trigger`
//! and the invocations in each minute of the day (UTC), columns `1` … `1440`.
//!
//! [`parse_invocations`] sums the rows a [`Selection`] keeps into per-minute counts; the config
//! layer puts the days in order (by the `dNN` of their names, [`day_number`]) into a
//! [`super::counts::CountSeries`], replayed with exactly those counts.

use super::{MAX_TRACE_REQUESTS, MAX_TRACE_REQUESTS_TEXT, TraceError, csv_error, err, lf};

/// Minutes in a day file.
pub const MINUTES: usize = 1440;
/// The columns before the minutes.
pub const KEY_COLUMNS: [&str; 4] = ["HashOwner", "HashApp", "HashFunction", "Trigger"];
/// The trigger kinds of the dataset.
pub const TRIGGERS: [&str; 7] = ["http", "timer", "event", "queue", "storage", "orchestration", "others"];

/// Which rows count; `None` keeps every row. Conditions combine (all must hold).
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    /// `HashFunction`.
    pub function: Option<&'a str>,
    /// `HashApp`.
    pub app: Option<&'a str>,
    /// `Trigger`.
    pub trigger: Option<&'a str>,
}

/// One day file, summed over the selected rows.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureDay {
    /// Invocations in each minute (1440).
    pub counts: Vec<u64>,
    /// Data rows in the file.
    pub rows: u64,
    /// Rows the selection kept.
    pub matched: u64,
    /// Invocations in the day (the sum of `counts`).
    pub total: u64,
}

/// The day number `NN` of a file named like `invocations_per_function_md.anon.dNN.csv`
/// (optionally `.gz`).
pub fn day_number(file_name: &str) -> Option<u32> {
    let i = file_name.rfind(".d")?;
    let digits: String = file_name[i + 2..].chars().take_while(char::is_ascii_digit).collect();
    let rest = &file_name[i + 2 + digits.len()..];
    if digits.is_empty() || !rest.starts_with('.') {
        return None;
    }
    digits.parse().ok()
}

/// Parses one day file.
pub fn parse_invocations(text: &str, sel: Selection<'_>) -> Result<AzureDay, TraceError> {
    parse_day(text, sel, 0)
}

/// Parses one day file that follows days holding `before` invocations: the counts are summed
/// in checked arithmetic, and a value that brings the trace past [`MAX_TRACE_REQUESTS`] is an
/// error naming its line and minute.
pub fn parse_day(text: &str, sel: Selection<'_>, before: u64) -> Result<AzureDay, TraceError> {
    let text = lf(text.strip_prefix('\u{feff}').unwrap_or(text));
    let text = text.as_ref();
    let expected_header = "HashOwner,HashApp,HashFunction,Trigger,1,2,…,1440";
    if text.trim().is_empty() {
        return Err(err(1, None, format!("the file is empty, expected the header {expected_header}")));
    }
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => return Err(csv_error(&e)),
    };
    for (i, h) in headers.iter().enumerate() {
        let want = if i < 4 { KEY_COLUMNS[i].to_string() } else { (i - 3).to_string() };
        if *h != want {
            return Err(err(
                1,
                Some((i, h)),
                format!("found `{h}`, expected `{want}` (the header is {expected_header})"),
            ));
        }
    }
    if headers.len() != 4 + MINUTES {
        return Err(err(
            1,
            None,
            format!(
                "found {} columns, expected {} (the header is {expected_header})",
                headers.len(),
                4 + MINUTES
            ),
        ));
    }
    let mut day = AzureDay { counts: vec![0; MINUTES], rows: 0, matched: 0, total: 0 };
    let room = MAX_TRACE_REQUESTS.saturating_sub(before);
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&e)),
        }
        day.rows += 1;
        let keep = sel.function.is_none_or(|f| &rec[2] == f)
            && sel.app.is_none_or(|a| &rec[1] == a)
            && sel.trigger.is_none_or(|t| &rec[3] == t);
        if !keep {
            continue;
        }
        day.matched += 1;
        let line = rec.position().map_or(0, |p| p.line());
        for (m, slot) in day.counts.iter_mut().enumerate() {
            let s = &rec[4 + m];
            let n = match s.parse::<u64>() {
                Ok(n) => n,
                Err(_) => match s.parse::<f64>() {
                    // `1e3`, or a count past u64 (saturated, then refused below).
                    Ok(x) if x >= 0.0 && x.fract() == 0.0 => x as u64,
                    _ => {
                        return Err(err(
                            line,
                            Some((4 + m, &headers[4 + m])),
                            format!("found `{s}`, expected a whole number of invocations"),
                        ));
                    }
                },
            };
            // `room` is at most 10^12, so neither sum can wrap round once this check passed.
            if n > room - day.total {
                return Err(err(
                    line,
                    Some((4 + m, &headers[4 + m])),
                    format!(
                        "found `{s}` invocations in minute {}, which brings the trace to more than the \
                         {MAX_TRACE_REQUESTS_TEXT} requests a trace may hold (every request is simulated); \
                         expected the count the trace recorded: check this value, or select fewer rows \
                         with function, app or trigger, or fewer day files",
                        m + 1
                    ),
                ));
            }
            day.total += n;
            *slot += n;
        }
    }
    Ok(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> String {
        let mut h = KEY_COLUMNS.join(",");
        for m in 1..=MINUTES {
            h.push_str(&format!(",{m}"));
        }
        h
    }

    fn row(owner: &str, app: &str, func: &str, trig: &str, f: impl Fn(usize) -> u64) -> String {
        let mut r = format!("{owner},{app},{func},{trig}");
        for m in 0..MINUTES {
            r.push_str(&format!(",{}", f(m)));
        }
        r
    }

    #[test]
    fn sums_selected_rows_per_minute() {
        let text = format!(
            "{}\n{}\n{}\n{}\n",
            header(),
            row("o1", "a1", "f1", "http", |m| (m % 3) as u64),
            row("o1", "a1", "f2", "timer", |m| u64::from(m % 5 == 0)),
            row("o2", "a2", "f3", "http", |_| 2),
        );
        let all = parse_invocations(&text, Selection::default()).unwrap();
        assert_eq!((all.rows, all.matched), (3, 3));
        assert_eq!(&all.counts[..3], &[3, 3, 4]);
        assert_eq!(all.counts.iter().sum::<u64>(), 1440 + 288 + 2880);
        let http =
            parse_invocations(&text, Selection { trigger: Some("http"), ..Default::default() }).unwrap();
        assert_eq!(http.counts.iter().sum::<u64>(), 1440 + 2880);
        let f2 = parse_invocations(&text, Selection { function: Some("f2"), ..Default::default() }).unwrap();
        assert_eq!((f2.matched, f2.counts.iter().sum::<u64>()), (1, 288));
        let a1 = parse_invocations(
            &text,
            Selection { app: Some("a1"), trigger: Some("http"), ..Default::default() },
        )
        .unwrap();
        assert_eq!(a1.matched, 1);
    }

    #[test]
    fn bad_files_name_line_and_column() {
        let short = row("o1", "a1", "f1", "http", |_| 1);
        let short = &short[..short.rfind(',').unwrap()];
        let e = parse_invocations(&format!("{}\n{short}\n", header()), Selection::default()).unwrap_err();
        assert_eq!(e.to_string(), "line 2: found 1443 fields, expected 1444 (as many as the header has)");
        let bad = row("o1", "a1", "f1", "http", |_| 1).replacen(",1,1", ",1,x", 1);
        let e = parse_invocations(&format!("{}\n{bad}\n", header()), Selection::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2, column 6 (`2`): found `x`, expected a whole number of invocations"
        );
        let e = parse_invocations("HashOwner,HashApp,HashFunction,Trigger,0,1\n", Selection::default())
            .unwrap_err();
        assert!(e.to_string().starts_with("line 1, column 5 (`0`): found `0`, expected `1`"), "{e}");
        let e = parse_invocations("HashOwner,HashApp,HashFunction,Trigger,1,2\n", Selection::default())
            .unwrap_err();
        assert!(e.to_string().starts_with("line 1: found 6 columns, expected 1444"), "{e}");
    }

    #[test]
    fn day_numbers_from_names() {
        assert_eq!(day_number("invocations_per_function_md.anon.d01.csv"), Some(1));
        assert_eq!(day_number("invocations_per_function_md.anon.d14.csv.gz"), Some(14));
        assert_eq!(day_number("invocations.csv"), None);
        assert_eq!(day_number("x.dat.csv"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(crate::traffic::trace::fuzz::CASES))]

        /// Arbitrary bytes and mutated day files never panic; every error has a line; what
        /// parses stays within the trace's request limit.
        #[test]
        fn day_files_fuzz(noise in crate::traffic::trace::fuzz::bytes(), edits in crate::traffic::trace::fuzz::edits(), before in 0u64..=MAX_TRACE_REQUESTS) {
            use crate::traffic::trace::fuzz;
            let valid = format!(
                "{}\n{}\n{}\n",
                header(),
                row("o1", "a1", "f1", "http", |m| (m % 7) as u64),
                row("o2", "a2", "f2", "timer", |m| if m == 5 { 999_999_999_999 } else { 0 }),
            );
            for text in [noise, fuzz::mutate(&valid, &edits)] {
                match parse_day(&text, Selection::default(), before) {
                    Err(e) => proptest::prop_assert!(fuzz::located(&e), "{e:?}"),
                    Ok(d) => {
                        proptest::prop_assert_eq!(d.total, d.counts.iter().sum::<u64>());
                        proptest::prop_assert!(d.total <= MAX_TRACE_REQUESTS - before);
                    }
                }
            }
        }
    }

    #[test]
    fn counts_past_the_limit_are_refused_with_their_place() {
        let big = row("o1", "a1", "f1", "http", |m| if m == 10 { u64::MAX } else { u64::from(m == 20) * 29 });
        let e = parse_invocations(&format!("{}\n{big}\n", header()), Selection::default()).unwrap_err();
        assert_eq!((e.line, e.column.clone()), (2, Some((15, "11".to_string()))));
        assert!(e.message.starts_with("found `18446744073709551615` invocations in minute 11"), "{e}");
        // The days before count: 10^12 − 5 already, then 6 more.
        let six = row("o1", "a1", "f1", "http", |m| u64::from(m < 6));
        let text = format!("{}\n{six}\n", header());
        assert!(parse_day(&text, Selection::default(), MAX_TRACE_REQUESTS - 6).is_ok());
        let e = parse_day(&text, Selection::default(), MAX_TRACE_REQUESTS - 5).unwrap_err();
        assert_eq!(e.column, Some((10, "6".to_string())));
    }
}
