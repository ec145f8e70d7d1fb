//! What users tell Palisade: the `.palisade.yaml` configuration file and exemptions.
//!
//! The configuration selects rules, overrides severities, sets check options
//! and lists exemptions; manifests can carry their own exemptions as
//! annotations. Both are applied after analysis, so every analyzer (Pod
//! Security Standards, checks, and the layers to come) is exempted the same
//! way, and an exempted finding is kept and marked, never dropped.
//!
//! ```
//! use palisade_config::{apply, parse};
//!
//! let config = parse(".palisade.yaml", "rules:\n  disable: [reliability/*]\n").unwrap();
//! assert!(config.is_disabled("reliability/pdb-missing"));
//! let mut findings = Vec::new();
//! assert!(apply(&mut findings, &[], &config).is_empty());
//! ```

mod config;
mod date;
mod exemption;
mod pattern;
pub mod peers;

pub use config::{discover, load, parse, Config, Exemption, CONFIG_FILE_NAMES};
pub use exemption::{apply, IGNORE_ANNOTATION, REASON_ANNOTATION};
pub use pattern::Pattern;
