//! The run matrix: policies × replications, executed in parallel.
