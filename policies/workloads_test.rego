package kubegate_test

import data.kubegate

scale_input(ns) := req_input(
	{"verb": "patch", "group": "apps", "resource": "deployments", "subresource": "scale", "namespace": ns, "name": "api", "contentType": "application/merge-patch+json"},
	{"spec": {"replicas": 3}},
)

test_workloads_scale_positive if {
	r1 := result with input as scale_input("default")
	fired("workloads.scale", r1)
	r1.decision.risk == "MEDIUM"
	r2 := result with input as req_input({"verb": "update", "group": "apps", "resource": "statefulsets", "subresource": "scale", "namespace": "default", "name": "db"}, {"kind": "Scale", "spec": {"replicas": 2}})
	fired("workloads.scale", r2)
	r2.decision.risk == "MEDIUM"
}

test_workloads_scale_negative if {
	r1 := result with input as req_input({"verb": "get", "group": "apps", "resource": "deployments", "subresource": "scale", "namespace": "default", "name": "api"}, null)
	not fired("workloads.scale", r1)
	r2 := result with input as req_input({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, {"metadata": {"labels": {"a": "b"}}})
	not fired("workloads.scale", r2)
}

test_workloads_replicas_positive if {
	merge := result with input as req_input({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api", "contentType": "application/merge-patch+json"}, {"spec": {"replicas": 4}})
	fired("workloads.replicas", merge)
	merge.decision.risk == "MEDIUM"
	json_patch := result with input as req_input(
		{"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api", "contentType": "application/json-patch+json"},
		[{"op": "replace", "path": "/spec/replicas", "value": 4}],
	)
	fired("workloads.replicas", json_patch)
}

test_workloads_replicas_negative if {
	# an update that keeps the live replica count does not scale
	old := {"metadata": {"name": "api"}, "spec": {"replicas": 2, "template": {}}}
	r1 := result with input as with_old(req_input({"verb": "update", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, old), old)
	not fired("workloads.replicas", r1)
	r1.decision.risk == "MEDIUM"
	r2 := result with input as req_input({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default"}, {"spec": {"replicas": 2}})
	not fired("workloads.replicas", r2)
}

restart_patch := {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-25T10:30:00Z"}}}}}

test_workloads_rollout_restart_positive if {
	every res in ["deployments", "statefulsets", "daemonsets"] {
		r := result with input as req_input({"verb": "patch", "group": "apps", "resource": res, "namespace": "default", "name": "api", "contentType": "application/strategic-merge-patch+json"}, restart_patch)
		fired("workloads.rollout_restart", r)
		r.decision.risk == "MEDIUM"
	}
}

test_workloads_rollout_restart_json_patch if {
	r := result with input as req_input(
		{"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api", "contentType": "application/json-patch+json"},
		[{"op": "add", "path": "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt", "value": "2026-11-25T10:30:00Z"}],
	)
	fired("workloads.rollout_restart", r)
}

test_workloads_rollout_restart_negative if {
	# an edit that carries an earlier restart annotation unchanged is not a restart
	old := object.union(restart_patch, {"metadata": {"name": "api"}})
	edit := object.union(old, {"metadata": {"labels": {"tier": "web"}}})
	r1 := result with input as with_old(req_input({"verb": "update", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, edit), old)
	not fired("workloads.rollout_restart", r1)

	# other annotations are not restarts
	other := {"spec": {"template": {"metadata": {"annotations": {"team": "x"}}}}}
	r2 := result with input as req_input({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, other)
	not fired("workloads.rollout_restart", r2)

	# nor is a resource of the same name in another group
	r3 := result with input as req_input({"verb": "patch", "group": "example.com", "resource": "deployments", "namespace": "default", "name": "api"}, restart_patch)
	not fired("workloads.rollout_restart", r3)
}

test_workloads_eviction_positive if {
	r := result with input as req_input({"verb": "create", "resource": "pods", "subresource": "eviction", "namespace": "default", "name": "x"}, {"kind": "Eviction", "metadata": {"name": "x"}})
	fired("workloads.eviction", r)
	r.decision.risk == "HIGH"
}

test_workloads_eviction_negative if {
	r := result with input as req_input({"verb": "create", "resource": "pods", "namespace": "default"}, {"metadata": {"name": "x"}})
	not fired("workloads.eviction", r)
}

test_workloads_binding_positive if {
	r1 := result with input as req_input({"verb": "create", "resource": "pods", "subresource": "binding", "namespace": "default", "name": "x"}, {"target": {"kind": "Node", "name": "n1"}})
	fired("workloads.binding", r1)
	r1.decision.risk == "HIGH"
	r2 := result with input as req_input({"verb": "create", "resource": "bindings", "namespace": "default"}, {"metadata": {"name": "x"}})
	fired("workloads.binding", r2)
}

test_workloads_binding_negative if {
	r := result with input as req_input({"verb": "create", "group": "rbac.authorization.k8s.io", "resource": "rolebindings", "namespace": "default"}, null)
	not fired("workloads.binding", r)
}

test_workloads_ephemeral_containers_positive if {
	r := result with input as req_input({"verb": "patch", "resource": "pods", "subresource": "ephemeralcontainers", "namespace": "default", "name": "x"}, {"spec": {"ephemeralContainers": [{"name": "debugger", "image": "busybox"}]}})
	fired("workloads.ephemeral_containers", r)
	r.decision.risk == "HIGH"
}

test_workloads_ephemeral_containers_negative if {
	r := result with input as req_input({"verb": "get", "resource": "pods", "subresource": "ephemeralcontainers", "namespace": "default", "name": "x"}, null)
	not fired("workloads.ephemeral_containers", r)
}

test_workloads_node_positive if {
	# kubectl cordon
	r := result with input as req_input({"verb": "patch", "resource": "nodes", "name": "n1"}, {"spec": {"unschedulable": true}})
	fired("workloads.node", r)
	r.decision.risk == "HIGH"
}

test_workloads_node_negative if {
	r := result with input as req_input({"verb": "list", "resource": "nodes"}, null)
	not fired("workloads.node", r)
}

test_workloads_pod_create_is_medium if {
	d := kubegate.decision with input as req_input({"verb": "create", "resource": "pods", "namespace": "default"}, {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "a", "image": "nginx"}]}})
	d.risk == "MEDIUM"
	d.reasons == ["change to pods default/x"]
}
