//! The policies in force: loaded from a directory, swapped atomically on
//! change, and kept when a change is broken.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use palisade_model::{load_inputs, Input, LoadOptions};
use palisade_policy::gatekeeper::{AdmissionEvaluator, Inventory, PolicySet};
use palisade_policy::vap::Policies;

/// One consistent set of policies.
pub struct PolicySnapshot {
    pub gatekeeper: AdmissionEvaluator,
    pub vap: Policies,
    pub counts: PolicyCounts,
    pub loaded_at: SystemTime,
}

/// What a snapshot holds, for logs and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyCounts {
    pub templates: usize,
    pub constraints: usize,
    pub admission_policies: usize,
    pub bindings: usize,
}

impl PolicySnapshot {
    /// No policies at all (Pod Security only).
    pub fn empty() -> PolicySnapshot {
        PolicySnapshot {
            gatekeeper: AdmissionEvaluator::new(PolicySet::default(), &Inventory::of([]).json),
            vap: Policies::load(&[]).0,
            counts: PolicyCounts::default(),
            loaded_at: SystemTime::now(),
        }
    }

    /// Reads every policy under `dirs`. Any problem (a file that does not
    /// parse, a template that does not compile, a constraint without its
    /// template or with parameters its schema rejects, a policy or binding
    /// that is invalid) fails the whole load: half a policy set is not what
    /// the author meant to enforce.
    pub fn load(
        dirs: &[PathBuf],
        inventory_dirs: &[PathBuf],
        rbac_dirs: &[PathBuf],
    ) -> Result<PolicySnapshot, Vec<String>> {
        let inputs: Vec<Input> = dirs.iter().cloned().map(Input::Path).collect();
        let loaded = load_inputs(&inputs, &LoadOptions::default());
        let mut problems: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        let set = PolicySet::from_objects(&loaded.objects);
        problems.extend(set.verify().iter().map(ToString::to_string));
        let (mut vap, vap_problems) = Policies::load(&loaded.objects);
        problems.extend(
            vap_problems
                .iter()
                .map(|p| format!("{}:{}: {}: {}", p.file, p.span.start, p.object, p.message)),
        );
        let inventory_objects = if inventory_dirs.is_empty() {
            Vec::new()
        } else {
            let inputs: Vec<Input> = inventory_dirs.iter().cloned().map(Input::Path).collect();
            let inv = load_inputs(&inputs, &LoadOptions::default());
            problems.extend(inv.errors.iter().map(ToString::to_string));
            inv.objects
        };
        if !rbac_dirs.is_empty() {
            // Roles and bindings answer the policies' `authorizer` checks.
            let inputs: Vec<Input> = rbac_dirs.iter().cloned().map(Input::Path).collect();
            let rbac = load_inputs(&inputs, &LoadOptions::default());
            problems.extend(rbac.errors.iter().map(ToString::to_string));
            vap.set_authorizer(std::sync::Arc::new(palisade_rbac::Rbac::from_objects(
                &rbac.objects,
            )));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let counts = PolicyCounts {
            templates: set.templates.len(),
            constraints: set.constraints.len(),
            admission_policies: loaded
                .objects
                .iter()
                .filter(|o| o.id.kind == "ValidatingAdmissionPolicy")
                .count(),
            bindings: loaded
                .objects
                .iter()
                .filter(|o| o.id.kind == "ValidatingAdmissionPolicyBinding")
                .count(),
        };
        let inventory = Inventory::of(&inventory_objects);
        Ok(PolicySnapshot {
            gatekeeper: AdmissionEvaluator::new(set, &inventory.json),
            vap,
            counts,
            loaded_at: SystemTime::now(),
        })
    }
}

/// The current snapshot, replaced as a whole.
#[derive(Default)]
pub struct PolicyStore {
    current: RwLock<Option<Arc<PolicySnapshot>>>,
}

impl PolicyStore {
    pub fn current(&self) -> Option<Arc<PolicySnapshot>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn replace(&self, snapshot: PolicySnapshot) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(snapshot));
    }
}

/// A cheap fingerprint of every file under `paths`: changes when a file is
/// added, removed, resized or touched (ConfigMap updates swap a symlink,
/// which changes the resolved file's metadata too).
pub fn fingerprint(paths: &[PathBuf]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for path in paths {
        walk(path, &mut |p, meta| {
            p.hash(&mut hasher);
            meta.len().hash(&mut hasher);
            if let Ok(modified) = meta.modified() {
                modified.hash(&mut hasher);
            }
        });
    }
    hasher.finish()
}

fn walk(path: &Path, visit: &mut dyn FnMut(&Path, &std::fs::Metadata)) {
    // A missing path contributes nothing; the files it held are gone, which
    // changes the fingerprint.
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        let mut children: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        children.sort();
        for child in children {
            // Kubernetes' ConfigMap volumes hold `..data` symlinks and dated
            // directories; hidden entries are followed only through `..data`.
            let hidden = child
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') && n != "..data");
            if !hidden {
                walk(&child, visit);
            }
        }
    } else {
        visit(path, &meta);
    }
}
