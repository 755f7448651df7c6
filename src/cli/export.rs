//! `scalesim export` on the terminal: the library's [`scalesim::export::export`] call, the
//! manifest committed to `--out` or printed, what to fill in as notes.

use super::{CliError, commit, note, print_stdout};
use scalesim::export::{self, ExportRequest};

/// What `scalesim export` was asked to write.
pub type ExportCommand = ExportRequest;

/// Writes the manifest of one policy.
pub fn export(cmd: ExportCommand) -> Result<(), CliError> {
    let exported = export::export(&cmd)?;
    match (exported.staging, &cmd.out) {
        (Some(staging), Some(path)) => {
            commit(staging)?;
            note(format_args!("wrote {}", path.display()));
        }
        _ => print_stdout(&exported.yaml)?,
    }
    for t in &exported.todo {
        note(format_args!("todo: {t}"));
    }
    Ok(())
}
