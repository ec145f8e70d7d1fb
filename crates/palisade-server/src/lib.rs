//! `palisade serve`: the validating admission webhook.
//!
//! One HTTPS server answers the API server's AdmissionReviews with Pod
//! Security (as the built-in plugin), Gatekeeper constraints (as Gatekeeper's
//! webhook) and ValidatingAdmissionPolicies (as the API server), all in one
//! verdict; it also serves `/healthz`, `/readyz` and `/metrics`.
//!
//! The layers decide ([`palisade_pss::admission`], [`palisade_policy`]); this
//! crate holds the HTTP, TLS, reloading, caching and metrics around them.
//! Requests are judged on blocking threads with large stacks (CEL evaluation
//! recurses deeply), within a time budget; past it, the configured failure
//! mode answers.

pub mod admission;
pub mod metrics;
pub mod namespaces;
pub mod pods;
pub mod policies;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use serde_json::json;

use crate::admission::{decode, failure_verdict, BadRequest, Judge, Verdict};
use crate::metrics::{FailureLabels, KindLabels, Metrics, ResultLabels};
use crate::namespaces::{read_namespace_dir, NamespaceCache, NamespaceSource};
use crate::pods::PrivilegedPods;
use crate::policies::{fingerprint, PolicySnapshot, PolicyStore};
use crate::tls::TlsFiles;

pub use palisade_pss::admission::Configuration as PodSecurityConfiguration;

/// Everything `palisade serve` is told.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub tls: TlsFiles,
    /// Templates, constraints, ValidatingAdmissionPolicies and bindings (and their params).
    pub policy_dirs: Vec<PathBuf>,
    /// Objects for Gatekeeper's `data.inventory` (referential templates).
    pub inventory_dirs: Vec<PathBuf>,
    /// Roles, ClusterRoles and bindings that answer ValidatingAdmissionPolicies'
    /// `authorizer` checks (without them such checks are not evaluated).
    pub rbac_dirs: Vec<PathBuf>,
    /// Namespace manifests, when there is no cluster to watch.
    pub namespace_dirs: Vec<PathBuf>,
    pub pod_security: PodSecurityConfiguration,
    /// Time to answer one request; past it, the failure mode answers.
    pub budget: Duration,
    /// Allow (true) or refuse (false) what could not be judged in time.
    pub fail_open: bool,
    pub max_body_bytes: usize,
    /// How often files are checked for changes.
    pub reload_interval: Duration,
    /// Falco rules: when given, `POST /audit` takes the API server's audit
    /// webhook batches and evaluates them (alerts as JSON lines on stdout).
    pub audit: Option<AuditEngine>,
    /// Serve `POST /validate` (off for `palisade detect --listen`).
    pub admission: bool,
}

/// The rules engine behind `/audit`, built by the front end (rule files,
/// tags, priorities and rate limits are its options, not the server's).
#[derive(Clone)]
pub struct AuditEngine(pub Arc<palisade_detect::Engine>);

impl std::fmt::Debug for AuditEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditEngine({:?})", self.0.counts())
    }
}

impl ServeConfig {
    /// Defaults for everything but the address and certificate.
    pub fn new(listen: SocketAddr, tls: TlsFiles) -> ServeConfig {
        ServeConfig {
            listen,
            tls,
            policy_dirs: Vec::new(),
            inventory_dirs: Vec::new(),
            rbac_dirs: Vec::new(),
            namespace_dirs: Vec::new(),
            pod_security: PodSecurityConfiguration::default(),
            budget: Duration::from_secs(3),
            fail_open: true,
            // An object may be 3 MiB (etcd's limit); a review carries two of them.
            max_body_bytes: 8 * 1024 * 1024,
            reload_interval: Duration::from_secs(2),
            audit: None,
            admission: true,
        }
    }
}

/// What a cluster watch keeps up to date.
#[derive(Debug, Clone)]
pub struct ClusterView {
    /// Namespaces, for admission (readiness waits for their first list).
    pub namespaces: Arc<NamespaceCache>,
    /// Privileged pods running, for the `palisade_privileged_pods` gauge only.
    pub pods: Arc<PrivilegedPods>,
}

/// Something that keeps the [`ClusterView`] up to date (the cluster
/// watches); it runs for the life of the server.
pub type ClusterFeed =
    Box<dyn FnOnce(ClusterView) -> Pin<Box<dyn Future<Output = Result<()>> + Send>> + Send>;

/// The state every handler shares.
pub struct AppState {
    config: ServeConfig,
    policies: PolicyStore,
    namespaces: Arc<NamespaceCache>,
    pods: Arc<PrivilegedPods>,
    metrics: Metrics,
    detect: Option<Arc<palisade_detect::Engine>>,
}

impl AppState {
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The policies in force, once loaded.
    pub fn policies_in_force(&self) -> Option<Arc<PolicySnapshot>> {
        self.policies.current()
    }

    pub fn namespaces(&self) -> &Arc<NamespaceCache> {
        &self.namespaces
    }

    /// The privileged pods counted from the cluster's pod watch (empty without one).
    pub fn pods(&self) -> &Arc<PrivilegedPods> {
        &self.pods
    }

    fn ready(&self) -> Result<(), &'static str> {
        if self.policies.current().is_none() {
            return Err("policies not loaded");
        }
        if !self.namespaces.is_synced() {
            return Err("namespace cache not synced");
        }
        Ok(())
    }
}

/// A server started in the current Tokio runtime.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    handle: axum_server::Handle<SocketAddr>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting connections and lets requests in flight finish.
    pub fn shutdown(&self) {
        self.handle.graceful_shutdown(Some(Duration::from_secs(10)));
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The stack of the threads that judge requests (CEL recurses deeply).
pub const JUDGE_STACK_BYTES: usize = palisade_policy::vap::EVAL_STACK_SIZE;

/// Runs the server until SIGINT or SIGTERM, on its own runtime.
pub fn run(config: ServeConfig, feed: Option<ClusterFeed>) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(JUDGE_STACK_BYTES)
        .max_blocking_threads(64)
        .thread_name("palisade-serve")
        .build()
        .context("cannot start the server runtime")?;
    runtime.block_on(async move {
        let server = start(config, feed).await?;
        shutdown_signal().await;
        tracing::info!("shutting down");
        server.shutdown();
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Loads everything, binds, and serves in the current runtime. Errors that
/// make serving impossible (the address, the certificate) are returned;
/// broken policies are not: the server starts unready and reloads them when
/// they change.
pub async fn start(config: ServeConfig, feed: Option<ClusterFeed>) -> Result<RunningServer> {
    let metrics = Metrics::new();
    let loaded_tls = tls::load(&config.tls)?;
    metrics.certificate_expiry.set(loaded_tls.expires_at);
    metrics
        .certificate_reloads
        .get_or_create(&ResultLabels {
            result: "success".into(),
        })
        .inc();
    let rustls_config = RustlsConfig::from_config(loaded_tls.config);

    let source = if feed.is_some() {
        NamespaceSource::Watch
    } else if !config.namespace_dirs.is_empty() {
        NamespaceSource::Directory
    } else {
        tracing::warn!(
            "no namespace source (--namespaces DIR or --cluster): every namespace is taken to have no labels, so Pod Security applies its defaults"
        );
        NamespaceSource::None
    };
    let namespaces = Arc::new(NamespaceCache::new(source));
    if source == NamespaceSource::Directory {
        reload_namespaces(&config.namespace_dirs, &namespaces);
        namespaces.mark_synced();
    }
    let pods = Arc::new(PrivilegedPods::new(metrics.privileged_pods.clone()));
    let detect = config.audit.as_ref().map(|a| a.0.clone());
    let state = Arc::new(AppState {
        config: config.clone(),
        policies: PolicyStore::default(),
        namespaces: namespaces.clone(),
        pods: pods.clone(),
        metrics,
        detect,
    });
    reload_policies(&state).await;

    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    listener
        .set_nonblocking(true)
        .context("cannot make the listener non-blocking")?;
    let addr = listener.local_addr().context("listener address")?;
    let handle = axum_server::Handle::new();
    let app = router(state.clone());
    let server = axum_server::from_tcp_rustls(listener, rustls_config.clone())
        .context("cannot start TLS on the listener")?
        .handle(handle.clone());
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(async move {
        if let Err(e) = server.serve(app.into_make_service()).await {
            tracing::error!(error = %e, "server stopped");
        }
    }));
    tasks.push(tokio::spawn(watch_files(state.clone(), rustls_config)));
    if let Some(feed) = feed {
        let view = ClusterView {
            namespaces: namespaces.clone(),
            pods,
        };
        tasks.push(tokio::spawn(async move {
            if let Err(e) = feed(view).await {
                tracing::error!(error = %format!("{e:#}"), "cluster watch stopped");
            }
        }));
    }
    tracing::info!(%addr, "serving admission reviews on https://{addr}/validate");
    Ok(RunningServer {
        addr,
        state,
        handle,
        tasks,
    })
}

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/validate", post(validate))
        .route("/audit", post(audit))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.ready() {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
    }
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    state
        .metrics
        .namespaces_cached
        .set(state.namespaces.len() as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

fn bad_request(state: &AppState, error: &BadRequest) -> Response {
    state
        .metrics
        .requests
        .get_or_create(&metrics::RequestLabels {
            operation: String::new(),
            kind: String::new(),
            decision: "bad_request".into(),
        })
        .inc();
    tracing::warn!(error = %error, "bad admission request");
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": error.0,
        "reason": "BadRequest",
        "code": 400,
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// The uid of a review, read without building it (for answers that must
/// not wait for the full decoding).
fn quick_uid(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Review {
        request: Request,
    }
    #[derive(serde::Deserialize)]
    struct Request {
        uid: String,
    }
    serde_json::from_slice::<Review>(body)
        .ok()
        .map(|r| r.request.uid)
}

async fn validate(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    if !state.config.admission {
        return (
            StatusCode::NOT_FOUND,
            "admission is not served here (palisade detect --listen serves /audit only)",
        )
            .into_response();
    }
    let started = Instant::now();
    let budget = state.config.budget;
    let deadline = started + budget;
    let Some(policies) = state.policies.current() else {
        // Not ready: the failure mode answers, if the body is a review at all.
        return match decode(&body) {
            Ok(decoded) => {
                let verdict = failure_verdict(state.config.fail_open, "policies are not loaded");
                count_failure(&state, "not_ready");
                answer(
                    &state,
                    &decoded.uid,
                    decoded.operation(),
                    decoded.kind(),
                    &verdict,
                    started,
                )
            }
            Err(e) => bad_request(&state, &e),
        };
    };
    let judge_state = state.clone();
    let judge_body = body.clone();
    let task = tokio::task::spawn_blocking(move || {
        let decoded = decode(&judge_body)?;
        let judge = Judge {
            pod_security: &judge_state.config.pod_security,
            namespaces: &judge_state.namespaces,
            policies: &policies,
        };
        let verdict = judge.decide(&decoded, Some(deadline));
        Ok::<_, BadRequest>((decoded, verdict))
    });
    // The judge stops at the deadline between policies; the grace covers one
    // policy that overruns it.
    let grace = Duration::from_millis(250);
    match tokio::time::timeout(budget + grace, task).await {
        Ok(Ok(Ok((decoded, verdict)))) => {
            let verdict = if verdict.timed_out {
                count_failure(&state, "timeout");
                merge_timeout(verdict, state.config.fail_open, budget)
            } else {
                verdict
            };
            for error in &verdict.errors {
                tracing::warn!(uid = %decoded.uid, error = %error, "policy not evaluated");
            }
            answer(
                &state,
                &decoded.uid,
                decoded.operation(),
                decoded.kind(),
                &verdict,
                started,
            )
        }
        Ok(Ok(Err(bad))) => bad_request(&state, &bad),
        Ok(Err(join_error)) => {
            // A panic in a layer must not take the server down: answer by the failure mode.
            tracing::error!(error = %join_error, "the judge failed");
            by_failure_mode(
                &state,
                &body,
                "error",
                "internal error while judging the request",
                started,
            )
        }
        Err(_elapsed) => by_failure_mode(
            &state,
            &body,
            "timeout",
            &format!(
                "policy evaluation exceeded the time budget of {} ms",
                budget.as_millis()
            ),
            started,
        ),
    }
}

/// The failure mode's answer to a request that could not be judged, read
/// only as far as its uid.
fn by_failure_mode(
    state: &AppState,
    body: &[u8],
    cause: &str,
    why: &str,
    started: Instant,
) -> Response {
    count_failure(state, cause);
    let verdict = failure_verdict(state.config.fail_open, why);
    match quick_uid(body) {
        Some(uid) => answer(state, &uid, "", "", &verdict, started),
        None => bad_request(state, &BadRequest("request body has no request.uid".into())),
    }
}

/// A verdict cut short: what was found stands; whether the rest is allowed is
/// the failure mode's call.
fn merge_timeout(mut verdict: Verdict, fail_open: bool, budget: Duration) -> Verdict {
    let why = format!(
        "policy evaluation exceeded the time budget of {} ms",
        budget.as_millis()
    );
    let fallback = failure_verdict(fail_open, &why);
    if !verdict.allowed {
        // Already refused by what was evaluated.
        verdict.warnings.extend(fallback.warnings);
        return verdict;
    }
    if fail_open {
        verdict.warnings.extend(fallback.warnings);
        verdict.audit_annotations.extend(fallback.audit_annotations);
        verdict
    } else {
        fallback
    }
}

fn count_failure(state: &AppState, cause: &str) {
    state
        .metrics
        .failures
        .get_or_create(&FailureLabels {
            cause: cause.to_string(),
            failure_mode: if state.config.fail_open {
                "open"
            } else {
                "closed"
            }
            .to_string(),
        })
        .inc();
}

fn answer(
    state: &AppState,
    uid: &str,
    operation: &str,
    kind: &str,
    verdict: &Verdict,
    started: Instant,
) -> Response {
    let seconds = started.elapsed().as_secs_f64();
    state.metrics.record(operation, kind, verdict, seconds);
    tracing::info!(
        uid = %uid,
        operation = %operation,
        kind = %kind,
        allowed = verdict.allowed,
        violations = verdict.violations.len(),
        warnings = verdict.warnings.len(),
        duration_ms = seconds * 1000.0,
        "admission review"
    );
    axum::Json(verdict.response_json(uid)).into_response()
}

/// The API server's audit webhook backend: an `EventList` per POST.
async fn audit(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let Some(engine) = state.detect.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "no audit rules loaded: start palisade serve with --rules FILE, or palisade detect --listen",
        )
            .into_response();
    };
    let events = match palisade_detect::decode_audit_batch(&body) {
        Ok(events) => events,
        Err(e) => {
            let body = json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "message": format!("not an audit EventList: {e}"),
                "reason": "BadRequest", "code": 400,
            });
            return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
        }
    };
    let count = events.len();
    let judge = state.clone();
    let alerts = tokio::task::spawn_blocking(move || {
        let mut alerts = Vec::new();
        for event in &events {
            alerts.extend(engine.evaluate(event));
        }
        judge
            .metrics
            .audit_events
            .get_or_create(&metrics::SourceLabels {
                source: "k8s_audit".into(),
            })
            .inc_by(events.len() as u64);
        alerts
    })
    .await
    .unwrap_or_default();
    {
        use std::io::Write;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for alert in &alerts {
            state
                .metrics
                .detect_events
                .get_or_create(&metrics::DetectLabels {
                    rule: alert.rule.clone(),
                    priority: alert.priority.name().to_string(),
                    source: alert.source.clone(),
                })
                .inc();
            let _ = writeln!(out, "{}", alert.to_json());
        }
        let _ = out.flush();
    }
    axum::Json(json!({"events": count, "alerts": alerts.len()})).into_response()
}

/// Loads the policies; on success they replace the ones in force.
async fn reload_policies(state: &Arc<AppState>) {
    let dirs = state.config.policy_dirs.clone();
    let inventory = state.config.inventory_dirs.clone();
    let rbac = state.config.rbac_dirs.clone();
    let result = tokio::task::spawn_blocking(move || {
        if dirs.is_empty() {
            Ok(PolicySnapshot::empty())
        } else {
            PolicySnapshot::load(&dirs, &inventory, &rbac)
        }
    })
    .await
    .unwrap_or_else(|e| Err(vec![format!("policy loading failed: {e}")]));
    let metrics = &state.metrics;
    match result {
        Ok(snapshot) => {
            let counts = snapshot.counts;
            for (kind, n) in [
                ("ConstraintTemplate", counts.templates),
                ("Constraint", counts.constraints),
                ("ValidatingAdmissionPolicy", counts.admission_policies),
                ("ValidatingAdmissionPolicyBinding", counts.bindings),
            ] {
                metrics
                    .policies_loaded
                    .get_or_create(&KindLabels { kind: kind.into() })
                    .set(n as i64);
            }
            metrics.policy_last_reload.set(unix_now());
            metrics
                .policy_reloads
                .get_or_create(&ResultLabels {
                    result: "success".into(),
                })
                .inc();
            tracing::info!(
                templates = counts.templates,
                constraints = counts.constraints,
                admission_policies = counts.admission_policies,
                bindings = counts.bindings,
                "policies loaded"
            );
            state.policies.replace(snapshot);
        }
        Err(problems) => {
            metrics
                .policy_reloads
                .get_or_create(&ResultLabels {
                    result: "failure".into(),
                })
                .inc();
            for problem in &problems {
                tracing::error!(problem = %problem, "policy not loaded");
            }
            let kept = if state.policies.current().is_some() {
                "the last good policies stay in force"
            } else {
                "not ready until the policies load"
            };
            tracing::error!(problems = problems.len(), "policy reload failed: {kept}");
        }
    }
}

fn reload_namespaces(dirs: &[PathBuf], cache: &NamespaceCache) {
    let mut all = Vec::new();
    for dir in dirs {
        let (namespaces, problems) = read_namespace_dir(dir);
        for problem in problems {
            tracing::warn!(problem = %problem, "namespace manifest not read");
        }
        all.extend(namespaces);
    }
    cache.replace_all(all);
    tracing::info!(namespaces = cache.len(), "namespaces loaded");
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Polls the policy, namespace and certificate files and reloads what changed.
async fn watch_files(state: Arc<AppState>, rustls: RustlsConfig) {
    let config = &state.config;
    let mut policy_paths = config.policy_dirs.clone();
    policy_paths.extend(config.inventory_dirs.iter().cloned());
    policy_paths.extend(config.rbac_dirs.iter().cloned());
    let mut cert_paths = vec![config.tls.cert.clone(), config.tls.key.clone()];
    cert_paths.extend(config.tls.client_ca.iter().cloned());
    let mut seen_policies = fingerprint(&policy_paths);
    let mut seen_namespaces = fingerprint(&config.namespace_dirs);
    let mut seen_certs = fingerprint(&cert_paths);
    let mut interval = tokio::time::interval(config.reload_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let now = fingerprint(&policy_paths);
        if now != seen_policies {
            seen_policies = now;
            reload_policies(&state).await;
        }
        if !config.namespace_dirs.is_empty() {
            let now = fingerprint(&config.namespace_dirs);
            if now != seen_namespaces {
                seen_namespaces = now;
                reload_namespaces(&config.namespace_dirs, &state.namespaces);
            }
        }
        let now = fingerprint(&cert_paths);
        if now != seen_certs {
            seen_certs = now;
            match tls::load(&config.tls) {
                Ok(loaded) => {
                    rustls.reload_from_config(loaded.config);
                    state.metrics.certificate_expiry.set(loaded.expires_at);
                    state
                        .metrics
                        .certificate_reloads
                        .get_or_create(&ResultLabels {
                            result: "success".into(),
                        })
                        .inc();
                    tracing::info!("serving certificate reloaded");
                }
                Err(e) => {
                    state
                        .metrics
                        .certificate_reloads
                        .get_or_create(&ResultLabels {
                            result: "failure".into(),
                        })
                        .inc();
                    tracing::error!(error = %format!("{e:#}"), "certificate not reloaded: the previous one stays in use");
                }
            }
        }
    }
}

/// Structured JSON logs on stderr (`RUST_LOG` filters; default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .try_init();
}

/// Makes ring the process's rustls provider, for clients that use the
/// default (kube-rs). The server passes ring explicitly and needs none.
pub fn install_crypto_provider() {
    // Already installed (by an earlier call) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
