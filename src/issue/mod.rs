//! Issue text: sanitising untrusted text and parsing the issue form into a `Spec`.

pub mod error;
pub mod form;
mod model;
mod names;
mod rules;
pub mod sanitize;
mod sections;
mod statements;
mod views;
