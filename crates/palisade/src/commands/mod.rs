mod output;
pub mod policy;
pub mod rules;
pub mod scan;
