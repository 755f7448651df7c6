//! `scalesim calibrate` on the terminal: the library's [`scalesim::calibrate::command`] call,
//! the `[service]` section written (`--out`) or printed, the fit printed as a table or JSON.

use super::{CalibrateCommand, CliError, print_stdout, write_file_atomic};
use scalesim::calibrate::command as calibrate;
use scalesim::report::calibrate::{json_report, table};
use serde_json::json;
use std::fmt::Write;

/// Runs the command.
pub fn calibrate(cmd: CalibrateCommand) -> Result<(), CliError> {
    let done = calibrate::calibrate(&cmd.request)?;
    let (cal, toml) = (&done.calibration, &done.toml);
    if let Some(out) = &cmd.out {
        write_file_atomic(out, toml.as_bytes(), &[&cmd.request.locust])?;
    }
    if cmd.json {
        let mut v = json_report(cal, toml);
        if let Some(out) = &cmd.out {
            v["written_to"] = json!(out.display().to_string());
        }
        let mut s = serde_json::to_string_pretty(&v).expect("serialisable");
        s.push('\n');
        return print_stdout(&s);
    }
    let mut s = table(cal);
    match &cmd.out {
        Some(out) => writeln!(s, "\nWrote the [service] section to {}.", out.display()).unwrap(),
        None => write!(s, "\n{toml}").unwrap(),
    }
    print_stdout(&s)
}
