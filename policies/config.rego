# ConfigMaps and Secrets.
package kubegate

# ConfigMap edits are reversible (the old data is in the audit snapshot). Deletes
# are HIGH through deletes.delete.
rule_findings contains {
	"rule": "config.configmap",
	"risk": "MEDIUM",
	"reason": concat(" ", ["change to ConfigMap", object_ref]),
} if {
	is_change
	group == ""
	resource == "configmaps"
}

# Secrets hold credentials: any write, delete included, is a security change.
rule_findings contains {
	"rule": "config.secret",
	"risk": "CRITICAL",
	"reason": concat(" ", ["change to Secret", object_ref, "(credentials)"]),
} if {
	is_write
	group == ""
	resource == "secrets"
}
