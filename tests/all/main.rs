//! Integration tests: the binary driven as the runner drives it.

mod helpers;

mod action_contract;
mod cache;
mod checkout;
mod container;
mod errors;
mod eval;
mod faults;
mod github;
mod hardening;
mod llm;
mod payloads;
mod pipeline;
mod prism;
mod proxy;
mod real_model;
mod sandbox;
mod snapshots;
mod specs;
mod token_push;
mod toolkit;
mod vendor_specs;
