//! `palisade install webhook` and `palisade install detector`: ready-to-apply
//! manifests for `palisade serve` and for the syscall sensor in a cluster. The manifests are written here as text so that what users
//! apply reads like what they would write by hand.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum InstallCommand {
    /// Manifests for the admission webhook: Namespace, ServiceAccount, RBAC to watch
    /// Namespaces and Pods, Deployment, PodDisruptionBudget, Service, NetworkPolicy and the
    /// ValidatingWebhookConfiguration
    #[command(after_long_help = INSTALL_EXAMPLES)]
    Webhook(WebhookArgs),
    /// Manifests for runtime detection: a DaemonSet running the eBPF syscall sensor
    /// (`palisade detect --source syscall`) on every node with Falco's rules from a
    /// ConfigMap, a headless Service for its metrics, NetworkPolicies, and the audit webhook
    /// wiring for Kubernetes audit rules
    #[command(after_long_help = DETECTOR_HELP)]
    Detector(DetectorArgs),
    /// A PrometheusRule on Palisade's metrics (docs/metrics.md); --dashboard adds the Grafana
    /// dashboard
    Monitoring(crate::commands::monitoring::MonitoringArgs),
}

const DETECTOR_HELP: &str = "\
Examples:
  kubectl create namespace palisade-detect
  kubectl -n palisade-detect create configmap palisade-rules --from-file=falco_rules.yaml
  palisade install detector | kubectl apply -f -
  palisade install detector --audit-rules-configmap palisade-audit-rules > detector.yaml

Privileges, and why:
  hostPID: true            the sensor resolves processes, their working directories and container
                           users through /proc/PID of the node's processes
  CAP_BPF, CAP_PERFMON     load the BPF programs, attach them to BTF tracepoints and to a
                           CPU-clock timer per CPU that sends batched records
                           (kernels 5.8+; no CAP_SYS_ADMIN, no privileged: true)
  CAP_SYS_RESOURCE         raise the memlock limit for the ring buffers on kernels before 5.11
  CAP_SYS_PTRACE           read /proc/PID/root/etc/passwd and /proc/PID/cwd of other users' processes
  CAP_DAC_READ_SEARCH      read /proc entries and files of processes of other users
  runAsUser: 0             the capabilities above apply to root in the container; the root
                           filesystem is read-only and every other capability is dropped
  Read-only mounts: /sys/kernel/btf (the kernel's BTF, for CO-RE), /etc of the node at
  /host/etc (user and group names of host processes); /proc comes with hostPID.
The API server's audit webhook (--audit-webhook-config-file) sends audit events to the
detector Service (k8s_audit rules) when --audit-rules-configmap is given.";

#[derive(Debug, Args)]
pub struct DetectorArgs {
    /// Namespace to run in
    #[arg(short = 'n', long, default_value = "palisade-detect")]
    pub namespace: String,

    /// Container image of palisade, built with the default features (the sensor)
    #[arg(long, default_value = concat!("ghcr.io/palisade-dev/palisade:", env!("CARGO_PKG_VERSION")))]
    pub image: String,

    /// ConfigMap holding the syscall rules files (every key is a rules file, loaded in name order)
    #[arg(long, default_value = "palisade-rules")]
    pub rules_configmap: String,

    /// Also run the audit webhook receiver with the k8s_audit rules of this ConfigMap, and print
    /// the API server's audit webhook configuration for it
    #[arg(long, value_name = "CONFIGMAP")]
    pub audit_rules_configmap: Option<String>,

    /// Port of the metrics endpoint on each node's sensor
    #[arg(long, default_value_t = 9376)]
    pub metrics_port: u16,

    /// The container runtime's CRI socket on the nodes, mounted read-only so the sensor can
    /// name pods, namespaces and images (CRI-O: /run/crio/crio.sock); "" leaves it out. Who can
    /// reach this socket controls the node's containers.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/run/containerd/containerd.sock"
    )]
    pub cri_socket: String,
}

const INSTALL_EXAMPLES: &str = "\
Examples:
  # Policies from a directory, a self-signed CA generated now (written to ./palisade-certs)
  palisade install webhook > palisade.yaml
  kubectl apply -f palisade.yaml   # the Namespace first; the webhook waits for its Secret
  kubectl -n palisade create secret tls palisade-tls --cert=palisade-certs/tls.crt --key=palisade-certs/tls.key
  kubectl -n palisade create configmap palisade-policies --from-file=policies/

  # With cert-manager issuing and rotating the serving certificate
  palisade install webhook --tls cert-manager | kubectl apply -f -

  # Check the manifests with Palisade itself
  palisade install webhook | palisade scan - --fail-on medium

The webhook skips kube-system, kube-node-lease and its own namespace, and its own requests, so
that a broken policy cannot lock the cluster's control plane or Palisade out. With
--failure-policy Fail (the default) requests are refused while no replica answers: the
Deployment runs 2 replicas on different nodes with a PodDisruptionBudget.";

#[derive(Debug, Args)]
pub struct WebhookArgs {
    /// Namespace to run in
    #[arg(short = 'n', long, default_value = "palisade")]
    pub namespace: String,

    /// Container image of palisade (pin a digest in production: image@sha256:...)
    #[arg(long, default_value = concat!("ghcr.io/palisade-dev/palisade:", env!("CARGO_PKG_VERSION")))]
    pub image: String,

    /// Replicas of the webhook (2 or more keeps admission available during node drains)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub replicas: u32,

    /// What the API server does when the webhook does not answer: Fail refuses the request,
    /// Ignore lets it through unchecked
    #[arg(long, value_enum, default_value_t = FailurePolicy::Fail)]
    pub failure_policy: FailurePolicy,

    /// The API server's timeout for one call (1..30); the server's own budget is set below it
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=30))]
    pub timeout_seconds: u32,

    /// Where the serving certificate comes from: self-signed (a CA generated now, its bundle
    /// in the webhook configuration) or cert-manager (a Certificate, CA injected by cert-manager)
    #[arg(long, value_enum, default_value_t = TlsMode::SelfSigned)]
    pub tls: TlsMode,

    /// Where --tls self-signed writes ca.crt, tls.crt and tls.key
    #[arg(long, value_name = "DIR", default_value = "palisade-certs")]
    pub cert_dir: std::path::PathBuf,

    /// Addresses of the API server, for the webhook's egress NetworkPolicy (repeatable;
    /// the default allows ports 443 and 6443 to any address)
    #[arg(long, value_name = "CIDR", default_value = "0.0.0.0/0")]
    pub api_server_cidr: Vec<String>,

    /// ConfigMap holding the policies (templates, constraints, VAPs, bindings)
    #[arg(long, default_value = "palisade-policies")]
    pub policies_configmap: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailurePolicy {
    Fail,
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsMode {
    SelfSigned,
    CertManager,
}

const NAME: &str = "palisade";

pub fn run(command: &InstallCommand) -> Result<ExitCode> {
    match command {
        InstallCommand::Webhook(args) => {
            let text = webhook_manifests(args)?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        InstallCommand::Detector(args) => {
            print!("{}", detector_manifests(args));
            Ok(ExitCode::SUCCESS)
        }
        InstallCommand::Monitoring(args) => {
            print!(
                "{}",
                crate::commands::monitoring::monitoring_manifests(args)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Every manifest, as one multi-document YAML stream.
pub fn webhook_manifests(args: &WebhookArgs) -> Result<String> {
    let ns = &args.namespace;
    let service_host = format!("{NAME}.{ns}.svc");
    let mut out = String::new();
    let labels = "app.kubernetes.io/name: palisade\n    app.kubernetes.io/component: admission-webhook\n    app.kubernetes.io/part-of: palisade";
    let _ = write!(
        out,
        "# palisade install webhook {version}: apply with kubectl apply -f -
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    {labels}
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {NAME}
  namespace: {ns}
  labels:
    {labels}
# The token is mounted only into the webhook's pods, which need it to watch Namespaces and Pods.
automountServiceAccountToken: false
---
# Namespaces: their labels and objects, for admission. Pods: the palisade_privileged_pods gauge.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {NAME}-reader
  labels:
    {labels}
rules:
- apiGroups: [\"\"]
  resources: [namespaces]
  verbs: [get, list, watch]
- apiGroups: [\"\"]
  resources: [pods]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {NAME}-reader
  labels:
    {labels}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {NAME}-reader
subjects:
- kind: ServiceAccount
  name: {NAME}
  namespace: {ns}
",
        version = env!("CARGO_PKG_VERSION"),
    );
    let mut annotations = String::new();
    let ca_bundle = match args.tls {
        TlsMode::SelfSigned => {
            let names = vec![
                service_host.clone(),
                format!("{NAME}.{ns}.svc.cluster.local"),
                format!("{NAME}.{ns}"),
            ];
            let generated = palisade_server::tls::self_signed(&names)
                .context("cannot generate the webhook's certificate")?;
            // The key stays out of the manifests (they are often kept in git): it is
            // written to files, from which the Secret is created.
            generated
                .write(&args.cert_dir)
                .context("cannot write the webhook's certificate")?;
            eprintln!(
                "palisade: certificate for {service_host} written to {dir}; create its Secret before applying:\n  kubectl -n {ns} create secret tls {NAME}-tls --cert={dir}/tls.crt --key={dir}/tls.key",
                dir = args.cert_dir.display()
            );
            let _ = write!(
                out,
                "---\n# The Secret {NAME}-tls is created from the files palisade wrote to {dir} (see its message):\n#   kubectl -n {ns} create secret tls {NAME}-tls --cert={dir}/tls.crt --key={dir}/tls.key\n# The CA below is valid for one year: re-run to renew, or use --tls cert-manager.\n",
                dir = args.cert_dir.display()
            );
            Some(generated.ca_bundle())
        }
        TlsMode::CertManager => {
            let _ = write!(
                out,
                "---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: {NAME}-selfsigned
  namespace: {ns}
  labels:
    {labels}
spec:
  selfSigned: {{}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {NAME}-tls
  namespace: {ns}
  labels:
    {labels}
spec:
  secretName: {NAME}-tls
  dnsNames:
  - {service_host}
  - {NAME}.{ns}.svc.cluster.local
  issuerRef:
    kind: Issuer
    name: {NAME}-selfsigned
  duration: 2160h
  renewBefore: 720h
"
            );
            let _ = write!(
                annotations,
                "\n  annotations:\n    cert-manager.io/inject-ca-from: {ns}/{NAME}-tls"
            );
            None
        }
    };
    let pod_labels = "app.kubernetes.io/name: palisade\n        app.kubernetes.io/component: admission-webhook\n        app.kubernetes.io/part-of: palisade";
    let budget_ms = (u64::from(args.timeout_seconds) * 1000)
        .saturating_sub(1500)
        .max(500);
    let _ = write!(
        out,
        "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {NAME}
  namespace: {ns}
  labels:
    {labels}
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: palisade
      app.kubernetes.io/component: admission-webhook
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {pod_labels}
    spec:
      serviceAccountName: {NAME}
      automountServiceAccountToken: true
      priorityClassName: system-cluster-critical
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        fsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - topologyKey: kubernetes.io/hostname
            labelSelector:
              matchLabels:
                app.kubernetes.io/name: palisade
                app.kubernetes.io/component: admission-webhook
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
        labelSelector:
          matchLabels:
            app.kubernetes.io/name: palisade
            app.kubernetes.io/component: admission-webhook
      containers:
      - name: palisade
        image: {image}
        imagePullPolicy: Always
        args:
        - serve
        - --listen=0.0.0.0:8443
        - --tls-cert=/etc/palisade/tls/tls.crt
        - --tls-key=/etc/palisade/tls/tls.key
        - --policies=/etc/palisade/policies
        - --cluster
        - --time-budget={budget_ms}ms
        - --failure-mode={failure_mode}
        ports:
        - name: https
          containerPort: 8443
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /readyz
            port: https
            scheme: HTTPS
          periodSeconds: 5
          failureThreshold: 2
        livenessProbe:
          httpGet:
            path: /healthz
            port: https
            scheme: HTTPS
          initialDelaySeconds: 5
          periodSeconds: 10
          failureThreshold: 3
        resources:
          requests:
            cpu: 250m
            memory: 128Mi
            ephemeral-storage: 16Mi
          limits:
            cpu: \"2\"
            memory: 512Mi
            ephemeral-storage: 64Mi
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          runAsNonRoot: true
          runAsUser: 65532
          runAsGroup: 65532
          capabilities:
            drop: [ALL]
        volumeMounts:
        - name: tls
          mountPath: /etc/palisade/tls
          readOnly: true
        - name: policies
          mountPath: /etc/palisade/policies
          readOnly: true
      volumes:
      - name: tls
        secret:
          secretName: {NAME}-tls
      - name: policies
        configMap:
          name: {policies_configmap}
          optional: true
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {NAME}
  namespace: {ns}
  labels:
    {labels}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: palisade
      app.kubernetes.io/component: admission-webhook
---
apiVersion: v1
kind: Service
metadata:
  name: {NAME}
  namespace: {ns}
  labels:
    {labels}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: palisade
    app.kubernetes.io/component: admission-webhook
  ports:
  - name: https
    port: 443
    targetPort: https
    protocol: TCP
---
# The API server calls the webhook from addresses outside the cluster's pod network, so
# ingress to the webhook port is open; everything else is denied. Egress: DNS and the API server.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {NAME}
  namespace: {ns}
  labels:
    {labels}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: palisade
      app.kubernetes.io/component: admission-webhook
  policyTypes: [Ingress, Egress]
  ingress:
  - ports:
    - port: 8443
      protocol: TCP
  egress:
  # DNS: the cluster's resolver only.
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
    ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  # The API server (to watch Namespaces and Pods), on the addresses given with --api-server-cidr.
  - to:
{api_server_peers}    ports:
    - port: 443
      protocol: TCP
    - port: 6443
      protocol: TCP
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {NAME}
  labels:
    {labels}{annotations}
webhooks:
- name: validate.palisade.dev
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: {failure_policy}
  timeoutSeconds: {timeout}
  matchPolicy: Equivalent
  clientConfig:
    service:
      name: {NAME}
      namespace: {ns}
      path: /validate
      port: 443{ca_bundle}
  rules:
  - apiGroups: [\"*\"]
    apiVersions: [\"*\"]
    operations: [CREATE, UPDATE]
    resources: [\"*\", pods/ephemeralcontainers]
    scope: \"*\"
  # The control plane, node heartbeats and Palisade itself are never judged: a broken policy
  # must not be able to stop them.
  namespaceSelector:
    matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: [kube-system, kube-node-lease, {ns}]
  matchConditions:
  - name: not-palisade-itself
    expression: \"request.userInfo.username != 'system:serviceaccount:{ns}:{NAME}'\"
  - name: not-leases-or-events
    expression: \"!(request.resource.resource in ['leases', 'events'])\"
  - name: not-reviews
    expression: \"!(request.resource.group in ['authentication.k8s.io', 'authorization.k8s.io'])\"
",
        replicas = args.replicas,
        image = args.image,
        failure_mode = match args.failure_policy {
            FailurePolicy::Fail => "closed",
            FailurePolicy::Ignore => "open",
        },
        policies_configmap = args.policies_configmap,
        failure_policy = match args.failure_policy {
            FailurePolicy::Fail => "Fail",
            FailurePolicy::Ignore => "Ignore",
        },
        timeout = args.timeout_seconds,
        api_server_peers = args
            .api_server_cidr
            .iter()
            .map(|cidr| format!("    - ipBlock:\n        cidr: {cidr}\n"))
            .collect::<String>(),
        ca_bundle = ca_bundle
            .map(|b| format!("\n    caBundle: {b}"))
            .unwrap_or_default(),
    );
    Ok(out)
}

/// The detector's manifests: the sensor DaemonSet, and optionally the audit
/// webhook receiver with the API server's webhook configuration.
pub fn detector_manifests(args: &DetectorArgs) -> String {
    let ns = &args.namespace;
    let image = &args.image;
    let rules = &args.rules_configmap;
    let port = args.metrics_port;
    let labels = "app.kubernetes.io/name: palisade\n    app.kubernetes.io/component: detector\n    app.kubernetes.io/part-of: palisade";
    let socket = args.cri_socket.trim();
    let (cri_ignore, cri_reason, cri_arg, cri_mount, cri_volume) = if socket.is_empty() {
        Default::default()
    } else {
        (
            ", pod/container-runtime-socket",
            ", and the container runtime's socket, read-only, to name the pods, namespaces and images of containers (CRI)".to_string(),
            format!(" --cri /host{socket}"),
            format!("\n        - name: cri-socket\n          mountPath: /host{socket}\n          readOnly: true"),
            format!("\n      - name: cri-socket\n        hostPath:\n          path: {socket}\n          type: Socket"),
        )
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "# palisade install detector {version}: apply with kubectl apply -f -
# The sensor needs privileges no restricted namespace allows: it gets a namespace of its own,
# labelled privileged for Pod Security.
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    {labels}
    pod-security.kubernetes.io/enforce: privileged
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: palisade-detector
  namespace: {ns}
  labels:
    {labels}
# The sensor never calls the API server.
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: palisade-detector
  namespace: {ns}
  labels:
    {labels}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: palisade
      app.kubernetes.io/component: detector
  updateStrategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 1
  template:
    metadata:
      labels:
        app.kubernetes.io/name: palisade
        app.kubernetes.io/component: detector
      # What a syscall sensor needs is what Palisade warns about elsewhere: exempted here,
      # for this container only, with the reason (the findings stay in reports, marked exempted).
      annotations:
        palisade.dev/ignore: pod/dangerous-capabilities@sensor, pod/sensitive-host-path{cri_ignore}
        palisade.dev/ignore-reason: the eBPF sensor loads BPF programs and reads perf buffers (BPF, PERFMON), reads the /proc entries and files of other processes (SYS_PTRACE, DAC_READ_SEARCH), and the BTF of the kernel and the user names of the host, both mounted read-only{cri_reason}
    spec:
      serviceAccountName: palisade-detector
      automountServiceAccountToken: false
      # /proc/PID of every process on the node: process table, working directories, users.
      hostPID: true
      priorityClassName: system-node-critical
      tolerations:
      - operator: Exists
      containers:
      - name: sensor
        image: {image}
        imagePullPolicy: IfNotPresent
        command: [/bin/sh, -c]
        # Every rules file of the ConfigMap, in name order (later files override earlier ones).
        args:
        - exec palisade detect --source syscall -o json --metrics-addr 0.0.0.0:{port} --host-root /host{cri_arg} $(for f in /etc/palisade/rules/*.yaml; do printf -- '-r %s ' \"$f\"; done)
        env:
        - name: HOSTNAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        ports:
        - name: metrics
          containerPort: {port}
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /healthz
            port: metrics
          periodSeconds: 10
        livenessProbe:
          httpGet:
            path: /healthz
            port: metrics
          initialDelaySeconds: 10
          periodSeconds: 20
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
          limits:
            cpu: \"1\"
            memory: 512Mi
        securityContext:
          runAsUser: 0
          runAsNonRoot: false
          privileged: false
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
            # BPF + PERFMON: load and attach the programs (tracepoints, a timer per CPU). SYS_RESOURCE: memlock on kernels
            # before 5.11. SYS_PTRACE + DAC_READ_SEARCH: read other processes' /proc entries.
            add: [BPF, PERFMON, SYS_RESOURCE, SYS_PTRACE, DAC_READ_SEARCH]
          seccompProfile:
            type: Unconfined
          appArmorProfile:
            type: Unconfined
        volumeMounts:
        - name: rules
          mountPath: /etc/palisade/rules
          readOnly: true
        - name: btf
          mountPath: /sys/kernel/btf
          readOnly: true
        - name: host-etc
          mountPath: /host/etc
          readOnly: true{cri_mount}
      volumes:
      - name: rules
        configMap:
          name: {rules}
      - name: btf
        hostPath:
          path: /sys/kernel/btf
          type: Directory
      - name: host-etc
        hostPath:
          path: /etc
          type: Directory{cri_volume}
---
# One endpoint per node's sensor, for Prometheus (a ServiceMonitor on the port named metrics).
apiVersion: v1
kind: Service
metadata:
  name: palisade-detector-metrics
  namespace: {ns}
  labels:
    {labels}
spec:
  clusterIP: None
  selector:
    app.kubernetes.io/name: palisade
    app.kubernetes.io/component: detector
  ports:
  - name: metrics
    port: {port}
    targetPort: metrics
    protocol: TCP
---
# The sensor calls nothing over the network (its alerts are its log): ingress to the metrics
# port only, no egress.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: palisade-detector
  namespace: {ns}
  labels:
    {labels}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: palisade
      app.kubernetes.io/component: detector
  policyTypes: [Ingress, Egress]
  ingress:
  - ports:
    - port: {port}
      protocol: TCP
",
        version = env!("CARGO_PKG_VERSION"),
    );
    if let Some(audit_rules) = &args.audit_rules_configmap {
        let _ = write!(
            out,
            "---
# Kubernetes audit rules: the API server's audit webhook posts event batches to this receiver.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: palisade-audit
  namespace: {ns}
  labels:
    {labels}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: palisade
      app.kubernetes.io/component: audit-detector
  template:
    metadata:
      labels:
        app.kubernetes.io/name: palisade
        app.kubernetes.io/component: audit-detector
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: audit
        image: {image}
        command: [/bin/sh, -c]
        args:
        - exec palisade detect -o json --listen 0.0.0.0:9443 --tls-cert /etc/palisade/tls/tls.crt --tls-key /etc/palisade/tls/tls.key $(for f in /etc/palisade/audit-rules/*.yaml; do printf -- '-r %s ' \"$f\"; done)
        ports:
        - name: https
          containerPort: 9443
        readinessProbe:
          httpGet:
            path: /readyz
            port: https
            scheme: HTTPS
          periodSeconds: 5
        livenessProbe:
          httpGet:
            path: /healthz
            port: https
            scheme: HTTPS
          initialDelaySeconds: 5
          periodSeconds: 10
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
            ephemeral-storage: 16Mi
          limits:
            cpu: \"1\"
            memory: 256Mi
            ephemeral-storage: 64Mi
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
        volumeMounts:
        - name: rules
          mountPath: /etc/palisade/audit-rules
          readOnly: true
        - name: tls
          mountPath: /etc/palisade/tls
          readOnly: true
      volumes:
      - name: rules
        configMap:
          name: {audit_rules}
      - name: tls
        secret:
          secretName: palisade-audit-tls
---
apiVersion: v1
kind: Service
metadata:
  name: palisade-audit
  namespace: {ns}
  labels:
    {labels}
spec:
  selector:
    app.kubernetes.io/name: palisade
    app.kubernetes.io/component: audit-detector
  ports:
  - name: https
    port: 443
    targetPort: https
---
# The API server posts from outside the pod network: ingress to the receiver's port only, no egress.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: palisade-audit
  namespace: {ns}
  labels:
    {labels}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: palisade
      app.kubernetes.io/component: audit-detector
  policyTypes: [Ingress, Egress]
  ingress:
  - ports:
    - port: 9443
      protocol: TCP
# The API server's audit webhook configuration (not a cluster object: a kubeconfig file on
# the control plane nodes, given to kube-apiserver with
#   --audit-policy-file=/etc/kubernetes/audit-policy.yaml
#   --audit-webhook-config-file=/etc/kubernetes/palisade-audit-webhook.yaml
#   --audit-webhook-batch-max-wait=5s
# ). Save the lines below, uncommented, as /etc/kubernetes/palisade-audit-webhook.yaml; the
# API server resolves the Service through cluster DNS only if it can, otherwise use the
# Service's ClusterIP. The Secret palisade-audit-tls holds the receiver's certificate
# (kubectl -n {ns} create secret tls palisade-audit-tls --cert=tls.crt --key=tls.key).
#
# apiVersion: v1
# kind: Config
# clusters:
# - name: palisade
#   cluster:
#     server: https://palisade-audit.{ns}.svc:443/audit
#     certificate-authority: /etc/kubernetes/palisade-audit-ca.crt
# contexts:
# - name: palisade
#   context:
#     cluster: palisade
#     user: kube-apiserver
# current-context: palisade
# users:
# - name: kube-apiserver
#   user: {{}}
"
        );
    }
    out
}

#[cfg(test)]
mod detector_tests {
    use super::*;

    #[test]
    fn detector_manifests_are_minimal_and_parse() {
        let args = DetectorArgs {
            namespace: "sec".into(),
            image: "img:1".into(),
            rules_configmap: "rules".into(),
            audit_rules_configmap: Some("audit".into()),
            metrics_port: 9376,
            cri_socket: "/run/containerd/containerd.sock".into(),
        };
        let text = detector_manifests(&args);
        // The runtime's socket, read-only, and the sensor told where it is.
        assert!(text.contains("--cri /host/run/containerd/containerd.sock "));
        assert!(text
            .contains("mountPath: /host/run/containerd/containerd.sock\n          readOnly: true"));
        assert!(text.contains("path: /run/containerd/containerd.sock\n          type: Socket"));
        assert!(text.contains("hostPID: true"));
        assert!(text.contains("add: [BPF, PERFMON, SYS_RESOURCE, SYS_PTRACE, DAC_READ_SEARCH]"));
        assert!(text.contains("privileged: false"));
        assert!(!text.contains("SYS_ADMIN"));
        assert!(text.contains("--source syscall"));
        assert!(text.contains("server: https://palisade-audit.sec.svc:443/audit"));
        // Every document is a Kubernetes object (parsed as `palisade scan` parses input).
        let loaded = palisade_model::load_text(
            "detector.yaml",
            text.clone(),
            &palisade_model::LoadOptions::default(),
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let kinds: Vec<&str> = loaded.objects.iter().map(|o| o.id.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "ServiceAccount",
                "DaemonSet",
                "Service",
                "NetworkPolicy",
                "Deployment",
                "Service",
                "NetworkPolicy"
            ]
        );
        for line in text.lines().filter(|l| l.contains("readOnly:")) {
            assert!(line.trim_end().ends_with("true"), "{line}");
        }
        // Without audit rules: the sensor alone.
        let text = detector_manifests(&DetectorArgs {
            audit_rules_configmap: None,
            cri_socket: String::new(),
            ..args
        });
        assert!(!text.contains("palisade-audit"));
        assert!(!text.contains("--cri") && !text.contains("cri-socket"));
    }
}
