//! The discrete-event simulation of one policy over one traffic stream.
