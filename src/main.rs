//! The `scalesim` command: parse the command line, call the library, map errors to exit codes.

fn main() {}
