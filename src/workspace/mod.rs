//! The runner's checkout: git2 operations and path confinement.

pub mod confine;
pub mod git;
