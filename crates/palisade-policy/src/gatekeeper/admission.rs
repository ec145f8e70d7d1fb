//! Constraints evaluated per admission request, as Gatekeeper's validating
//! webhook does: one request at a time, many requests at once.
//!
//! [`PolicySet::evaluate`] suits a batch (an audit, a scan). A webhook needs
//! the opposite trade-off: a request is small and latency matters, so the
//! compiled engines are kept in per-template pools (a regorus `Engine` is
//! stateful while it evaluates, so each concurrent request borrows its own),
//! templates whose constraints cannot match are skipped before any Rego runs,
//! and evaluation stops at a deadline.

use std::sync::Mutex;

use rayon::prelude::*;
use std::time::Instant;

use serde_json::Value as Json;

use super::constraint::{EnforcementAction, MatchOutcome, WEBHOOK_ENFORCEMENT_POINT};
use super::review::Review;
use super::{eval_violations, Constraint, ConstraintTemplate, Engine, PolicySet};

/// One violation of one constraint by the request's object.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestViolation {
    pub constraint_kind: String,
    pub constraint_name: String,
    pub message: String,
    pub details: Json,
    /// The actions at the webhook (`validation.gatekeeper.sh`); never empty.
    pub actions: Vec<EnforcementAction>,
}

impl RequestViolation {
    /// The strongest action: deny > warn > dryrun.
    pub fn action(&self) -> EnforcementAction {
        self.actions
            .iter()
            .copied()
            .min()
            .unwrap_or(EnforcementAction::Dryrun)
    }
}

/// The outcome for one request.
#[derive(Debug, Clone, Default)]
pub struct RequestOutcome {
    pub violations: Vec<RequestViolation>,
    /// Constraints that could not be evaluated (Rego runtime errors), with why.
    pub errors: Vec<String>,
    /// Constraints not evaluated: the namespaceSelector needs an unknown Namespace.
    pub notes: Vec<String>,
    /// The deadline passed before every constraint was evaluated.
    pub timed_out: bool,
    /// How many (constraint, object) evaluations ran.
    pub evaluated: usize,
}

impl RequestOutcome {
    /// What one constraint found (message, details).
    fn record(&mut self, constraint: &Constraint, found: Vec<(String, Json)>) {
        let actions = constraint
            .enforcement
            .actions_at(&[WEBHOOK_ENFORCEMENT_POINT]);
        self.violations.extend(
            found
                .into_iter()
                .map(|(message, details)| RequestViolation {
                    constraint_kind: constraint.kind.clone(),
                    constraint_name: constraint.name.clone(),
                    message,
                    details,
                    actions: actions.clone(),
                }),
        );
    }
}

/// The Namespace of a request, as the webhook's cache knows it.
#[derive(Debug, Clone, Copy)]
pub struct RequestNamespace<'a> {
    pub json: &'a Json,
    pub labels: &'a [(String, String)],
}

struct TemplateSlot {
    template: usize,
    constraints: Vec<usize>,
    /// The template compiled for regorus's bytecode VM, when it compiles.
    vm: Option<super::rego_compat::VmProgram>,
    /// Engines with `data.inventory` loaded, ready for another request.
    pool: Mutex<Vec<regorus::Engine>>,
    /// VMs with the program and `data.inventory` loaded, ready for another
    /// request: each run resets the VM's state, and setting one up (program,
    /// registers, a check of the data against the rule tree) cost as much as
    /// running a small template.
    vm_pool: Mutex<Vec<regorus::rvm::RegoVM>>,
}

/// A [`PolicySet`] ready to judge admission requests from many threads.
pub struct AdmissionEvaluator {
    set: PolicySet,
    slots: Vec<TemplateSlot>,
    data: regorus::Value,
    /// Each constraint's `parameters` as a Rego value, converted once.
    parameters: Vec<regorus::Value>,
}

impl AdmissionEvaluator {
    /// Prepares `set`; `inventory` is `data.inventory` (Gatekeeper's synced
    /// objects) for referential templates.
    pub fn new(set: PolicySet, inventory: &Json) -> AdmissionEvaluator {
        Self::build(set, inventory, true)
    }

    /// Like [`AdmissionEvaluator::new`], with the tree-walking interpreter only
    /// (the reference the VM is checked against).
    pub fn interpreted(set: PolicySet, inventory: &Json) -> AdmissionEvaluator {
        Self::build(set, inventory, false)
    }

    /// How many templates run on the VM (the others on the interpreter).
    pub fn vm_templates(&self) -> usize {
        self.slots.iter().filter(|s| s.vm.is_some()).count()
    }

    fn build(set: PolicySet, inventory: &Json, use_vm: bool) -> AdmissionEvaluator {
        let slots = set
            .templates
            .iter()
            .enumerate()
            .filter_map(|(template, t)| {
                let constraints: Vec<usize> = set
                    .constraints
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| {
                        c.kind == t.kind
                            && !c
                                .enforcement
                                .actions_at(&[WEBHOOK_ENFORCEMENT_POINT])
                                .is_empty()
                    })
                    .map(|(i, _)| i)
                    .collect();
                (!constraints.is_empty()).then(|| TemplateSlot {
                    template,
                    constraints,
                    vm: (use_vm && set.engine == Engine::Rego)
                        .then(|| t.compile_vm().ok())
                        .flatten(),
                    pool: Mutex::new(Vec::new()),
                    vm_pool: Mutex::new(Vec::new()),
                })
            })
            .collect();
        let data = regorus::Value::from(serde_json::json!({ "inventory": inventory }));
        let parameters = set
            .constraints
            .iter()
            .map(|c| regorus::Value::from(c.parameters.clone()))
            .collect();
        AdmissionEvaluator {
            set,
            slots,
            data,
            parameters,
        }
    }

    pub fn policy_set(&self) -> &PolicySet {
        &self.set
    }

    /// How many constraints act at the webhook.
    pub fn constraint_count(&self) -> usize {
        self.slots.iter().map(|s| s.constraints.len()).sum()
    }

    /// Evaluates every matching constraint on the request under `review`.
    /// Stops between constraints once `deadline` has passed.
    pub fn evaluate(
        &self,
        review: &Review,
        namespace: Option<RequestNamespace<'_>>,
        deadline: Option<Instant>,
    ) -> RequestOutcome {
        let mut out = RequestOutcome::default();
        let mut review = review.clone();
        if let Some(ns) = namespace {
            review.set_namespace_object(ns.json);
        }
        // Matching is cheap and sequential; the matched templates are
        // independent and run in parallel (latency on an idle core), merged
        // back in template order so the answer is stable.
        let mut work: Vec<(&TemplateSlot, Vec<usize>)> = Vec::new();
        for slot in &self.slots {
            let matching: Vec<usize> = slot
                .constraints
                .iter()
                .copied()
                .filter(|&i| {
                    let c = &self.set.constraints[i];
                    match super::match_with_namespace(c, &review, namespace.map(|n| n.labels)) {
                    MatchOutcome::Matches => true,
                    MatchOutcome::NoMatch => false,
                    MatchOutcome::NamespaceUnknown => {
                        out.notes.push(format!(
                            "{} {} not evaluated: its namespaceSelector needs Namespace {:?}, which is unknown",
                            c.kind, c.name, review.namespace
                        ));
                        false
                    }
                }
                })
                .collect();
            if !matching.is_empty() {
                work.push((slot, matching));
            }
        }
        if work.is_empty() {
            return out;
        }
        let review_value =
            (self.set.engine == Engine::Rego).then(|| regorus::Value::from(review.json.clone()));
        let run = |(slot, matching): &(&TemplateSlot, Vec<usize>)| {
            let mut part = RequestOutcome::default();
            if deadline.is_some_and(|d| Instant::now() >= d) {
                part.timed_out = true;
                return part;
            }
            let template = &self.set.templates[slot.template];
            match &review_value {
                Some(value) => self.evaluate_rego(slot, template, matching, value, &mut part),
                None => {
                    self.evaluate_cel(template, &self.constraints(matching), &review, &mut part)
                }
            }
            part
        };
        let parts: Vec<RequestOutcome> = if work.len() > 1 {
            work.par_iter().map(run).collect()
        } else {
            work.iter().map(run).collect()
        };
        for part in parts {
            out.violations.extend(part.violations);
            out.errors.extend(part.errors);
            out.notes.extend(part.notes);
            out.timed_out |= part.timed_out;
            out.evaluated += part.evaluated;
        }
        out
    }

    fn constraints(&self, indices: &[usize]) -> Vec<&Constraint> {
        indices.iter().map(|&i| &self.set.constraints[i]).collect()
    }

    /// A VM for the slot's program: from the pool, else newly set up.
    fn take_vm(
        &self,
        slot: &TemplateSlot,
        program: &super::rego_compat::VmProgram,
    ) -> Option<regorus::rvm::RegoVM> {
        let pooled = slot
            .vm_pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        if pooled.is_some() {
            return pooled;
        }
        let mut vm = regorus::rvm::RegoVM::new_with_policy(program.policy.clone());
        vm.load_program(program.program.clone());
        vm.set_strict_builtin_errors(false);
        // The default instruction budget is far below what the library needs;
        // time is bounded by the timer, as for the interpreter.
        vm.set_max_instructions(usize::MAX / 2);
        vm.set_execution_timer_config(Some(regorus::utils::limits::ExecutionTimerConfig {
            limit: super::template::EVALUATION_TIME_LIMIT,
            check_interval: std::num::NonZeroU32::new(64).unwrap_or(std::num::NonZeroU32::MIN),
        }));
        vm.set_data(self.data.clone()).ok()?;
        Some(vm)
    }

    /// Runs the constraints on the template's VM program; returns those that
    /// could not run there (a VM error), for the interpreter to take.
    fn evaluate_vm(
        &self,
        slot: &TemplateSlot,
        program: &super::rego_compat::VmProgram,
        template: &ConstraintTemplate,
        constraints: &[usize],
        review: &regorus::Value,
        out: &mut RequestOutcome,
    ) -> Vec<usize> {
        let Some(mut vm) = self.take_vm(slot, program) else {
            return constraints.to_vec();
        };
        let mut left = Vec::new();
        let mut healthy = true;
        for &index in constraints {
            let constraint = &self.set.constraints[index];
            let mut input = regorus::Value::new_object();
            if let Ok(map) = input.as_object_mut() {
                map.insert(regorus::Value::from("review"), review.clone());
                map.insert(
                    regorus::Value::from("parameters"),
                    self.parameters[index].clone(),
                );
            }
            vm.set_input(input);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                vm.execute_entry_point_by_name(&template.violation_rule)
            }));
            let value = match result {
                Ok(Ok(value)) => value,
                Ok(Err(_)) => {
                    left.push(index);
                    continue;
                }
                Err(_) => {
                    // A panic may have left the VM half-way: not pooled again.
                    healthy = false;
                    left.push(index);
                    continue;
                }
            };
            match super::violations_of(&value) {
                Ok(found) => {
                    out.evaluated += 1;
                    out.record(constraint, found);
                }
                Err(_) => left.push(index),
            }
        }
        if healthy {
            // Nothing of this request stays reachable from the pooled VM.
            vm.set_input(regorus::Value::Undefined);
            slot.vm_pool
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(vm);
        }
        left
    }

    fn evaluate_rego(
        &self,
        slot: &TemplateSlot,
        template: &ConstraintTemplate,
        constraints: &[usize],
        review: &regorus::Value,
        out: &mut RequestOutcome,
    ) {
        // The VM first (several times faster); the interpreter for what it could not run.
        let left;
        let constraints = match &slot.vm {
            Some(program) => {
                left = self.evaluate_vm(slot, program, template, constraints, review, out);
                if left.is_empty() {
                    return;
                }
                &left[..]
            }
            None => constraints,
        };
        let pooled = slot
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let mut engine = match pooled {
            Some(engine) => engine,
            None => {
                let Some(base) = &template.engine else { return };
                let mut engine = base.clone();
                if let Err(e) = engine.add_data(self.data.clone()) {
                    out.errors.push(format!(
                        "ConstraintTemplate {}: cannot load data.inventory: {e}",
                        template.name
                    ));
                    return;
                }
                engine
            }
        };
        for &index in constraints {
            let constraint = &self.set.constraints[index];
            out.evaluated += 1;
            match eval_violations(&mut engine, template, review, &self.parameters[index]) {
                Ok(found) => out.record(constraint, found),
                Err(message) => out.errors.push(format!(
                    "{} {}: {message}",
                    constraint.kind, constraint.name
                )),
            }
        }
        slot.pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(engine);
    }

    fn evaluate_cel(
        &self,
        template: &ConstraintTemplate,
        constraints: &[&Constraint],
        review: &Review,
        out: &mut RequestOutcome,
    ) {
        let Some(compiled) = &template.cel else {
            return;
        };
        let cel = match &compiled.0 {
            Ok(cel) => cel,
            Err(e) => {
                out.errors.push(format!(
                    "ConstraintTemplate {}: CEL code does not compile: {e}",
                    template.name
                ));
                return;
            }
        };
        for constraint in constraints {
            out.evaluated += 1;
            match super::cel_outcomes(cel, constraint, review) {
                Ok(outcomes) => {
                    let (failed, found): (Vec<_>, Vec<_>) =
                        outcomes.into_iter().partition(|o| o.error);
                    out.errors.extend(failed.into_iter().map(|o| {
                        format!(
                            "{} {} (CEL): {}",
                            constraint.kind, constraint.name, o.message
                        )
                    }));
                    out.record(
                        constraint,
                        found.into_iter().map(|o| (o.message, Json::Null)).collect(),
                    );
                }
                Err(message) => out.errors.push(format!(
                    "{} {} (CEL): {message}",
                    constraint.kind, constraint.name
                )),
            }
        }
    }
}
