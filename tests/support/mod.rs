//! Shared test support: a real OpenBao server per test, running our binary with
//! its logs captured and checked for leaked secrets.
#![allow(dead_code)]

pub mod bao;
pub mod daemon;
pub mod fake;
pub mod load;
pub mod logged;
pub mod notify;
pub mod prom;
pub mod raft;
pub mod run;
pub mod slack;
pub mod spec;
pub mod wait;
