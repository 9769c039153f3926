package kubegate_test

test_deletes_delete_positive if {
	inp := req_input({"verb": "delete", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, null)
	fired("deletes.delete", inp)
	risk_of(inp) == "HIGH"
	reasons_of(inp) == ["delete of deployments.apps default/api"]
}

test_deletes_delete_configmap_is_high if {
	risk_of(req_input({"verb": "delete", "resource": "configmaps", "namespace": "default", "name": "c"}, null)) == "HIGH"
}

test_deletes_delete_negative if {
	not fired("deletes.delete", req_input({"verb": "patch", "resource": "pods", "namespace": "default", "name": "x"}, null))
	not fired("deletes.delete", req_input({"verb": "delete", "version": "", "path": "/x", "resourceRequest": false}, null))
}

test_deletes_deletecollection_positive if {
	inp := req_input({"verb": "deletecollection", "resource": "pods", "namespace": "default"}, null)
	fired("deletes.deletecollection", inp)
	risk_of(inp) == "CRITICAL"
	reasons_of(inp) == ["deletecollection of pods in namespace default"]
}

test_deletes_deletecollection_negative if {
	not fired("deletes.deletecollection", req_input({"verb": "delete", "resource": "pods", "namespace": "default", "name": "x"}, null))
	not fired("deletes.deletecollection", req_input({"verb": "list", "resource": "pods", "namespace": "default"}, null))
}

test_deletes_namespace_positive if {
	inp := req_input({"verb": "delete", "resource": "namespaces", "name": "foo"}, null)
	fired("deletes.namespace", inp)
	risk_of(inp) == "CRITICAL"
	"delete of namespaces foo (deletes everything in it)" in reasons_of(inp)
}

test_deletes_namespace_negative if {
	not fired("deletes.namespace", req_input({"verb": "create", "resource": "namespaces"}, {"metadata": {"name": "foo"}}))

	# the finalize subresource is not a namespace delete
	not fired("deletes.namespace", req_input({"verb": "delete", "resource": "namespaces", "subresource": "status", "name": "foo"}, null))
	not fired("deletes.namespace", req_input({"verb": "delete", "group": "example.com", "resource": "namespaces", "name": "foo"}, null))
}
