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
