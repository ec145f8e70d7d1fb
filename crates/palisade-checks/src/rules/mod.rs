//! One folder per category, one file per check.

pub mod image;
pub mod network;
pub mod pod;
