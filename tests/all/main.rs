//! Integration tests: the binary driven as the runner drives it.

mod helpers;

mod action_contract;
mod checkout;
mod container;
mod errors;
mod faults;
mod github;
mod hardening;
mod llm;
mod payloads;
mod pipeline;
mod prism;
mod real_model;
mod snapshots;
mod token_push;
mod vendor_specs;
