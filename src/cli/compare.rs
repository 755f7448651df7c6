//! `scalesim compare BASE OTHER` on the terminal: the library's
//! [`scalesim::report::compare::compare_dirs`] call, every summary figure of the two folders
//! printed side by side (with the difference and, with replications, its confidence interval),
//! compare.json and compare.png committed.

use super::{CliError, CompareCommand, commit, note, print_stdout, warn};
use scalesim::report::compare::{self, CompareRequest};

/// Runs `scalesim compare`.
pub fn compare(cmd: CompareCommand) -> Result<(), CliError> {
    let req = CompareRequest { base: cmd.base, other: cmd.other, out: cmd.out };
    let c = compare::compare_dirs(&req)?;
    if let Some(w) = &c.not_like_for_like {
        warn(w);
    }
    if cmd.json {
        let mut s = serde_json::to_string_pretty(&compare::compare_value(&c.base, &c.other))
            .expect("JSON serialises");
        s.push('\n');
        print_stdout(&s)?;
    } else {
        print_stdout(&compare::compare_table(&c.base, &c.other))?;
    }
    for p in commit(c.stage()?)? {
        note(format_args!("wrote {}", p.display()));
    }
    Ok(())
}
