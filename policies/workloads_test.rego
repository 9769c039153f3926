package kubegate_test

scale_input(ns) := req_input(
	{"verb": "patch", "group": "apps", "resource": "deployments", "subresource": "scale", "namespace": ns, "name": "api", "contentType": "application/merge-patch+json"},
	{"spec": {"replicas": 3}},
)

test_workloads_scale_positive if {
	fired("workloads.scale", scale_input("default"))
	risk_of(scale_input("default")) == "MEDIUM"
	inp := req_input({"verb": "update", "group": "apps", "resource": "statefulsets", "subresource": "scale", "namespace": "default", "name": "db"}, {"kind": "Scale", "spec": {"replicas": 2}})
	fired("workloads.scale", inp)
	risk_of(inp) == "MEDIUM"
}

test_workloads_scale_negative if {
	not fired("workloads.scale", req_input({"verb": "get", "group": "apps", "resource": "deployments", "subresource": "scale", "namespace": "default", "name": "api"}, null))
	not fired("workloads.scale", req_input({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, {"metadata": {"labels": {"a": "b"}}}))
}

test_workloads_replicas_positive if {
	merge := req_input({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api", "contentType": "application/merge-patch+json"}, {"spec": {"replicas": 4}})
	fired("workloads.replicas", merge)
	risk_of(merge) == "MEDIUM"
	json_patch := req_input(
		{"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api", "contentType": "application/json-patch+json"},
		[{"op": "replace", "path": "/spec/replicas", "value": 4}],
	)
	fired("workloads.replicas", json_patch)
}

test_workloads_replicas_negative if {
	# an update that keeps the live replica count does not scale
	old := {"metadata": {"name": "api"}, "spec": {"replicas": 2, "template": {}}}
	inp := with_old(req_input({"verb": "update", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, old), old)
	not fired("workloads.replicas", inp)
	risk_of(inp) == "MEDIUM"
	not fired("workloads.replicas", req_input({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default"}, {"spec": {"replicas": 2}}))
}

restart_patch := {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-25T10:30:00Z"}}}}}

test_workloads_rollout_restart_positive if {
	every r in ["deployments", "statefulsets", "daemonsets"] {
		inp := req_input({"verb": "patch", "group": "apps", "resource": r, "namespace": "default", "name": "api", "contentType": "application/strategic-merge-patch+json"}, restart_patch)
		fired("workloads.rollout_restart", inp)
		risk_of(inp) == "MEDIUM"
	}
}

test_workloads_rollout_restart_json_patch if {
	inp := req_input(
		{"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api", "contentType": "application/json-patch+json"},
		[{"op": "add", "path": "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt", "value": "2026-11-25T10:30:00Z"}],
	)
	fired("workloads.rollout_restart", inp)
}

test_workloads_rollout_restart_negative if {
	# an edit that carries an earlier restart annotation unchanged is not a restart
	old := object.union(restart_patch, {"metadata": {"name": "api"}})
	edit := object.union(old, {"metadata": {"labels": {"tier": "web"}}})
	inp := with_old(req_input({"verb": "update", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, edit), old)
	not fired("workloads.rollout_restart", inp)

	# other annotations are not restarts
	other := {"spec": {"template": {"metadata": {"annotations": {"team": "x"}}}}}
	not fired("workloads.rollout_restart", req_input({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, other))

	# not for a non-apps resource of the same name
	not fired("workloads.rollout_restart", req_input({"verb": "patch", "group": "example.com", "resource": "deployments", "namespace": "default", "name": "api"}, restart_patch))
}

test_workloads_eviction_positive if {
	inp := req_input({"verb": "create", "resource": "pods", "subresource": "eviction", "namespace": "default", "name": "x"}, {"kind": "Eviction", "metadata": {"name": "x"}})
	fired("workloads.eviction", inp)
	risk_of(inp) == "HIGH"
}

test_workloads_eviction_negative if {
	not fired("workloads.eviction", req_input({"verb": "create", "resource": "pods", "namespace": "default"}, {"metadata": {"name": "x"}}))
}

test_workloads_binding_positive if {
	sub := req_input({"verb": "create", "resource": "pods", "subresource": "binding", "namespace": "default", "name": "x"}, {"target": {"kind": "Node", "name": "n1"}})
	fired("workloads.binding", sub)
	risk_of(sub) == "HIGH"
	fired("workloads.binding", req_input({"verb": "create", "resource": "bindings", "namespace": "default"}, {"metadata": {"name": "x"}}))
}

test_workloads_binding_negative if {
	not fired("workloads.binding", req_input({"verb": "create", "group": "rbac.authorization.k8s.io", "resource": "rolebindings", "namespace": "default"}, null))
}

test_workloads_ephemeral_containers_positive if {
	inp := req_input({"verb": "patch", "resource": "pods", "subresource": "ephemeralcontainers", "namespace": "default", "name": "x"}, {"spec": {"ephemeralContainers": [{"name": "debugger", "image": "busybox"}]}})
	fired("workloads.ephemeral_containers", inp)
	risk_of(inp) == "HIGH"
}

test_workloads_ephemeral_containers_negative if {
	not fired("workloads.ephemeral_containers", req_input({"verb": "get", "resource": "pods", "subresource": "ephemeralcontainers", "namespace": "default", "name": "x"}, null))
}

test_workloads_node_positive if {
	# kubectl cordon
	inp := req_input({"verb": "patch", "resource": "nodes", "name": "n1"}, {"spec": {"unschedulable": true}})
	fired("workloads.node", inp)
	risk_of(inp) == "HIGH"
}

test_workloads_node_negative if {
	not fired("workloads.node", req_input({"verb": "list", "resource": "nodes"}, null))
}
