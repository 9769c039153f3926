# Security: pod security settings in any object or patch, admission control, CRDs,
# API aggregation, certificates.
package kubegate

# --- security settings ---------------------------------------------------------
# Objects of the built-in kinds that embed a pod spec are read only where their
# schema puts one (the API server drops fields it does not know, so a setting
# anywhere else has no effect); this keeps the common case - a Pod or a workload -
# cheap. Anything else (custom resources, other kinds, JSON patches) is searched
# at any depth (see `assignments`). A full update that keeps an existing setting
# is flagged too: the request does set it.

rule_findings contains {
	"rule": "security.settings",
	"risk": "HIGH",
	"reason": concat(" ", ["security setting", s, "in", target]),
} if {
	is_change
	not data_only
	some s in security_settings
}

default data_only := false

# ConfigMap and Secret values are opaque data, not settings (their keys may be
# named anything); those writes have their own rules in config.rego.
data_only if is_resource("", "configmaps")

data_only if is_resource("", "secrets")

# Where the pod spec sits in each built-in kind that has one, by API group (one rule
# per group: a lookup builds only that group's paths).
pod_spec_paths[""] := {
	"pods": ["spec"],
	"podtemplates": ["template", "spec"],
	"replicationcontrollers": ["spec", "template", "spec"],
}

pod_spec_paths["apps"] := {
	"deployments": ["spec", "template", "spec"],
	"replicasets": ["spec", "template", "spec"],
	"statefulsets": ["spec", "template", "spec"],
	"daemonsets": ["spec", "template", "spec"],
}

pod_spec_paths["batch"] := {
	"jobs": ["spec", "template", "spec"],
	"cronjobs": ["spec", "jobTemplate", "spec", "template", "spec"],
}

# The body is an object of a kind whose schema is known (not a JSON patch).
pod_spec_path := pod_spec_paths[group][resource] if {
	subresource == ""
	is_object(obj)
}

security_settings := pod_spec_settings if pod_spec_path

else := any_depth_settings

# Settings that weaken isolation when set to true.
pod_flags := {"hostNetwork", "hostPID", "hostIPC", "automountServiceAccountToken"}

context_flags := {"privileged", "allowPrivilegeEscalation"}

true_flags := pod_flags | context_flags

service_account_keys := {"serviceAccountName", "serviceAccount"}

# --- in a known pod spec ---

pod_spec := object.get(obj, pod_spec_path, null)

containers := [c |
	some list in ["containers", "initContainers", "ephemeralContainers"]
	some c in pod_spec[list]
	is_object(c)
]

# The pod's and every container's securityContext.
security_contexts := array.concat(
	[sc | sc := pod_spec.securityContext; is_object(sc)],
	[sc | some c in containers; sc := c.securityContext; is_object(sc)],
)

pod_spec_settings contains concat("", [k, "=true"]) if {
	some k in pod_flags
	pod_spec[k] == true
}

pod_spec_settings contains concat("", [k, "=true"]) if {
	some sc in security_contexts
	some k in context_flags
	sc[k] == true
}

pod_spec_settings contains "runAsUser=0" if {
	some sc in security_contexts
	sc.runAsUser == 0
}

pod_spec_settings contains "runAsNonRoot=false" if {
	some sc in security_contexts
	sc.runAsNonRoot == false
}

pod_spec_settings contains "hostProcess=true" if {
	some sc in security_contexts
	sc.windowsOptions.hostProcess == true
}

pod_spec_settings contains "hostPath volume" if {
	some v in pod_spec.volumes
	is_object(v.hostPath)
}

pod_spec_settings contains "hostPort" if {
	some c in containers
	some port in c.ports
	is_number(port.hostPort)
	port.hostPort > 0
}

pod_spec_settings contains concat("", ["capabilities.add ", c]) if {
	some sc in security_contexts
	some c in sc.capabilities.add
	is_string(c)
}

pod_spec_settings contains concat("", ["serviceAccountName=", n]) if {
	some k in service_account_keys
	n := pod_spec[k]
	is_string(n)
	not n in old_service_accounts
}

# --- at any depth ---

any_depth_settings contains concat("", [k, "=true"]) if {
	some k in (true_flags | {"hostProcess"})
	some [_, v] in assigned_at[k]
	v == true
}

any_depth_settings contains "runAsUser=0" if {
	some [_, v] in assigned_at.runAsUser
	v == 0
}

any_depth_settings contains "runAsNonRoot=false" if {
	some [_, v] in assigned_at.runAsNonRoot
	v == false
}

# A hostPath volume mounts the node's filesystem.
any_depth_settings contains "hostPath volume" if {
	some [_, v] in assigned_at.hostPath
	is_object(v)
}

any_depth_settings contains "hostPort" if {
	some [_, v] in assigned_at.hostPort
	is_number(v)
	v > 0
}

# Each capability in securityContext.capabilities.add, whether the whole list,
# one element, or a JSON-patch append (".../add/-") is sent.
any_depth_settings contains concat("", ["capabilities.add ", c]) if {
	some [p, c] in assignments
	is_string(c)
	some i
	p[i] == "capabilities"
	p[i + 1] == "add"
}

# A different ServiceAccount gives the pods different API permissions. "default"
# and the names the live object already uses are no change.
any_depth_settings contains concat("", ["serviceAccountName=", n]) if {
	some k in service_account_keys
	some [_, n] in assigned_at[k]
	is_string(n)
	not n in old_service_accounts
}

old_service_accounts contains "default"

old_service_accounts contains v if {
	pod_spec_path
	is_object(old_obj)
	some k in service_account_keys
	v := object.get(old_obj, array.concat(pod_spec_path, [k]), null)
	is_string(v)
}

old_service_accounts contains v if {
	not pod_spec_path
	walk(old_obj, [p, v])
	last_key(p) in service_account_keys
	is_string(v)
}

# A JSON patch `copy` or `move` sets values the policy cannot see (they come from the live
# object), e.g. a `true` copied onto securityContext.privileged.
rule_findings contains {
	"rule": "security.json_patch_copy",
	"risk": "HIGH",
	"reason": concat(" ", ["JSON patch copy/move (values not visible before it runs) in", target]),
} if {
	is_change
	is_array(obj)
	some op in obj
	op.op in {"copy", "move"}
}

# --- admission control, API extension ----------------------------------------------

# Webhooks and admission policies see or rewrite every matching request, Secrets
# included, or can block the cluster.
rule_findings contains {
	"rule": "security.admission",
	"risk": "CRITICAL",
	"reason": concat(" ", ["admission control change:", target]),
} if {
	is_write
	group == "admissionregistration.k8s.io"
}

# Deleting a CRD deletes every custom resource of that kind.
rule_findings contains {
	"rule": "security.crd_delete",
	"risk": "CRITICAL",
	"reason": "deleting a CRD deletes all its custom resources",
} if {
	is_delete
	is_resource("apiextensions.k8s.io", "customresourcedefinitions")
}

# Creating or changing a CRD changes the API itself (schemas, conversion webhooks).
rule_findings contains {
	"rule": "security.crd_change",
	"risk": "HIGH",
	"reason": concat(" ", ["API change:", target]),
} if {
	is_change
	group == "apiextensions.k8s.io"
	resource == "customresourcedefinitions"
}

# An APIService routes a whole API group to another server.
rule_findings contains {
	"rule": "security.apiservice",
	"risk": "HIGH",
	"reason": concat(" ", ["API aggregation change:", target]),
} if {
	is_write
	group == "apiregistration.k8s.io"
}

# --- certificates ----------------------------------------------------------------

# A CSR asks the cluster CA for a certificate (ClusterTrustBundles set trusted CAs).
rule_findings contains {
	"rule": "security.csr",
	"risk": "HIGH",
	"reason": concat(" ", ["certificate request:", target]),
} if {
	is_write
	group == "certificates.k8s.io"
	subresource != "approval"
}

# Approving a CSR issues a credential, possibly for any identity.
rule_findings contains {
	"rule": "security.csr_approval",
	"risk": "CRITICAL",
	"reason": concat(" ", ["approving CertificateSigningRequest", object_ref]),
} if {
	is_write
	group == "certificates.k8s.io"
	resource == "certificatesigningrequests"
	subresource == "approval"
}

# cert-manager Certificates, Issuers, ClusterIssuers, CertificateRequests.
rule_findings contains {
	"rule": "security.cert_manager",
	"risk": "HIGH",
	"reason": concat(" ", ["certificate change:", target]),
} if {
	is_write
	group == "cert-manager.io"
}
