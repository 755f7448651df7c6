//! scalesim: simulate how a service's replicas scale under traffic.
//!
//! The flow, one way only: a scenario file is parsed and checked by [`config`] into a
//! [`scenario::Scenario`]; [`experiment`] runs every policy (× seeds) in parallel, each run an
//! independent [`engine`] simulation of [`traffic`] against the replica model ([`service`],
//! [`balancer`]) steered by a [`policy`] that reads [`metrics`]; [`record`] aggregates each run;
//! [`report`] writes files and charts. [`calibrate`] fits the replica model to a real Locust step
//! test. Every subcommand is one library call in the module that owns it ([`run`],
//! [`tune::command`], [`capacity::command`], [`calibrate::command`], [`explain`], [`export`],
//! [`shard::parts`]), sharing [`command`]'s error, feedback and cost gate. Only [`config`] and
//! [`input`] read files (size caps, regular files only, UTF-8 checked) and only [`report`]
//! writes them; the binary's `cli` maps arguments to those calls and prints.

#![warn(missing_docs)]

pub mod balancer;
pub mod budget;
pub mod calibrate;
pub mod capacity;
pub mod command;
pub mod config;
pub mod dist;
pub mod engine;
pub mod experiment;
pub mod explain;
pub mod export;
pub mod input;
pub mod memo;
pub mod metrics;
pub mod oracle;
pub mod policy;
pub mod record;
pub mod report;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod service;
pub mod shard;
pub mod time;
pub mod traffic;
pub mod tune;
pub mod yaml_pos;
