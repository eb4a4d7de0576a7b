//! e2e-action: one GitHub issue in, a tested micro-SaaS application on a branch out.
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod eval;
pub mod event;
pub mod github;
pub mod guard;
pub mod http;
pub mod ident;
#[cfg(test)]
mod imports;
pub mod issue;
pub mod llm;
pub mod pipeline;
pub mod report;
pub mod sandbox;
pub mod scaffold;
pub mod spec;
pub mod workspace;
