//! Compliance with one framework: which of its controls the input passes.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use palisade_model::{Framework, ObjectId};

use crate::Report;

/// Whether a control is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlStatus {
    /// No active finding of the rules mapped to the control.
    Pass,
    /// At least one active finding of those rules.
    Fail,
}

impl ControlStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlStatus::Pass => "pass",
            ControlStatus::Fail => "fail",
        }
    }
}

/// One control of the framework, and how the input does on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlResult {
    /// The framework's identifier (`5.2.2`, `T1611`, `pod-security`).
    pub id: &'static str,
    /// The ids of the report's rules that map to this control, sorted.
    pub rules: Vec<&'static str>,
    /// Active findings of those rules.
    pub findings: usize,
    /// Distinct objects (file, document, identity) with such an active finding.
    pub objects: usize,
    /// Exempted findings of those rules (they do not fail the control).
    pub exempted: usize,
    pub status: ControlStatus,
}

/// How the input does against one framework, from [`Report::compliance`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compliance {
    pub framework: Framework,
    /// Every control some rule of the report maps to, in natural order of id
    /// (see [`natural_cmp`]).
    pub controls: Vec<ControlResult>,
    pub passed: usize,
    pub failed: usize,
    /// `passed` as a percentage of all controls, rounded down (so 100 means
    /// every control passed); 100 when there are no controls.
    pub percent: u32,
}

/// What [`Report::compliance`] gathers for one control.
#[derive(Default)]
struct Row<'r> {
    rules: Vec<&'static str>,
    findings: usize,
    objects: HashSet<(&'r str, usize, &'r ObjectId)>,
    exempted: usize,
}

impl<'a> Report<'a> {
    /// Compliance with [`Report::framework`]; `None` when it is not set.
    ///
    /// Every control id of that framework that any rule in [`Report::rules`]
    /// maps to is listed, with the rules mapped to it; a control fails when
    /// there is an active finding of one of those rules.
    pub fn compliance(&self) -> Option<Compliance> {
        let framework = self.framework?;
        // Control id → its row; rule id → the ids of its controls.
        let mut rows: HashMap<&'static str, Row> = HashMap::new();
        let mut by_rule: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for rule in &self.rules {
            for control in rule.controls.iter().filter(|c| c.framework == framework) {
                let row = rows.entry(control.id).or_default();
                if !row.rules.contains(&rule.id) {
                    row.rules.push(rule.id);
                }
                let controls = by_rule.entry(rule.id).or_default();
                if !controls.contains(&control.id) {
                    controls.push(control.id);
                }
            }
        }
        for finding in &self.findings {
            let Some(controls) = by_rule.get(finding.rule) else {
                continue;
            };
            for control in controls {
                let Some(row) = rows.get_mut(control) else {
                    continue;
                };
                if finding.suppression.is_some() {
                    row.exempted += 1;
                } else {
                    row.findings += 1;
                    row.objects.insert((
                        finding.location.file.as_str(),
                        finding.location.document,
                        &finding.object,
                    ));
                }
            }
        }
        let mut results: Vec<ControlResult> = rows
            .into_iter()
            .map(|(id, mut row)| {
                row.rules.sort_unstable();
                ControlResult {
                    id,
                    rules: row.rules,
                    findings: row.findings,
                    objects: row.objects.len(),
                    exempted: row.exempted,
                    status: if row.findings == 0 {
                        ControlStatus::Pass
                    } else {
                        ControlStatus::Fail
                    },
                }
            })
            .collect();
        results.sort_by(|a, b| natural_cmp(a.id, b.id));
        let passed = results
            .iter()
            .filter(|c| c.status == ControlStatus::Pass)
            .count();
        let failed = results.len() - passed;
        let percent = if results.is_empty() {
            100
        } else {
            u32::try_from(passed * 100 / results.len()).unwrap_or(100)
        };
        Some(Compliance {
            framework,
            controls: results,
            passed,
            failed,
            percent,
        })
    }
}

/// Compares control ids the way people number sections: runs of digits by
/// their value (so `5.2.10` follows `5.2.9`), other text by character; equal
/// values (`01` and `1`) are then ordered as plain strings, so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return a.cmp(b),
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        let (run_x, rest_x) = split_run(x);
        let (run_y, rest_y) = split_run(y);
        let digits = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
        let order = match (digits(run_x), digits(run_y)) {
            (true, true) => {
                let nx = run_x.trim_start_matches('0');
                let ny = run_y.trim_start_matches('0');
                nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny))
            }
            _ => run_x.cmp(run_y),
        };
        if order != Ordering::Equal {
            return order;
        }
        x = rest_x;
        y = rest_y;
    }
}

/// The leading run of ASCII digits, or of anything else, and the rest.
fn split_run(s: &str) -> (&str, &str) {
    let digit = s.starts_with(|c: char| c.is_ascii_digit());
    let end = s
        .find(|c: char| c.is_ascii_digit() != digit)
        .unwrap_or(s.len());
    s.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut ids = vec![
            "5.2.10",
            "5.2.9",
            "5.2.1",
            "5.10",
            "5.7.3",
            "T1611",
            "T1610",
            "T1609.001",
            "5.2",
            "01",
            "1",
            "pod-security",
            "network-policy",
            "",
        ];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            ids,
            [
                "",
                "01",
                "1",
                "5.2",
                "5.2.1",
                "5.2.9",
                "5.2.10",
                "5.7.3",
                "5.10",
                "T1609.001",
                "T1610",
                "T1611",
                "network-policy",
                "pod-security",
            ]
        );
        assert_eq!(natural_cmp("5.2.9", "5.2.10"), Ordering::Less);
        assert_eq!(natural_cmp("a", "a"), Ordering::Equal);
        assert_eq!(
            natural_cmp("99999999999999999999999", "100000000000000000000000"),
            Ordering::Less
        );
    }
}
