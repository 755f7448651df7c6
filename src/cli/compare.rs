//! `scalesim compare BASE OTHER`: every summary figure of two output folders side by side,
//! with the difference (and its confidence interval with replications), and compare.png.

use super::{CliError, CompareCommand, note, print_stdout};
use scalesim::report::{compare, read};
use std::path::PathBuf;

/// Runs `scalesim compare`.
pub fn compare(cmd: CompareCommand) -> Result<(), CliError> {
    let base = read::read_dir(&cmd.base).map_err(CliError::Invalid)?;
    let other = read::read_dir(&cmd.other).map_err(CliError::Invalid)?;
    let differ = compare::differences(&base, &other);
    if !differ.is_empty() {
        super::warn(format_args!(
            "{} and {} are not like for like: {}; every policy's figures move with these, so a \
             difference below is not the policies' alone (compare runs of one scenario, seed and \
             horizon to compare policies; a what-if changes one thing on purpose)",
            cmd.base.display(),
            cmd.other.display(),
            differ.join(", ")
        ));
    }
    if cmd.json {
        let mut s =
            serde_json::to_string_pretty(&compare::compare_value(&base, &other)).expect("JSON serialises");
        s.push('\n');
        print_stdout(&s)?;
    } else {
        print_stdout(&compare::compare_table(&base, &other))?;
    }
    let name = |p: &PathBuf| p.file_name().map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned());
    let out = cmd.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join("compare").join(format!("{}--{}", name(&cmd.base), name(&cmd.other)))
    });
    let mut staging = scalesim::report::atomic::Staging::new(&out, "compare")?;
    for dir in [&cmd.base, &cmd.other] {
        for name in read::FILES_READ {
            staging.protect(&dir.join(name));
        }
    }
    compare::stage_compare(&mut staging, &base, &other)?;
    for p in super::commit(staging)? {
        note(format_args!("wrote {}", p.display()));
    }
    Ok(())
}
