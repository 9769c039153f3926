# Access control: RBAC objects, ServiceAccount tokens, impersonation.
package kubegate

# Roles, ClusterRoles and their bindings decide who may do what (escalate and bind
# are permissions on these same writes).
rule_findings contains {
	"rule": "rbac.write",
	"risk": "CRITICAL",
	"reason": concat(" ", ["RBAC change:", target]),
} if {
	is_write
	group == "rbac.authorization.k8s.io"
}

# TokenRequest mints a credential for a ServiceAccount.
rule_findings contains {
	"rule": "rbac.serviceaccount_token",
	"risk": "CRITICAL",
	"reason": concat(" ", ["minting a token for ServiceAccount", object_ref]),
} if {
	is_write
	group == ""
	resource == "serviceaccounts"
	subresource == "token"
}

# Acting as someone else, on any request (reads included): the request is then
# authorized as that identity, not the caller.
rule_findings contains {
	"rule": "rbac.impersonation",
	"risk": "CRITICAL",
	"reason": concat("", ["impersonation (", concat(", ", sort(impersonated)), ")"]),
} if impersonating

default impersonate := {}

impersonate := req.impersonate if is_object(req.impersonate)

impersonated contains concat("", ["user ", u]) if {
	u := impersonate.user
	is_string(u)
	u != ""
}

impersonated contains concat("", ["uid ", u]) if {
	u := impersonate.uid
	is_string(u)
	u != ""
}

impersonated contains concat("", ["group ", g]) if {
	some g in impersonate.groups
	is_string(g)
}

impersonated contains concat("", ["extra ", k]) if {
	is_object(impersonate.extra)
	some k, _ in impersonate.extra
}

# A malformed impersonation field counts as impersonation (fail closed).
impersonated contains "malformed impersonation field" if {
	i := req.impersonate
	i != null
	not is_object(i)
}

default impersonating := false

impersonating if count(impersonated) > 0
