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

# Changing who owns an object can delete it: the garbage collector deletes an object once all its
# owners are gone (at once, for an owner that never existed), and an owner's delete cascades to
# it. So a change to an existing object's metadata.ownerReferences is decided at least as its
# delete would be: a Namespace's takes what deleting the Namespace takes. (Not in rule_findings:
# it asks those rules what the delete would be.)
ownership_findings contains {
	"rule": "deletes.ownership",
	"risk": levels[max({rank.HIGH} | {rank[f.risk] | some f in delete_findings})],
	"reason": concat(" ", ["change to the owners of", target, "(deleted by garbage collection once they are gone)"]),
} if {
	changes_owners
}

delete_findings := fs if {
	fs := rule_findings with input.request.verb as "delete" with input.object as null
}

default changes_owners := false

# Only where the owners differ from the live object's: kubectl edit and replace send them unchanged.
changes_owners if {
	owned_write
	not is_array(obj)
	"ownerReferences" in object.keys(object.get(obj, "metadata", {}))
	obj.metadata.ownerReferences != live_owners
}

live_owners := object.get(old_obj, ["metadata", "ownerReferences"], null) if {
	is_object(old_obj)
} else := null

# A JSON patch touching them in any way (removing one owner can leave only owners that are gone).
changes_owners if {
	owned_write
	is_array(obj)
	some op in obj
	owner_path(pointer_segments(object.get(op, "path", "")))
}

owned_write if {
	is_write
	verb in {"update", "patch"}
	subresource == ""
}

owner_path(p) if {
	count(p) >= 2
	p[0] == "metadata"
	p[1] == "ownerReferences"
}

owner_path(p) if {
	count(p) == 1
	p[0] == "metadata"
}

owner_path(p) if count(p) == 0
