# Deletes. Resource-specific deletes that are worse than HIGH (PV/PVC, Secrets,
# RBAC, CRDs, webhooks) are in their concern files.
package kubegate

# Any delete may disrupt.
rule_findings contains {
	"rule": "deletes.delete",
	"risk": "HIGH",
	"reason": concat(" ", ["delete of", target]),
} if {
	is_write
	verb == "delete"
}

# One call can wipe a whole namespace's worth of objects.
rule_findings contains {
	"rule": "deletes.deletecollection",
	"risk": "CRITICAL",
	"reason": concat(" ", ["deletecollection of", target]),
} if {
	is_write
	verb == "deletecollection"
}

# Deleting a namespace deletes everything in it.
rule_findings contains {
	"rule": "deletes.namespace",
	"risk": "CRITICAL",
	"reason": "deleting a Namespace deletes everything in it",
} if {
	is_delete
	is_resource("", "namespaces")
}
