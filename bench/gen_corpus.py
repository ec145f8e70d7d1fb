#!/usr/bin/env python3
"""Deterministic corpus of Kubernetes manifests for benchmarking `palisade scan`.

Writes --objects Kubernetes objects (all kinds counted) into --out, spread over
many files of about --per-file objects each, shaped like real `helm template`
and `kubectl get -o yaml|json` output:

  * ~70% of files: multi-document YAML with `# Source:` comments (Helm style),
  * ~15% of files: a YAML `kind: List` (kubectl get -o yaml style),
  * ~15% of files: a JSON `kind: List` (kubectl get -o json style),

in one sub-directory per team. The mix of kinds is about 58% workloads
(Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod with 1-3 containers and
optional init containers) and 42% others (Service, ConfigMap, ServiceAccount,
and Namespace objects with pod-security.kubernetes.io labels). Security
contexts vary: fully `restricted`-compliant, baseline-only (no hardening),
almost-restricted (one field missing), and privileged (privileged containers,
host namespaces, hostPath volumes, added capabilities, unconfined seccomp,
hostPorts, unsafe sysctls, ...). Every manifest is valid for the API server
(field types are right), so `palisade scan` should report findings but no
input errors.

Python 3 standard library only. The same --seed and --objects always produce
byte-identical files.

Usage:
  python3 bench/gen_corpus.py --objects 10000 --out /tmp/corpus-10k [--seed 1] [--per-file 10]
  python3 bench/gen_corpus.py --objects 1000 --layout list --out /tmp/list-1k   # one kind: List file
"""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import sys

# ---------------------------------------------------------------------------
# A small YAML emitter (block style, the way helm and kubectl print).
# ---------------------------------------------------------------------------

_PLAIN_SAFE = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./=+-]*$")
_YAML11_WORDS = {
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
}


def _scalar(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    s = str(value)
    if _PLAIN_SAFE.match(s) and s.lower() not in _YAML11_WORDS:
        return s
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def _key(k):
    return _scalar(k)


def _emit(value, indent, lines, seq_indent):
    """Emits a mapping or sequence `value` whose entries start at column `indent`."""
    pad = " " * indent
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict) and v:
                lines.append(f"{pad}{_key(k)}:")
                _emit(v, indent + 2, lines, seq_indent)
            elif isinstance(v, list) and v:
                lines.append(f"{pad}{_key(k)}:")
                _emit(v, indent + (2 if seq_indent else 0), lines, seq_indent)
            elif isinstance(v, dict):
                lines.append(f"{pad}{_key(k)}: {{}}")
            elif isinstance(v, list):
                lines.append(f"{pad}{_key(k)}: []")
            elif isinstance(v, str) and "\n" in v:
                chomp = "|" if v.endswith("\n") else "|-"
                lines.append(f"{pad}{_key(k)}: {chomp}")
                for line in v.rstrip("\n").split("\n"):
                    lines.append(f"{pad}  {line}" if line else "")
            else:
                lines.append(f"{pad}{_key(k)}: {_scalar(v)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                sub = []
                _emit(item, indent + 2, sub, seq_indent)
                sub[0] = f"{pad}- " + sub[0][indent + 2:]
                lines.extend(sub)
            elif isinstance(item, list) and item:
                sub = []
                _emit(item, indent + 2, sub, seq_indent)
                sub[0] = f"{pad}- " + sub[0][indent + 2:]
                lines.extend(sub)
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        raise TypeError(value)


def to_yaml(obj, seq_indent=True):
    lines = []
    _emit(obj, 0, lines, seq_indent)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Vocabulary.
# ---------------------------------------------------------------------------

TEAMS = ["payments", "search", "identity", "platform", "data", "ml", "web", "mobile-api",
         "observability", "checkout", "catalog", "billing", "infra", "edge", "notifications"]
APPS = ["api", "worker", "frontend", "gateway", "scheduler", "indexer", "cache", "broker",
        "auth", "ledger", "exporter", "sync", "ingest", "router", "reporter", "mailer",
        "uploader", "resizer", "recommender", "session", "audit", "webhook", "crawler"]
ENVS = ["prod", "staging", "dev", "qa"]
IMAGES = [
    ("nginx", ["1.25.4", "1.27.0-alpine", "1.26.1"]),
    ("redis", ["7.2.4", "7.0.15-alpine"]),
    ("postgres", ["16.2", "15.6-alpine"]),
    ("ghcr.io/acme/{app}", ["v1.{m}.{p}", "sha-{sha}"]),
    ("registry.example.com/{team}/{app}", ["{m}.{p}.0", "2024.{m}.{p}"]),
    ("quay.io/prometheus/node-exporter", ["v1.7.0", "v1.8.1"]),
    ("docker.io/bitnami/kafka", ["3.6.1-debian-12-r12"]),
    ("gcr.io/distroless/static", ["nonroot"]),
    ("busybox", ["1.36.1"]),
    ("fluent/fluent-bit", ["3.0.2", "2.2.2"]),
]
INIT_IMAGES = ["busybox:1.36.1", "alpine:3.19", "ghcr.io/acme/migrate:v4.17.0",
               "registry.example.com/platform/wait-for:1.2.0"]
ENV_VALUES = {
    "LOG_LEVEL": "info", "PORT": "8080", "DATABASE_URL": "postgres://{release}-db:5432/app?sslmode=require",
    "REDIS_HOST": "{release}-redis", "FEATURE_FLAGS": "newCheckout,betaSearch",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector.observability:4317", "GOMAXPROCS": "2",
    "JAVA_OPTS": "-Xms512m -Xmx1g", "NODE_ENV": "production", "HTTP_TIMEOUT": "30s", "CACHE_TTL": "300",
    "REGION": "eu-west-1", "KAFKA_BROKERS": "kafka-0.kafka:9092,kafka-1.kafka:9092", "TZ": "UTC",
    "GRPC_PORT": "9000", "SERVICE_NAME": "{release}",
}
HOST_PATHS = ["/var/run/docker.sock", "/var/log", "/proc", "/sys", "/", "/etc/kubernetes",
              "/var/lib/kubelet", "/run/containerd/containerd.sock", "/dev"]
DANGEROUS_CAPS = ["SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "NET_RAW", "SYS_MODULE", "DAC_READ_SEARCH", "ALL"]
BASELINE_CAPS = ["NET_BIND_SERVICE", "CHOWN", "SETUID", "SETGID", "KILL"]
PSS_VERSIONS = ["latest", "v1.29", "v1.30", "v1.31", "v1.25", "v1.22"]

WORKLOAD_KINDS = [  # (kind, weight)
    ("Deployment", 28), ("StatefulSet", 7), ("DaemonSet", 5), ("Job", 5), ("CronJob", 6), ("Pod", 7),
]
OTHER_KINDS = [("Service", 20), ("ConfigMap", 13), ("ServiceAccount", 7)]


def weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for item, w in pairs:
        x -= w
        if x <= 0:
            return item
    return pairs[-1][0]


def hexstr(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.counter = 0
        self.namespaces = []  # (name, team)
        for team in TEAMS:
            for env in ENVS:
                self.namespaces.append((f"{team}-{env}", team))

    def uid(self):
        self.counter += 1
        return self.counter

    # -- metadata -----------------------------------------------------------

    def labels(self, app, release, chart_version, component=None):
        labels = {
            "app.kubernetes.io/name": app,
            "app.kubernetes.io/instance": release,
            "app.kubernetes.io/version": chart_version,
            "app.kubernetes.io/managed-by": "Helm",
            "helm.sh/chart": f"{app}-{chart_version}",
        }
        if component:
            labels["app.kubernetes.io/component"] = component
        return labels

    def selector(self, app, release):
        return {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": release}

    # -- security profiles -----------------------------------------------------

    def profile(self, kind):
        r = self.rng
        if kind == "DaemonSet":
            return weighted(r, [("restricted", 15), ("baseline", 25), ("almost", 10), ("privileged", 50)])
        return weighted(r, [("restricted", 38), ("baseline", 27), ("almost", 20), ("privileged", 15)])

    def pod_security_context(self, profile):
        r = self.rng
        if profile == "restricted":
            sc = {"runAsNonRoot": True, "runAsUser": r.choice([1000, 10001, 65532]),
                  "runAsGroup": r.choice([1000, 10001, 65532]), "fsGroup": r.choice([1000, 2000, 65532]),
                  "seccompProfile": {"type": r.choice(["RuntimeDefault", "RuntimeDefault", "Localhost"])}}
            if sc["seccompProfile"]["type"] == "Localhost":
                sc["seccompProfile"]["localhostProfile"] = "profiles/audit.json"
            return sc
        if profile == "almost":
            sc = {"runAsNonRoot": True, "fsGroup": 2000}
            if r.random() < 0.6:
                sc["seccompProfile"] = {"type": "RuntimeDefault"}
            return sc
        if profile == "privileged":
            sc = {}
            if r.random() < 0.4:
                sc["runAsUser"] = 0
            if r.random() < 0.3:
                sc["seccompProfile"] = {"type": "Unconfined"}
            if r.random() < 0.15:
                sc["sysctls"] = [{"name": r.choice(["net.core.somaxconn", "kernel.shm_rmid_forced",
                                                    "net.ipv4.ip_unprivileged_port_start"]),
                                  "value": r.choice(["1024", "0", "1"])}]
            if r.random() < 0.1:
                sc["seLinuxOptions"] = {"type": "spc_t"}
            return sc or None
        # baseline: often nothing at all, sometimes fsGroup only
        return {"fsGroup": 1000} if r.random() < 0.3 else None

    def container_security_context(self, profile, init=False):
        r = self.rng
        if profile == "restricted":
            sc = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": r.random() < 0.8,
                  "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
            if r.random() < 0.2:
                sc["capabilities"]["add"] = ["NET_BIND_SERVICE"]
            if r.random() < 0.3:
                sc["seccompProfile"] = {"type": "RuntimeDefault"}
            return sc
        if profile == "almost":
            sc = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
            miss = r.choice(["ape", "drop", "add", "none"])
            if miss == "ape" or init:
                del sc["allowPrivilegeEscalation"]
            elif miss == "drop":
                sc["capabilities"] = {"drop": ["NET_RAW"]}
            elif miss == "add":
                sc["capabilities"]["add"] = [r.choice(BASELINE_CAPS)]
            return sc
        if profile == "privileged":
            sc = {}
            if r.random() < 0.6:
                sc["privileged"] = True
            if r.random() < 0.4:
                sc["capabilities"] = {"add": r.sample(DANGEROUS_CAPS, r.randint(1, 3))}
            if r.random() < 0.3:
                sc["allowPrivilegeEscalation"] = True
            if r.random() < 0.1:
                sc["procMount"] = "Unmasked"
            if r.random() < 0.2:
                sc["runAsUser"] = 0
            return sc or None
        if r.random() < 0.4:
            return {"readOnlyRootFilesystem": r.random() < 0.5,
                    "capabilities": {"add": [r.choice(BASELINE_CAPS)]} if r.random() < 0.3 else {"drop": ["NET_RAW"]}}
        return None

    # -- containers --------------------------------------------------------------

    def image(self, team, app):
        r = self.rng
        repo, tags = r.choice(IMAGES)
        tag = r.choice(tags).format(m=r.randint(0, 30), p=r.randint(0, 20), sha=hexstr(r, 7))
        return repo.format(team=team, app=app) + ":" + tag

    def env(self, release):
        r = self.rng
        out = []
        for name in r.sample(sorted(ENV_VALUES), r.randint(2, 6)):
            x = r.random()
            if x < 0.65:
                out.append({"name": name, "value": ENV_VALUES[name].format(release=release)})
            elif x < 0.9:
                out.append({"name": name, "valueFrom": {"secretKeyRef": {"name": f"{release}-secrets",
                                                                         "key": name.lower()}}})
            else:
                out.append({"name": name, "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}})
        return out

    def probe(self, port):
        r = self.rng
        if r.random() < 0.7:
            handler = {"httpGet": {"path": r.choice(["/healthz", "/ready", "/livez", "/-/ready"]),
                                   "port": r.choice([port, "http"]), "scheme": "HTTP"}}
        elif r.random() < 0.5:
            handler = {"tcpSocket": {"port": port}}
        else:
            handler = {"exec": {"command": ["sh", "-c", "pg_isready -U postgres -h 127.0.0.1"]}}
        handler.update({"initialDelaySeconds": r.choice([5, 10, 15, 30]), "periodSeconds": r.choice([10, 15, 20]),
                        "timeoutSeconds": r.choice([1, 3, 5]), "failureThreshold": 3})
        return handler

    def container(self, team, app, release, profile, index, host_port=False):
        r = self.rng
        name = app if index == 0 else r.choice(["sidecar", "proxy", "log-shipper", "metrics", "config-reloader"])
        port = r.choice([8080, 8443, 9090, 3000, 5432, 6379, 80])
        c = {"name": name if index == 0 else f"{name}-{index}",
             "image": self.image(team, app),
             "imagePullPolicy": r.choice(["IfNotPresent", "IfNotPresent", "Always"])}
        if r.random() < 0.5:
            c["args"] = r.sample(["--config=/etc/app/config.yaml", f"--port={port}", "--log-format=json",
                                  "--metrics-addr=:9090", "--leader-elect", "-v=2"], r.randint(1, 4))
        ports = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        if host_port:
            ports[0]["hostPort"] = port
        if r.random() < 0.4:
            ports.append({"name": "metrics", "containerPort": 9090, "protocol": "TCP"})
        c["ports"] = ports
        c["env"] = self.env(release)
        if r.random() < 0.3:
            c["envFrom"] = [{"configMapRef": {"name": f"{release}-config"}}]
        c["resources"] = {
            "limits": {"cpu": r.choice(["500m", "1", "2"]), "memory": r.choice(["256Mi", "512Mi", "1Gi", "2Gi"])},
            "requests": {"cpu": r.choice(["50m", "100m", "250m"]), "memory": r.choice(["64Mi", "128Mi", "256Mi"])},
        }
        if index == 0 and r.random() < 0.8:
            c["livenessProbe"] = self.probe(port)
            if r.random() < 0.6:
                c["readinessProbe"] = self.probe(port)
        mounts = [{"name": "config", "mountPath": "/etc/app", "readOnly": True}]
        if r.random() < 0.5:
            mounts.append({"name": "tmp", "mountPath": "/tmp"})
        c["volumeMounts"] = mounts
        sc = self.container_security_context(profile)
        if sc is not None:
            c["securityContext"] = sc
        return c

    def init_container(self, profile):
        r = self.rng
        c = {"name": r.choice(["wait-for-db", "migrate", "init-perms", "fetch-config"]),
             "image": r.choice(INIT_IMAGES),
             "command": ["sh", "-c", r.choice(["until nc -z db 5432; do sleep 2; done",
                                               "chown -R 1000:1000 /data",
                                               "/migrate -path /migrations -database $DATABASE_URL up"])],
             "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}
        # Init containers are where hardening is most often forgotten.
        sub = profile if r.random() < 0.7 else r.choice(["baseline", "almost", "privileged"])
        sc = self.container_security_context(sub, init=True)
        if sc is not None:
            c["securityContext"] = sc
        return c

    def pod_spec(self, kind, team, app, release, profile, restart_never=False):
        r = self.rng
        n_containers = weighted(r, [(1, 70), (2, 24), (3, 6)])
        host_port = profile == "privileged" and r.random() < 0.2
        spec = {}
        if r.random() < 0.8:
            spec["serviceAccountName"] = release
        if profile == "privileged":
            if r.random() < 0.5:
                spec["hostNetwork"] = True
                spec["dnsPolicy"] = "ClusterFirstWithHostNet"
            if r.random() < 0.3:
                spec["hostPID"] = True
            if r.random() < 0.1:
                spec["hostIPC"] = True
        if profile == "restricted" and r.random() < 0.3:
            spec["automountServiceAccountToken"] = False
        psc = self.pod_security_context(profile)
        if psc is not None:
            spec["securityContext"] = psc
        if r.random() < 0.3:
            spec["initContainers"] = [self.init_container(profile) for _ in range(r.randint(1, 2))]
        spec["containers"] = [self.container(team, app, release, profile, i, host_port) for i in range(n_containers)]
        volumes = [{"name": "config", "configMap": {"name": f"{release}-config", "defaultMode": 420}}]
        volumes.append({"name": "tmp", "emptyDir": {"sizeLimit": "100Mi"} if r.random() < 0.5 else {}})
        if r.random() < 0.3:
            volumes.append({"name": "tls", "secret": {"secretName": f"{release}-tls"}})
        if profile == "privileged" and r.random() < 0.7 or kind == "DaemonSet" and r.random() < 0.3:
            for i, path in enumerate(r.sample(HOST_PATHS, r.randint(1, 3))):
                hp = {"path": path}
                if r.random() < 0.5:
                    hp["type"] = r.choice(["Directory", "Socket", "DirectoryOrCreate", "File"])
                volumes.append({"name": f"host-{i}", "hostPath": hp})
        spec["volumes"] = volumes
        if r.random() < 0.3:
            spec["nodeSelector"] = {"kubernetes.io/os": "linux", "node.kubernetes.io/pool": r.choice(["general", "spot", "highmem"])}
        if kind in ("Deployment", "StatefulSet") and r.random() < 0.4:
            spec["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": self.selector(app, release)},
                                                   "topologyKey": "kubernetes.io/hostname"}}]}}
        if kind == "DaemonSet" or r.random() < 0.15:
            spec["tolerations"] = [{"operator": "Exists", "effect": "NoSchedule"}]
        if r.random() < 0.1:
            spec["priorityClassName"] = "system-cluster-critical" if kind == "DaemonSet" else "high-priority"
        if restart_never:
            spec["restartPolicy"] = r.choice(["Never", "OnFailure"])
        spec["terminationGracePeriodSeconds"] = r.choice([30, 60, 10])
        return spec

    def template_metadata(self, app, release, profile):
        r = self.rng
        meta = {}
        ann = {}
        if r.random() < 0.7:
            ann["checksum/config"] = hexstr(r, 64)
        if r.random() < 0.4:
            ann["prometheus.io/scrape"] = "true"
            ann["prometheus.io/port"] = "9090"
        if profile == "privileged" and r.random() < 0.3:
            ann["container.apparmor.security.beta.kubernetes.io/" + app] = "unconfined"
        if r.random() < 0.1:
            ann["kubectl.kubernetes.io/restartedAt"] = "2024-05-%02dT10:%02d:00Z" % (r.randint(1, 28), r.randint(0, 59))
        if ann:
            meta["annotations"] = ann
        meta["labels"] = self.selector(app, release)
        return meta

    # -- objects ----------------------------------------------------------------

    def workload(self, kind, ns, team):
        r = self.rng
        n = self.uid()
        app = r.choice(APPS)
        release = f"{app}-{n}"
        chart_version = f"{r.randint(0, 3)}.{r.randint(0, 30)}.{r.randint(0, 9)}"
        profile = self.profile(kind)
        meta = {"name": release, "namespace": ns, "labels": self.labels(app, release, chart_version)}
        if r.random() < 0.3:
            meta["annotations"] = {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": ns}
        obj = {"apiVersion": "apps/v1", "kind": kind, "metadata": meta}
        if kind == "Pod":
            obj["apiVersion"] = "v1"
            tm = self.template_metadata(app, release, profile)
            meta["labels"].update(tm["labels"])
            if "annotations" in tm:
                meta.setdefault("annotations", {}).update(tm["annotations"])
            obj["spec"] = self.pod_spec(kind, team, app, release, profile)
            return obj
        template = {"metadata": self.template_metadata(app, release, profile),
                    "spec": self.pod_spec(kind, team, app, release, profile, restart_never=kind in ("Job", "CronJob"))}
        if kind == "Deployment":
            obj["spec"] = {"replicas": r.choice([1, 2, 3, 5]), "revisionHistoryLimit": 10,
                           "selector": {"matchLabels": self.selector(app, release)},
                           "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                           "template": template}
        elif kind == "StatefulSet":
            obj["spec"] = {"replicas": r.choice([1, 3]), "serviceName": f"{release}-headless",
                           "podManagementPolicy": "OrderedReady",
                           "selector": {"matchLabels": self.selector(app, release)},
                           "template": template,
                           "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                               "accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                               "resources": {"requests": {"storage": r.choice(["10Gi", "50Gi", "100Gi"])}}}}]}
        elif kind == "DaemonSet":
            obj["spec"] = {"selector": {"matchLabels": self.selector(app, release)},
                           "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                           "template": template}
        elif kind == "Job":
            obj["apiVersion"] = "batch/v1"
            obj["spec"] = {"backoffLimit": r.choice([0, 3, 6]), "ttlSecondsAfterFinished": 3600,
                           "template": template}
        elif kind == "CronJob":
            obj["apiVersion"] = "batch/v1"
            obj["spec"] = {"schedule": r.choice(["*/15 * * * *", "0 3 * * *", "30 1 * * 0", "@hourly"]),
                           "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 3,
                           "failedJobsHistoryLimit": 1,
                           "jobTemplate": {"spec": {"backoffLimit": 2, "template": template}}}
        return obj

    def other(self, kind, ns, team):
        r = self.rng
        n = self.uid()
        app = r.choice(APPS)
        release = f"{app}-{n}"
        chart_version = f"{r.randint(0, 3)}.{r.randint(0, 30)}.{r.randint(0, 9)}"
        labels = self.labels(app, release, chart_version)
        if kind == "Service":
            ports = [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
            if r.random() < 0.4:
                ports.append({"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP"})
            spec = {"type": r.choice(["ClusterIP", "ClusterIP", "ClusterIP", "LoadBalancer", "NodePort"]),
                    "ports": ports, "selector": self.selector(app, release)}
            meta = {"name": release, "namespace": ns, "labels": labels}
            if spec["type"] == "LoadBalancer":
                meta["annotations"] = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
                                       "service.beta.kubernetes.io/aws-load-balancer-internal": "true"}
            return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}
        if kind == "ConfigMap":
            data = {
                "config.yaml": "server:\n  port: %d\n  readTimeout: 30s\n  writeTimeout: 30s\nlog:\n  level: %s\n  format: json\n"
                               "database:\n  host: %s-db.%s.svc.cluster.local\n  pool: %d\nfeatures:\n%s" % (
                                   r.choice([8080, 3000]), r.choice(["info", "debug", "warn"]), release, ns,
                                   r.randint(5, 50),
                                   "".join("  %s: %s\n" % (f, r.choice(["true", "false"]))
                                           for f in r.sample(["newCheckout", "darkMode", "betaSearch", "asyncExport",
                                                              "rateLimit", "auditLog", "v2Api"], 4))),
                "LOG_LEVEL": r.choice(["info", "debug"]),
                "CACHE_TTL": str(r.choice([60, 300, 3600])),
            }
            if r.random() < 0.3:
                data["nginx.conf"] = ("server {\n  listen 8080;\n  location / {\n    proxy_pass http://127.0.0.1:3000;\n"
                                      "    proxy_set_header Host $host;\n  }\n}\n")
            return {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": f"{release}-config", "namespace": ns, "labels": labels}, "data": data}
        if kind == "ServiceAccount":
            meta = {"name": release, "namespace": ns, "labels": labels}
            if r.random() < 0.3:
                meta["annotations"] = {"eks.amazonaws.com/role-arn": f"arn:aws:iam::{r.randint(10**11, 10**12 - 1)}:role/{release}"}
            return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta,
                    "automountServiceAccountToken": r.random() < 0.5}
        if kind == "Namespace":
            labels = {"kubernetes.io/metadata.name": ns, "team": team}
            level = weighted(r, [("restricted", 40), ("baseline", 40), ("privileged", 20)])
            if r.random() < 0.9:
                labels["pod-security.kubernetes.io/enforce"] = level
                if r.random() < 0.6:
                    labels["pod-security.kubernetes.io/enforce-version"] = r.choice(PSS_VERSIONS)
            if r.random() < 0.5:
                labels["pod-security.kubernetes.io/warn"] = "restricted"
                labels["pod-security.kubernetes.io/warn-version"] = "latest"
            if r.random() < 0.4:
                labels["pod-security.kubernetes.io/audit"] = "restricted"
            return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}
        raise ValueError(kind)

    def object(self, ns, team):
        r = self.rng
        if r.random() < 0.58:
            return self.workload(weighted(r, WORKLOAD_KINDS), ns, team)
        kind = weighted(r, OTHER_KINDS)
        return self.other(kind, ns, team)


# ---------------------------------------------------------------------------
# Files.
# ---------------------------------------------------------------------------

def helm_source(obj):
    kind = obj["kind"].lower()
    chart = obj["metadata"].get("labels", {}).get("app.kubernetes.io/name", "app")
    return f"# Source: {chart}/templates/{kind}.yaml"


def render_file(rng, objects, style):
    if style == "helm":
        seq_indent = rng.random() < 0.7
        parts = []
        for obj in objects:
            parts.append("---\n" + helm_source(obj) + "\n" + to_yaml(obj, seq_indent))
        return "".join(parts)
    listing = {"apiVersion": "v1", "kind": "List", "items": objects, "metadata": {"resourceVersion": ""}}
    if style == "yaml-list":
        return to_yaml(listing, seq_indent=False)
    return json.dumps(listing, indent=4) + "\n"


def generate_single(n_objects, out, seed, layout):
    """All objects in one file: one `kind: List` document (`kubectl get -A -o yaml`)
    or one multi-document stream (`helm template`)."""
    gen = Gen(seed)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    objects = []
    for ns, team in gen.namespaces:
        if len(objects) < n_objects:
            objects.append(gen.other("Namespace", ns, team))
    while len(objects) < n_objects:
        ns, team = gen.rng.choice(gen.namespaces)
        objects.append(gen.object(ns, team))
    if layout == "list":
        text = to_yaml({"apiVersion": "v1", "kind": "List", "items": objects,
                        "metadata": {"resourceVersion": ""}}, seq_indent=False)
        name = "list.yaml"
    else:
        text = "".join("---\n" + to_yaml(obj) for obj in objects)
        name = "stream.yaml"
    with open(os.path.join(out, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    counts = {}
    for obj in objects:
        counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
    summary = {
        "objects": len(objects),
        "workloads": sum(v for kk, v in counts.items() if kk in dict(WORKLOAD_KINDS)),
        "files": 1,
        "bytes": len(text.encode("utf-8")),
        "bytes_per_object": round(len(text.encode("utf-8")) / max(len(objects), 1)),
        "kinds": dict(sorted(counts.items())),
        "seed": seed,
        "layout": layout,
        "generator_sha256": hashlib.sha256(open(__file__, "rb").read()).hexdigest(),
    }
    with open(out.rstrip("/") + ".summary.json", "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    return summary


def generate(n_objects, out, seed, per_file):
    rng_files = random.Random(seed * 7919 + 1)
    gen = Gen(seed)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    counts = {}
    files = 0
    total_bytes = 0
    made = 0
    # Every namespace gets its Namespace object early in its team directory.
    pending_namespaces = list(gen.namespaces)
    while made < n_objects:
        ns, team = gen.rng.choice(gen.namespaces)
        k = min(per_file, n_objects - made)
        objects = []
        # Lead some files with a Namespace object (with PSS labels) for their namespace.
        if pending_namespaces and gen.rng.random() < 0.5:
            pns, pteam = pending_namespaces.pop(0)
            ns, team = pns, pteam
            objects.append(gen.other("Namespace", ns, team))
        while len(objects) < k:
            objects.append(gen.object(ns, team))
        style = weighted(rng_files, [("helm", 70), ("yaml-list", 15), ("json-list", 15)])
        text = render_file(rng_files, objects, style)
        ext = "json" if style == "json-list" else rng_files.choice(["yaml", "yaml", "yaml", "yml"])
        directory = os.path.join(out, team)
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"{files:06d}-{ns}.{ext}")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        files += 1
        total_bytes += len(text.encode("utf-8"))
        for obj in objects:
            counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
        made += len(objects)
    workloads = sum(v for kk, v in counts.items() if kk in dict(WORKLOAD_KINDS))
    summary = {
        "objects": made,
        "workloads": workloads,
        "files": files,
        "bytes": total_bytes,
        "bytes_per_object": round(total_bytes / max(made, 1)),
        "kinds": dict(sorted(counts.items())),
        "seed": seed,
        "generator_sha256": hashlib.sha256(open(__file__, "rb").read()).hexdigest(),
    }
    # The summary sits next to the corpus, not in it, so it is never scanned.
    with open(out.rstrip("/") + ".summary.json", "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--objects", type=int, required=True, help="number of Kubernetes objects to write (all kinds)")
    ap.add_argument("--out", required=True, help="directory to (re)create")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-file", type=int, default=10, help="objects per file (default 10)")
    ap.add_argument("--layout", choices=["files", "list", "stream"], default="files",
                    help="files: many files in team directories (default); list: one file holding one "
                         "`kind: List` document (like `kubectl get -A -o yaml`); stream: one multi-document file")
    args = ap.parse_args()
    if args.objects < 1 or args.per_file < 1:
        ap.error("--objects and --per-file must be positive")
    if args.layout == "files":
        summary = generate(args.objects, args.out, args.seed, args.per_file)
    else:
        summary = generate_single(args.objects, args.out, args.seed, args.layout)
    print(json.dumps({k: v for k, v in summary.items() if k != "generator_sha256"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
