package kubegate_test

import data.kubegate

test_deletes_delete_positive if {
	r := result with input as req_input({"verb": "delete", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, null)
	fired("deletes.delete", r)
	r.decision.risk == "HIGH"
	r.decision.reasons == ["delete of deployments.apps default/api"]
}

test_deletes_delete_configmap_is_high if {
	d := kubegate.decision with input as req_input({"verb": "delete", "resource": "configmaps", "namespace": "default", "name": "c"}, null)
	d.risk == "HIGH"
}

test_deletes_delete_negative if {
	r1 := result with input as req_input({"verb": "patch", "resource": "pods", "namespace": "default", "name": "x"}, null)
	not fired("deletes.delete", r1)
	r2 := result with input as req_input({"verb": "delete", "version": "", "path": "/x", "resourceRequest": false}, null)
	not fired("deletes.delete", r2)
}

test_deletes_deletecollection_positive if {
	r := result with input as req_input({"verb": "deletecollection", "resource": "pods", "namespace": "default"}, null)
	fired("deletes.deletecollection", r)
	r.decision.risk == "CRITICAL"
	r.decision.reasons == ["deletecollection of pods in namespace default"]
}

test_deletes_deletecollection_negative if {
	r1 := result with input as req_input({"verb": "delete", "resource": "pods", "namespace": "default", "name": "x"}, null)
	not fired("deletes.deletecollection", r1)
	r2 := result with input as req_input({"verb": "list", "resource": "pods", "namespace": "default"}, null)
	not fired("deletes.deletecollection", r2)
}

test_deletes_namespace_positive if {
	r := result with input as req_input({"verb": "delete", "resource": "namespaces", "name": "foo"}, null)
	fired("deletes.namespace", r)
	r.decision.risk == "CRITICAL"
	r.decision.reasons == ["delete of namespaces foo", "deleting a Namespace deletes everything in it"]
}

test_deletes_namespace_negative if {
	r1 := result with input as req_input({"verb": "create", "resource": "namespaces"}, {"metadata": {"name": "foo"}})
	not fired("deletes.namespace", r1)

	# a subresource is not the namespace, nor is another group's "namespaces"
	r2 := result with input as req_input({"verb": "delete", "resource": "namespaces", "subresource": "status", "name": "foo"}, null)
	not fired("deletes.namespace", r2)
	r3 := result with input as req_input({"verb": "delete", "group": "example.com", "resource": "namespaces", "name": "foo"}, null)
	not fired("deletes.namespace", r3)
}

# Attacker round (session 10): a Namespace patched to hang off an owner that never existed was
# garbage-collected with everything in it, on one MEDIUM approval.
owner_refs := [{"apiVersion": "v1", "kind": "Namespace", "name": "gone", "uid": "00000000-0000-0000-0000-000000000002"}]

test_deletes_ownership_namespace_json_patch_is_critical if {
	patch := [{"op": "replace", "path": "/metadata/ownerReferences", "value": owner_refs}]
	r := result with input as req_input({"verb": "patch", "resource": "namespaces", "name": "victim", "contentType": "application/json-patch+json"}, patch)
	fired("deletes.ownership", r)
	r.decision.risk == "CRITICAL"
	r.decision.override_required
	"change to the owners of namespaces victim (deleted by garbage collection once they are gone)" in r.decision.reasons
}

test_deletes_ownership_merge_patch_and_removal if {
	merge := {"metadata": {"ownerReferences": owner_refs}}
	r1 := result with input as req_input({"verb": "patch", "resource": "configmaps", "namespace": "default", "name": "c"}, merge)
	fired("deletes.ownership", r1)
	r1.decision.risk == "HIGH"

	# removing one owner can leave only owners that are gone
	remove := [{"op": "remove", "path": "/metadata/ownerReferences/0"}]
	r2 := result with input as req_input({"verb": "patch", "resource": "namespaces", "name": "victim"}, remove)
	r2.decision.risk == "CRITICAL"

	# a patch replacing all of metadata touches them too
	meta := [{"op": "replace", "path": "/metadata", "value": {"name": "victim", "ownerReferences": owner_refs}}]
	r3 := result with input as req_input({"verb": "patch", "resource": "namespaces", "name": "victim"}, meta)
	r3.decision.risk == "CRITICAL"
}

test_deletes_ownership_negative if {
	# kubectl edit/replace sends the owners unchanged
	owned := {"metadata": {"name": "c", "namespace": "default", "ownerReferences": owner_refs}, "data": {"k": "v2"}}
	live := {"metadata": {"name": "c", "namespace": "default", "ownerReferences": owner_refs}, "data": {"k": "v"}}
	r1 := result with input as with_old(req_input({"verb": "update", "resource": "configmaps", "namespace": "default", "name": "c"}, owned), live)
	not fired("deletes.ownership", r1)

	# a create may name its owner (controllers do); a patch elsewhere in metadata is not about owners
	r2 := result with input as req_input({"verb": "create", "resource": "configmaps", "namespace": "default"}, owned)
	not fired("deletes.ownership", r2)
	labels := [{"op": "add", "path": "/metadata/labels/a", "value": "b"}]
	r3 := result with input as req_input({"verb": "patch", "resource": "configmaps", "namespace": "default", "name": "c"}, labels)
	not fired("deletes.ownership", r3)

	# a status write cannot change them
	r4 := result with input as req_input({"verb": "patch", "resource": "namespaces", "subresource": "status", "name": "victim"}, {"metadata": {"ownerReferences": owner_refs}})
	not fired("deletes.ownership", r4)
}
