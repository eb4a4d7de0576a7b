//! Issue text: sanitising untrusted text and parsing the issue form into a `Spec`.

pub mod error;
pub mod form;
mod model;
pub mod sanitize;
mod sections;
