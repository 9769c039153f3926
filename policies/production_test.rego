package kubegate_test

test_production_namespace_positive if {
	every ns in ["production", "prod", "live"] {
		r := result with input as req_input({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": ns, "name": "api"}, {"metadata": {"labels": {"a": "b"}}})
		fired("production.namespace", r)
		r.decision.risk == "HIGH"
	}
}

test_production_namespace_negative if {
	r1 := result with input as req_input({"verb": "patch", "resource": "configmaps", "namespace": "staging", "name": "c"}, null)
	not fired("production.namespace", r1)

	# reads in production stay LOW
	r2 := result with input as req_input({"verb": "list", "resource": "pods", "namespace": "production"}, null)
	not fired("production.namespace", r2)
	r2.decision.risk == "LOW"

	# switched off by config
	r3 := result with input as with_config(req_input({"verb": "patch", "resource": "configmaps", "namespace": "production", "name": "c"}, null), {"block_production": false})
	not fired("production.namespace", r3)
}

test_production_namespace_object_positive if {
	r1 := result with input as req_input({"verb": "patch", "resource": "namespaces", "name": "production"}, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}})
	fired("production.namespace_object", r1)
	r1.decision.risk == "HIGH"
	r2 := result with input as req_input({"verb": "create", "resource": "namespaces"}, {"metadata": {"name": "prod"}})
	fired("production.namespace_object", r2)
}

test_production_namespace_object_negative if {
	r := result with input as req_input({"verb": "create", "resource": "namespaces"}, {"metadata": {"name": "feature-x"}})
	not fired("production.namespace_object", r)
	r.decision.risk == "MEDIUM"
}

test_production_system_namespace_positive if {
	r := result with input as req_input({"verb": "patch", "resource": "configmaps", "namespace": "kube-system", "name": "coredns"}, {"data": {}})
	fired("production.system_namespace", r)
	r.decision.risk == "HIGH"
}

test_production_system_namespace_negative if {
	r1 := result with input as req_input({"verb": "get", "resource": "configmaps", "namespace": "kube-system", "name": "coredns"}, null)
	not fired("production.system_namespace", r1)
	r2 := result with input as req_input({"verb": "patch", "resource": "configmaps", "namespace": "default", "name": "coredns"}, null)
	not fired("production.system_namespace", r2)
}

test_production_kubegate_namespace_positive if {
	r1 := result with input as req_input({"verb": "patch", "resource": "configmaps", "namespace": "kubegate-system", "name": "kubegate"}, {"data": {}})
	fired("production.kubegate_namespace", r1)
	r1.decision.risk == "HIGH"
	r2 := result with input as req_input({"verb": "delete", "resource": "namespaces", "name": "kubegate-system"}, null)
	fired("production.kubegate_namespace", r2)
	r3 := result with input as req_input({"verb": "connect", "resource": "pods", "subresource": "exec", "namespace": "kubegate-system", "name": "kubegate-0"}, null)
	fired("production.kubegate_namespace", r3)
}

test_production_kubegate_namespace_negative if {
	r1 := result with input as req_input({"verb": "list", "resource": "pods", "namespace": "kubegate-system"}, null)
	not fired("production.kubegate_namespace", r1)
	r2 := result with input as with_config(req_input({"verb": "patch", "resource": "configmaps", "namespace": "kubegate-system", "name": "c"}, null), {"kubegate_namespace": "gate"})
	not fired("production.kubegate_namespace", r2)
}

on_cluster(inp, labels) := object.union(inp, {"cluster": {"name": "prod-eu", "labels": labels}})

test_production_cluster_positive if {
	r := result with input as on_cluster(req_input({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api", "subresource": "scale"}, {"spec": {"replicas": 2}}), {"env": "production"})
	fired("production.cluster", r)
	r.decision.risk == "HIGH"
	e := result with input as on_cluster(req_input({"verb": "create", "resource": "pods", "namespace": "default", "subresource": "exec", "name": "p"}, null), {"env": "prod"})
	fired("production.cluster_connect", e)
	e.decision.risk == "HIGH"
}

test_production_cluster_negative if {
	# staging, no labels, reads and can-i reviews stay as they were
	r1 := result with input as on_cluster(req_input({"verb": "patch", "resource": "configmaps", "namespace": "default", "name": "c"}, {"data": {}}), {"env": "staging"})
	not fired("production.cluster", r1)
	r2 := result with input as req_input({"verb": "patch", "resource": "configmaps", "namespace": "default", "name": "c"}, {"data": {}})
	not fired("production.cluster", r2)
	r3 := result with input as on_cluster(req_input({"verb": "list", "resource": "pods", "namespace": "default"}, null), {"env": "production"})
	r3.decision.risk == "LOW"
	r4 := result with input as on_cluster(req_input({"verb": "create", "group": "authorization.k8s.io", "resource": "selfsubjectaccessreviews"}, {"spec": {}}), {"env": "production"})
	r4.decision.risk == "LOW"

	# switched off with block_production (per cluster or globally)
	r5 := result with input as with_config(on_cluster(req_input({"verb": "patch", "resource": "configmaps", "namespace": "default", "name": "c"}, {"data": {}}), {"env": "production"}), {"block_production": false})
	not fired("production.cluster", r5)
}
