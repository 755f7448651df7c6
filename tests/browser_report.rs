//! report.html in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `.ci/run`) loads the page with no network, and the test checks that no script error or
//! console error occurred, that the DOM holds one summary row per policy and the charts, and
//! that a screenshot is not blank.
//!
//! Skipped, loudly, only when /usr/bin/chromium is absent (install it with
//! `apt-get install -y chromium`).

use std::path::Path;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium(profile: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
    ]);
    cmd.arg(format!("--user-data-dir={}", profile.display()));
    cmd.args(args);
    cmd.output().expect("chromium runs")
}

#[test]
fn report_html_loads_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!(
            "\n\n*** SKIPPED report_html_loads_in_headless_chromium: {CHROMIUM} is absent ***\n\
             *** install it with `apt-get install -y chromium` (.ci/run does) ***\n\n"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("flash");
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/flash-crowd.toml");
    let st = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["run", cfg.to_str().unwrap(), "--report", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let page = out.join("report.html");
    assert!(page.exists());
    let url = format!("file://{}", page.display());
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let policies = summary["policies"].as_array().unwrap().len();
    assert!(policies >= 2);

    // The DOM after the page's script ran.
    let dom = chromium(&tmp.path().join("profile-dom"), &["--dump-dom", &url]);
    let html = String::from_utf8_lossy(&dom.stdout);
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(html.contains("data-ready=\"yes\""), "the page's script did not finish:\n{log}");
    assert!(html.contains("data-errors=\"0\""), "script errors recorded:\n{}", &html[..html.len().min(400)]);
    for bad in ["Uncaught", "CONSOLE(", "Refused to", "ERR_"] {
        let hits: Vec<&str> = log.lines().filter(|l| l.contains(bad) && l.contains("report.html")).collect();
        assert!(hits.is_empty(), "console errors: {hits:#?}");
    }
    assert_eq!(html.matches("class=\"policy-row\"").count(), policies, "one summary row per policy");
    assert!(html.matches("<svg").count() >= 4, "the charts are in the DOM");
    assert!(html.contains("id=\"verdict-text\""));

    // A screenshot that is not blank.
    let shot = tmp.path().join("shot.png");
    let sc = chromium(
        &tmp.path().join("profile-shot"),
        &["--window-size=1280,1600", &format!("--screenshot={}", shot.display()), &url],
    );
    assert!(shot.exists(), "no screenshot: {}", String::from_utf8_lossy(&sc.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = &buf[..info.buffer_size()];
    let step = info.color_type.samples();
    let (mut dark, mut coloured, mut n) = (0usize, 0usize, 0usize);
    for p in px.chunks(step) {
        n += 1;
        let (r, g, b) = (p[0] as i32, p[1] as i32, p[2] as i32);
        if r + g + b < 300 {
            dark += 1;
        }
        if (r - g).abs() > 40 || (g - b).abs() > 40 {
            coloured += 1;
        }
    }
    assert!(dark * 1000 > n, "screenshot is blank: {dark} dark pixels of {n}");
    assert!(coloured * 2000 > n, "screenshot has no colour (no verdict box, no chart): {coloured} of {n}");
    if let Ok(keep) = std::env::var("SCALESIM_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

#[test]
fn tune_report_loads_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("\n\n*** SKIPPED tune_report_loads_in_headless_chromium: {CHROMIUM} is absent ***\n\n");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("tune");
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/quickstart.toml");
    let bin = env!("CARGO_BIN_EXE_scalesim");
    let st = Command::new(bin)
        .args(["tune", cfg.to_str().unwrap(), "--policy", "rps-10", "--vary", "policy.rps-10.target=8..12:2"])
        .args(["--set", "simulation.duration=\"2h\"", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let st = Command::new(bin).args(["report", out.to_str().unwrap()]).output().unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let url = format!("file://{}", out.join("report.html").display());
    let dom = chromium(&tmp.path().join("profile-dom"), &["--dump-dom", &url]);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(html.contains("data-ready=\"yes\""), "{}", String::from_utf8_lossy(&dom.stderr));
    assert!(html.contains("data-errors=\"0\""));
    assert_eq!(html.matches("class=\"candidate-row").count(), 3, "one row per candidate");
    assert_eq!(
        html.matches("src=\"data:image/png;base64,").count(),
        2,
        "pareto.png and sensitivity.png inline"
    );
    assert!(html.contains("Best: <b>target="), "the verdict names the best candidate");
}

/// Issue 21: a currency carrying markup is text in report.html — the injected `onerror`
/// handler does not run in the browser.
#[test]
fn injected_currency_handler_does_not_run_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!(
            "\n\n*** SKIPPED injected_currency_handler_does_not_run_in_chromium: {CHROMIUM} is absent ***\n\n"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(
        &scenario,
        "[simulation]\nname = \"xss\"\nduration = \"10m\"\nseed = 3\n\n[traffic]\nrate = 5\n\n[service]\nworkers = 2\n\n\
         [service.demand]\ndistribution = \"exponential\"\nmean = \"100ms\"\n\n\
         [cost]\ncurrency = \"<img src=x onerror=\\\"document.documentElement.setAttribute('data-pwned','yes')\\\">\"\n\n\
         [[policy]]\nname = \"fixed-2\"\ntype = \"fixed\"\nreplicas = 2\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let st = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["run", scenario.to_str().unwrap(), "--report", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let url = format!("file://{}", out.join("report.html").display());
    let dom = chromium(&tmp.path().join("profile-dom"), &["--dump-dom", &url]);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(html.contains("data-ready=\"yes\""), "the page's script did not finish");
    assert!(!html.contains("data-pwned=\"yes\""), "the injected onerror handler ran");
    assert!(!html.contains("<img src=\"x\""), "the injected <img> is an element of the DOM");
    assert!(html.contains("&lt;img src=x onerror="), "the currency is not shown as text");
}
