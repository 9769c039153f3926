# Security: pod security settings in any object or patch, admission control, CRDs,
# API aggregation, certificates.
package kubegate

# --- security settings ---------------------------------------------------------
# The body is searched at any depth (see `assignments`), so a Pod, a Deployment's
# template, a CronJob's job template, a custom resource or a patch of any format
# are all caught. A full update that keeps an existing setting is flagged too:
# the request does set it.

rule_findings contains {
	"rule": "security.settings",
	"risk": "HIGH",
	"reason": concat(" ", ["security setting", s, "in", target]),
} if {
	is_change
	not data_only
	some s in security_settings
}

# ConfigMap and Secret values are opaque data, not settings (their keys may be
# named anything); those writes have their own rules in config.rego.
data_only if is_resource("", {"configmaps", "secrets"})

# Settings that weaken isolation when set to true.
true_flags := {
	"privileged",
	"allowPrivilegeEscalation",
	"hostNetwork",
	"hostPID",
	"hostIPC",
	"automountServiceAccountToken",
}

security_settings contains concat("", [k, "=true"]) if {
	some k in true_flags
	some [_, v] in assigned_at[k]
	v == true
}

security_settings contains "runAsUser=0" if {
	some [_, v] in assigned_at.runAsUser
	v == 0
}

security_settings contains "runAsNonRoot=false" if {
	some [_, v] in assigned_at.runAsNonRoot
	v == false
}

# A hostPath volume mounts the node's filesystem.
security_settings contains "hostPath volume" if {
	some [_, v] in assigned_at.hostPath
	is_object(v)
}

security_settings contains "hostPort" if {
	some [_, v] in assigned_at.hostPort
	is_number(v)
	v > 0
}

# Each capability in securityContext.capabilities.add, whether the whole list,
# one element, or a JSON-patch append (".../add/-") is sent.
security_settings contains concat("", ["capabilities.add ", c]) if {
	some [p, c] in assignments
	is_string(c)
	some i
	p[i] == "capabilities"
	p[i + 1] == "add"
}

# A different ServiceAccount gives the pods different API permissions. "default"
# and the names the live object already uses are no change.
security_settings contains concat("", ["serviceAccountName=", n]) if {
	some n in (new_service_accounts - old_service_accounts)
}

service_account_keys := {"serviceAccountName", "serviceAccount"}

new_service_accounts contains v if {
	some k in service_account_keys
	some [_, v] in assigned_at[k]
	is_string(v)
}

old_service_accounts contains "default"

old_service_accounts contains v if {
	walk(old_obj, [p, v])
	last_key(p) in service_account_keys
	is_string(v)
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
	is_write
	verb in {"delete", "deletecollection"}
	is_resource("apiextensions.k8s.io", {"customresourcedefinitions"})
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
