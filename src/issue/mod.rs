//! Issue text: sanitising untrusted text and parsing the issue form into a `Spec`.

pub mod form;
pub mod sanitize;
