//! Rule documentation of the `netpol/*` findings (lint and coverage).

use palisade_model::{Control, RuleMeta, Severity};

const HELP: &str = "https://kubernetes.io/docs/concepts/services-networking/network-policies/";
const NSA_NET: &[Control] = &[Control::nsa("network-separation")];
const CIS_NET: &[Control] = &[Control::cis("5.3.2")];

pub const SEPARATE_NS_POD_PEERS: RuleMeta = RuleMeta {
    id: "netpol/separate-namespace-and-pod-peers",
    title: "A rule lists a namespaceSelector and a podSelector as separate peers (OR), likely meant as one peer (AND)",
    severity: Severity::High,
    category: "network-policy",
    docs: "## What it finds\n\nA `from`/`to` list with one item holding only a `namespaceSelector` and another holding only a `podSelector`. Separate items are alternatives: the rule allows every pod of the selected namespaces, and the selected pods of the policy's own namespace.\n\n## Why it matters\n\nThe intent is almost always \"these pods in those namespaces\". The extra dash turns an AND into an OR and opens the port to every pod of the namespaces (and to look-alike pods in the policy's namespace).\n\n## How to fix it\n\nPut both selectors in one peer (one dash).\n\n## Example\n\n```yaml\ningress:\n- from:\n  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: api-gateway}}\n    podSelector: {matchLabels: {app: nginx-ingress}}\n```\n",
    help_uri: HELP,
    controls: NSA_NET,
};

pub const NAMESPACE_NAME_LABEL: RuleMeta = RuleMeta {
    id: "netpol/namespace-selector-custom-name-label",
    title: "A namespaceSelector matches a `name` label that namespaces do not carry by default",
    severity: Severity::Medium,
    category: "network-policy",
    docs: "## What it finds\n\nA `namespaceSelector` that selects namespaces by a `name` label (`name: monitoring`) when no Namespace of the input carries that label. Kubernetes labels every namespace with `kubernetes.io/metadata.name` automatically; `name` exists only if someone adds it.\n\n## Why it matters\n\nThe selector matches nothing, so the traffic the rule was written for is denied (or, in a deny rule, not denied), silently.\n\n## How to fix it\n\nSelect by `kubernetes.io/metadata.name`, or label the namespaces.\n\n## Example\n\n```yaml\nnamespaceSelector:\n  matchLabels:\n    kubernetes.io/metadata.name: monitoring\n```\n",
    help_uri: HELP,
    controls: &[],
};

pub const EGRESS_BLOCKS_DNS: RuleMeta = RuleMeta {
    id: "netpol/egress-blocks-dns",
    title: "Egress is isolated but DNS (port 53) is not allowed",
    severity: Severity::Medium,
    category: "network-policy",
    docs: "## What it finds\n\nA policy that isolates egress and allows some egress traffic, while neither it nor a namespace-wide policy allows UDP or TCP port 53.\n\n## Why it matters\n\nThe pods cannot resolve names: connections to services and external APIs by hostname fail although their ports are allowed.\n\n## How to fix it\n\nAllow DNS to the cluster DNS pods.\n\n## Example\n\n```yaml\negress:\n- to:\n  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n    podSelector: {matchLabels: {k8s-app: kube-dns}}\n  ports:\n  - {protocol: UDP, port: 53}\n  - {protocol: TCP, port: 53}\n```\n",
    help_uri: HELP,
    controls: &[],
};

pub const EGRESS_TO_ANYWHERE: RuleMeta = RuleMeta {
    id: "netpol/egress-rule-to-anywhere",
    title: "An egress rule without `to` allows its ports to every pod and every address",
    severity: Severity::Medium,
    category: "network-policy",
    docs: "## What it finds\n\nAn egress rule with ports but no `to` (absent or `to: []`). It allows those ports toward every destination: all pods of all namespaces, and all IP addresses.\n\n## Why it matters\n\nA rule meant for \"external APIs\" also opens the ports to every workload in the cluster, which defeats the isolation the policy sets up.\n\n## How to fix it\n\nList the destinations; for the internet, an `ipBlock` of `0.0.0.0/0` with the private ranges excepted.\n\n## Example\n\n```yaml\negress:\n- to:\n  - ipBlock:\n      cidr: 0.0.0.0/0\n      except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]\n  ports:\n  - {protocol: TCP, port: 443}\n```\n",
    help_uri: HELP,
    controls: NSA_NET,
};

pub const DEAD_DIRECTION: RuleMeta = RuleMeta {
    id: "netpol/rules-ignored-by-policy-types",
    title: "Ingress or egress rules are ignored because policyTypes omits their direction",
    severity: Severity::Medium,
    category: "network-policy",
    docs: "## What it finds\n\nA policy with `ingress` (or `egress`) rules whose `policyTypes` does not list `Ingress` (or `Egress`).\n\n## Why it matters\n\nThe rules have no effect; the pods are not isolated in that direction.\n\n## How to fix it\n\nAdd the direction to `policyTypes`, or remove the rules.\n\n## Example\n\n```yaml\npolicyTypes: [Ingress, Egress]\n```\n",
    help_uri: HELP,
    controls: &[],
};

pub const MISSING_POLICY_TYPES: RuleMeta = RuleMeta {
    id: "netpol/missing-policy-types",
    title: "policyTypes is not set: egress isolation depends on whether egress rules exist",
    severity: Severity::Low,
    category: "network-policy",
    docs: "## What it finds\n\nA NetworkPolicy without `policyTypes`. Kubernetes then isolates ingress always, and egress only if the policy has egress rules.\n\n## Why it matters\n\nA policy without egress rules meant as \"deny egress\" denies nothing; a later edit adding an egress rule silently isolates egress.\n\n## How to fix it\n\nState the directions in `policyTypes`.\n\n## Example\n\n```yaml\npolicyTypes: [Ingress]\n```\n",
    help_uri: HELP,
    controls: &[],
};

pub const POLICY_SELECTS_NOTHING: RuleMeta = RuleMeta {
    id: "netpol/policy-selects-no-workload",
    title: "A NetworkPolicy's podSelector matches no workload of the input",
    severity: Severity::Low,
    category: "network-policy",
    docs: "## What it finds\n\nA policy whose `podSelector` matches no workload of its namespace in the analysed manifests (only reported when the namespace has workloads).\n\n## Why it matters\n\nThe policy protects nothing: usually a label typo or a stale policy.\n\n## How to fix it\n\nFix the selector, or delete the policy.\n\n## Example\n\n```yaml\npodSelector:\n  matchLabels: {app: web}\n```\n",
    help_uri: HELP,
    controls: &[],
};

pub const PEER_SELECTS_NOTHING: RuleMeta = RuleMeta {
    id: "netpol/peer-selects-nothing",
    title: "A rule's peer matches no namespace or workload of the input",
    severity: Severity::Low,
    category: "network-policy",
    docs: "## What it finds\n\nA `from`/`to` peer whose selectors match no workload of the analysed manifests (checked when they contain workloads).\n\n## Why it matters\n\nThe rule allows nothing it was written for; the traffic is denied.\n\n## How to fix it\n\nFix the labels, or remove the peer.\n\n## Example\n\n```yaml\nfrom:\n- podSelector: {matchLabels: {app: frontend}}\n```\n",
    help_uri: HELP,
    controls: &[],
};

pub const NAMED_PORT_UNMATCHED: RuleMeta = RuleMeta {
    id: "netpol/named-port-unmatched",
    title: "A named port is not defined by any destination pod",
    severity: Severity::Medium,
    category: "network-policy",
    docs: "## What it finds\n\nA rule port given by name (`port: http`) that no destination pod declares as a container port name (with that protocol).\n\n## Why it matters\n\nNamed ports resolve per destination pod; where the name does not exist the rule allows nothing.\n\n## How to fix it\n\nName the container port, or use the number.\n\n## Example\n\n```yaml\nports:\n- {protocol: TCP, port: 8080}\n```\n",
    help_uri: HELP,
    controls: &[],
};

pub const SHADOWED_RULE: RuleMeta = RuleMeta {
    id: "netpol/shadowed-rule",
    title: "A rule allows nothing that another rule of the policy does not already allow",
    severity: Severity::Low,
    category: "network-policy",
    docs: "## What it finds\n\nA rule whose peers and ports are covered by another rule of the same policy and direction.\n\n## Why it matters\n\nThe rule is dead weight, and often a sign that the covering rule is broader than intended.\n\n## How to fix it\n\nRemove the redundant rule, or narrow the broader one.\n\n## Example\n\n```yaml\ningress:\n- from: [{podSelector: {matchLabels: {app: a}}}]\n  ports: [{port: 80}]\n```\n",
    help_uri: HELP,
    controls: &[],
};

pub const WORKLOAD_NOT_ISOLATED: RuleMeta = RuleMeta {
    id: "netpol/workload-not-isolated",
    title: "A workload is not isolated: no policy selects it for ingress or egress",
    severity: Severity::Medium,
    category: "network-policy",
    docs: "## What it finds\n\nA workload that no NetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy selects for ingress, or for egress.\n\n## Why it matters\n\nIn that direction every connection is allowed: any pod (and any address) can reach it, or it can reach anything.\n\n## How to fix it\n\nAdd a default-deny policy to the namespace and allow what is needed.\n\n## Example\n\n```yaml\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n```\n",
    help_uri: HELP,
    controls: CIS_NET,
};

pub const NO_DEFAULT_DENY: RuleMeta = RuleMeta {
    id: "netpol/namespace-without-default-deny",
    title: "A namespace has no default-deny policy",
    severity: Severity::Medium,
    category: "network-policy",
    docs: "## What it finds\n\nA namespace with workloads but no policy that selects all its pods and allows nothing in a direction (a default deny), for ingress or for egress.\n\n## Why it matters\n\nWithout a default deny, every new workload starts with all traffic allowed until someone writes its policy.\n\n## How to fix it\n\nAdd a default-deny NetworkPolicy (or an admin policy that denies by default).\n\n## Example\n\n```yaml\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n```\n",
    help_uri: HELP,
    controls: CIS_NET,
};

pub const IPBLOCK_CLUSTER_CIDR: RuleMeta = RuleMeta {
    id: "netpol/ipblock-covers-cluster-cidr",
    title: "An ipBlock covers pod or Service addresses of the cluster",
    severity: Severity::Medium,
    category: "network-policy",
    docs: "## What it finds\n\nA `from`/`to` peer whose `ipBlock` (its `cidr` minus its `except`) overlaps the cluster's pod CIDR or Service CIDR. The CIDRs are options of `palisade netpol lint` (`--pod-cidr`, default `10.244.0.0/16`; `--service-cidr`, default `10.96.0.0/12`, the kubeadm defaults): set them to the cluster's. An `ipBlock` of `0.0.0.0/0` (every address) is not reported.\n\n## Why it matters\n\nKubernetes meant `ipBlock` for addresses outside the cluster: pod IPs change when pods restart, and whether an `ipBlock` matches pod traffic at all depends on the network plugin (traffic may be rewritten to node addresses). Service ClusterIPs are translated to the backend pod's address before the policy applies, so an `ipBlock` on the Service CIDR allows nothing toward the Service.\n\n## How to fix it\n\nSelect pods with `podSelector`/`namespaceSelector`; keep `ipBlock` for external addresses, excepting the cluster ranges.\n\n## Example\n\n```yaml\nto:\n- ipBlock:\n    cidr: 10.0.0.0/8\n    except: [10.244.0.0/16, 10.96.0.0/12]\n```\n",
    help_uri: HELP,
    controls: &[],
};

pub const PORT_PROTOCOL_MISMATCH: RuleMeta = RuleMeta {
    id: "netpol/port-without-protocol-on-udp",
    title: "A port without `protocol` (TCP) targets a port its destination serves over UDP or SCTP",
    severity: Severity::Medium,
    category: "network-policy",
    docs: "## What it finds\n\nA rule port with no `protocol`, which means TCP, whose number is served by the destination pods only over UDP or SCTP: a container port of that number with protocol UDP/SCTP and none with TCP, or a Service selecting the pods whose port (or targetPort) of that number is UDP/SCTP.\n\n## Why it matters\n\nThe rule allows TCP on that port and nothing else: the UDP or SCTP traffic it was written for (DNS, syslog, metrics over UDP) stays denied.\n\n## How to fix it\n\nState the protocol of the port (both entries for a port served over TCP and UDP).\n\n## Example\n\n```yaml\nports:\n- {protocol: UDP, port: 53}\n- {protocol: TCP, port: 53}\n```\n",
    help_uri: HELP,
    controls: &[],
};

pub const SERVICE_PORT_NOT_TARGET: RuleMeta = RuleMeta {
    id: "netpol/service-port-instead-of-target-port",
    title: "A rule allows a Service's `port` although the pods listen on its different `targetPort`",
    severity: Severity::High,
    category: "network-policy",
    docs: "## What it finds\n\nA rule port (a number) equal to the `port` of a Service that selects the destination pods, when that Service's `targetPort` is a different port and no destination pod declares the rule's port as a container port.\n\n## Why it matters\n\nNetworkPolicies see the traffic after the Service's address and port are translated to the pod's: they match the `targetPort`. A rule on the Service port allows nothing of the Service's traffic.\n\n## How to fix it\n\nAllow the `targetPort` (the container port), by number or by its name.\n\n## Example\n\n```yaml\n# Service: port 80, targetPort 8080\nports:\n- {protocol: TCP, port: 8080}\n```\n",
    help_uri: HELP,
    controls: &[],
};

/// Every rule of this crate.
pub const ALL: &[&RuleMeta] = &[
    &SEPARATE_NS_POD_PEERS,
    &NAMESPACE_NAME_LABEL,
    &EGRESS_BLOCKS_DNS,
    &EGRESS_TO_ANYWHERE,
    &DEAD_DIRECTION,
    &MISSING_POLICY_TYPES,
    &POLICY_SELECTS_NOTHING,
    &PEER_SELECTS_NOTHING,
    &NAMED_PORT_UNMATCHED,
    &SHADOWED_RULE,
    &IPBLOCK_CLUSTER_CIDR,
    &PORT_PROTOCOL_MISMATCH,
    &SERVICE_PORT_NOT_TARGET,
    &WORKLOAD_NOT_ISOLATED,
    &NO_DEFAULT_DENY,
];
