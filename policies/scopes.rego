# Approver scopes: which approver groups a change needs (one approver from each).
# Groups are kubegate's, from its approvers file; the policy only names them.
#   namespace_approver_groups: {"payments": ["payments-oncall"]}
#   critical_approver_groups:  ["sre", "security"]   (CRITICAL: one from each, AND)
# rule_modes ({"<rule or concern>": "audit"}) is read by decision.rego.
package kubegate

namespace_approver_groups := setting("namespace_approver_groups")

critical_approver_groups := {g | some g in setting("critical_approver_groups"); is_string(g)}

rule_modes := setting("rule_modes")

# A change in (or to) a scoped namespace needs that namespace's groups.
approvals_from contains g if {
	is_write
	some g in namespace_approver_groups[scoped_namespace]
	is_string(g)
}

approvals_from contains g if {
	is_connect
	some g in namespace_approver_groups[namespace]
	is_string(g)
}

approvals_from contains g if {
	risk == "CRITICAL"
	some g in critical_approver_groups
}

scoped_namespace := namespace if namespace != ""

scoped_namespace := object_name if {
	namespace == ""
	is_resource("", "namespaces")
}
