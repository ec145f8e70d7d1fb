//! Scores: a number from 0 to 100 per object and for the whole input.
//!
//! An object scores `max(0, 100 − Σ penalty)` over its active findings; the
//! input scores the mean of its scored objects, rounded to the nearest integer
//! (halves up), 100 when there are none. See the crate documentation.

use std::collections::HashMap;

use palisade_model::{ObjectId, Severity};

use crate::{Report, ScannedObject};

/// What one active finding of `severity` takes off its object's score:
/// critical 30, high 15, medium 6, low 2, info 0.
pub const fn penalty(severity: Severity) -> u32 {
    match severity {
        Severity::Critical => 30,
        Severity::High => 15,
        Severity::Medium => 6,
        Severity::Low => 2,
        Severity::Info => 0,
    }
}

/// An object as findings name it: file, document, identity.
type ObjectKey<'r> = (&'r str, usize, &'r ObjectId);

/// The score of one scanned object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectScore<'r> {
    pub object: &'r ScannedObject,
    /// `max(0, 100 − Σ penalty)` over the object's active findings.
    pub score: u32,
    /// Active findings on the object.
    pub findings: usize,
    /// Exempted findings on the object.
    pub exempted: usize,
    /// Whether the object counts toward the input's score: its kind has
    /// checks ([`Report::checked_kind`]) or it has a finding.
    pub scored: bool,
}

impl<'a> Report<'a> {
    /// The score of every scanned object, in input order (the order of
    /// [`Report::objects`]). Findings are matched to objects by file,
    /// document and object identity; findings on objects that are not in
    /// [`Report::objects`] count for no object.
    pub fn object_scores(&self) -> Vec<ObjectScore<'_>> {
        let mut scores: Vec<ObjectScore> = self
            .objects
            .iter()
            .map(|object| ObjectScore {
                object,
                score: 100,
                findings: 0,
                exempted: 0,
                scored: (self.checked_kind)(&object.id.kind),
            })
            .collect();
        let mut index: HashMap<ObjectKey, usize> = HashMap::with_capacity(self.objects.len());
        for (i, object) in self.objects.iter().enumerate() {
            // The first of two identical objects (a copy-pasted document) gets the findings.
            index
                .entry((object.file.as_str(), object.document, &object.id))
                .or_insert(i);
        }
        let mut penalties = vec![0u32; scores.len()];
        // The findings of an object are mostly next to each other (they are
        // sorted by file and line): look up only when the object changes.
        let mut last: Option<(ObjectKey, Option<usize>)> = None;
        for finding in &self.findings {
            let key = (
                finding.location.file.as_str(),
                finding.location.document,
                &finding.object,
            );
            let found = match last {
                Some((last_key, found)) if last_key == key => found,
                _ => {
                    let found = index.get(&key).copied();
                    last = Some((key, found));
                    found
                }
            };
            let Some(i) = found else { continue };
            let (Some(entry), Some(total)) = (scores.get_mut(i), penalties.get_mut(i)) else {
                continue;
            };
            entry.scored = true;
            if finding.suppression.is_some() {
                entry.exempted += 1;
            } else {
                entry.findings += 1;
                *total = total.saturating_add(penalty(finding.severity));
            }
        }
        for (entry, total) in scores.iter_mut().zip(penalties) {
            entry.score = 100u32.saturating_sub(total);
        }
        scores
    }

    /// The input's score: the mean of the scores of the scored objects,
    /// rounded to the nearest integer (halves up); 100 when no object is scored.
    pub fn score(&self) -> u32 {
        input_score(&self.object_scores())
    }

    /// The scored object with the lowest score (the first in input order on
    /// a tie), if any is below 100.
    pub fn lowest_score(&self) -> Option<ObjectScore<'_>> {
        lowest(self.object_scores())
    }
}

/// [`Report::score`] from the [`Report::object_scores`].
pub(crate) fn input_score(scores: &[ObjectScore]) -> u32 {
    mean(scores.iter().filter(|s| s.scored).map(|s| s.score))
}

/// [`Report::lowest_score`] from the [`Report::object_scores`].
pub(crate) fn lowest<'r>(
    scores: impl IntoIterator<Item = ObjectScore<'r>>,
) -> Option<ObjectScore<'r>> {
    scores
        .into_iter()
        .filter(|s| s.scored && s.score < 100)
        .reduce(|low, s| if s.score < low.score { s } else { low })
}

/// The rounded mean (halves up), 100 for no values.
pub(crate) fn mean(values: impl Iterator<Item = u32>) -> u32 {
    let (sum, count) = values.fold((0u64, 0u64), |(sum, count), v| {
        (sum + u64::from(v), count + 1)
    });
    if count == 0 {
        return 100;
    }
    u32::try_from((2 * sum + count) / (2 * count)).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounded_mean() {
        assert_eq!(mean([].into_iter()), 100);
        assert_eq!(mean([40, 100].into_iter()), 70);
        assert_eq!(mean([0, 1].into_iter()), 1); // 0.5 rounds up
        assert_eq!(mean([100, 100, 99].into_iter()), 100); // 99.67
        assert_eq!(mean([100, 98, 98].into_iter()), 99); // 98.67
        assert_eq!(mean([0, 0, 1].into_iter()), 0); // 0.33
    }
}
