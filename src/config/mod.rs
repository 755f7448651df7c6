//! Scenario files: parse, default, validate into a [`crate::scenario::Scenario`].

pub mod keys;
pub mod traffic;
