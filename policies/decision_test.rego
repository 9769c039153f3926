package kubegate_test

import data.kubegate

# --- the decision is always defined and well formed ----------------------------

test_empty_input_is_defined_and_not_low if {
	d := kubegate.decision with input as {}
	d.risk == "HIGH"
	d.approvals == 1
	d.dry_run_first == true
	d.override_required == false
	d.deny == []
	count(d.reasons) > 0
}

test_null_fields_are_defined if {
	d := kubegate.decision with input as {"request": null, "user": null, "object": null, "oldObject": null, "config": null}
	d.risk == "HIGH"
}

test_wrongly_typed_fields_are_defined if {
	d := kubegate.decision with input as {"request": {"verb": 7, "resource": ["pods"]}, "user": "x", "config": []}
	d.risk == "HIGH"
}

test_handling_per_class if {
	low := kubegate.decision with input as req_input({"verb": "list", "resource": "pods", "namespace": "default"}, null)
	low.risk == "LOW"
	low.approvals == 0
	low.override_required == false
	low.dry_run_first == false

	medium := kubegate.decision with input as req_input({"verb": "create", "resource": "configmaps", "namespace": "default"}, {"metadata": {"name": "c"}})
	medium.risk == "MEDIUM"
	medium.approvals == 1
	medium.override_required == false
	medium.dry_run_first == false

	high := kubegate.decision with input as req_input({"verb": "delete", "resource": "pods", "namespace": "default", "name": "x"}, null)
	high.risk == "HIGH"
	high.approvals == 1
	high.override_required == false
	high.dry_run_first == true

	critical := kubegate.decision with input as req_input({"verb": "delete", "resource": "namespaces", "name": "foo"}, null)
	critical.risk == "CRITICAL"
	critical.approvals == 2
	critical.override_required == true
	critical.dry_run_first == true
}

test_reasons_sorted_and_all_medium_and_above_listed if {
	inp := req_input(
		{"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "production", "name": "api"},
		{"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-25T10:00:00Z"}}}}},
	)
	d := kubegate.decision with input as inp
	d.risk == "HIGH"
	d.reasons == sort(d.reasons)
	d.reasons == [
		"change in production namespace production",
		"rollout restart of deployments.apps production/api",
	]
}

test_low_reasons_hidden_when_higher if {
	# an impersonated read: "read-only request" would mislead
	d := kubegate.decision with input as req_input({"verb": "get", "resource": "pods", "namespace": "default", "impersonate": {"user": "bob"}}, null)
	d.reasons == ["impersonation (user bob)"]
}

test_fails_closed_when_classification_breaks if {
	# should the combination ever be undefined, the default decision is CRITICAL
	d := kubegate.decision with input as req_input({"verb": "list", "resource": "pods"}, null) with kubegate.levels as []
	d.risk == "CRITICAL"
	d.override_required == true
}

test_deny_empty_by_default if {
	d := kubegate.decision with input as req_input({"verb": "delete", "group": "rbac.authorization.k8s.io", "resource": "clusterroles", "name": "x"}, null)
	d.deny == []
}

# --- fallbacks -----------------------------------------------------------------

test_default_change_unknown_resource_is_medium if {
	r := result with input as req_input({"verb": "patch", "group": "example.com", "resource": "widgets", "namespace": "default", "name": "w"}, {"spec": {"size": 2}})
	fired("default.change", r)
	r.decision.risk == "MEDIUM"
	r.decision.reasons == ["change to widgets.example.com default/w"]
}

test_default_change_not_when_a_rule_matched if {
	r1 := result with input as req_input({"verb": "create", "resource": "configmaps", "namespace": "default"}, null)
	not fired("default.change", r1)
	r2 := result with input as req_input({"verb": "list", "resource": "pods"}, null)
	not fired("default.change", r2)
}

test_default_unrecognized_verb_is_high if {
	r := result with input as req_input({"verb": "frobnicate", "resource": "pods", "namespace": "default"}, null)
	fired("default.unrecognized", r)
	r.decision.risk == "HIGH"
}

test_default_unrecognized_not_for_known_requests if {
	r1 := result with input as req_input({"verb": "update", "group": "example.com", "resource": "widgets"}, null)
	not fired("default.unrecognized", r1)
	r2 := result with input as req_input({"verb": "watch", "resource": "pods"}, null)
	not fired("default.unrecognized", r2)
}

# --- configuration ---------------------------------------------------------------

test_builtin_defaults_match_data_json if {
	kubegate.builtin_defaults == data.kubegate.defaults
}

test_config_overrides_production_namespaces if {
	inp := req_input({"verb": "create", "resource": "configmaps", "namespace": "staging"}, null)
	before := kubegate.decision with input as inp
	before.risk == "MEDIUM"
	after := kubegate.decision with input as with_config(inp, {"production_namespaces": ["staging"]})
	after.risk == "HIGH"
}

test_config_block_production_false if {
	inp := req_input({"verb": "create", "resource": "configmaps", "namespace": "production"}, null)
	on := kubegate.decision with input as inp
	on.risk == "HIGH"
	off := kubegate.decision with input as with_config(inp, {"block_production": false})
	off.risk == "MEDIUM"
}

test_config_malformed_value_falls_back_to_default if {
	inp := req_input({"verb": "create", "resource": "configmaps", "namespace": "production"}, null)
	d := kubegate.decision with input as with_config(inp, {"block_production": "no", "production_namespaces": "staging"})
	d.risk == "HIGH"
}

test_defaults_without_data_json if {
	inp := req_input({"verb": "create", "resource": "configmaps", "namespace": "prod"}, null)
	d := kubegate.decision with input as inp with data.kubegate.defaults as null
	d.risk == "HIGH"
}

# --- seed examples: realistic kubectl requests -------------------------------------

test_seed_kubectl_get_pods if {
	d := kubegate.decision with input as req_input({"verb": "list", "resource": "pods", "namespace": "default", "path": "/api/v1/namespaces/default/pods", "query": {"limit": ["500"]}}, null)
	d == {
		"risk": "LOW",
		"reasons": ["read-only request"],
		"approvals": 0,
		"override_required": false,
		"dry_run_first": false,
		"deny": [],
	}
}

test_seed_kubectl_logs if {
	d := kubegate.decision with input as req_input({"verb": "get", "resource": "pods", "subresource": "log", "namespace": "default", "name": "api-7d9f", "path": "/api/v1/namespaces/default/pods/api-7d9f/log"}, null)
	d.risk == "LOW"
}

test_seed_kubectl_auth_whoami if {
	inp := req_input(
		{"verb": "create", "group": "authentication.k8s.io", "resource": "selfsubjectreviews", "path": "/apis/authentication.k8s.io/v1/selfsubjectreviews", "contentType": "application/json"},
		{"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": null}, "status": {"userInfo": {}}},
	)
	d := kubegate.decision with input as inp
	d.risk == "LOW"
	d.approvals == 0
}

test_seed_kubectl_scale if {
	inp := req_input(
		{"verb": "patch", "group": "apps", "resource": "deployments", "subresource": "scale", "namespace": "default", "name": "api", "path": "/apis/apps/v1/namespaces/default/deployments/api/scale", "query": {"fieldManager": ["kubectl-scale"]}, "contentType": "application/merge-patch+json"},
		{"spec": {"replicas": 3}},
	)
	d := kubegate.decision with input as inp
	d.risk == "MEDIUM"
	d.reasons == ["scaling deployments.apps default/api"]
	d.approvals == 1
}

test_seed_kubectl_edit_configmap if {
	inp := with_old(
		req_input(
			{"verb": "patch", "resource": "configmaps", "namespace": "default", "name": "app-config", "path": "/api/v1/namespaces/default/configmaps/app-config", "query": {"fieldManager": ["kubectl-edit"]}, "contentType": "application/strategic-merge-patch+json"},
			{"data": {"LOG_LEVEL": "debug"}},
		),
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-config", "namespace": "default"}, "data": {"LOG_LEVEL": "info"}},
	)
	d := kubegate.decision with input as inp
	d.risk == "MEDIUM"
	d.reasons == ["change to ConfigMap default/app-config"]
}

test_seed_kubectl_create_configmap if {
	inp := req_input(
		{"verb": "create", "resource": "configmaps", "namespace": "default", "path": "/api/v1/namespaces/default/configmaps", "query": {"fieldManager": ["kubectl-create"]}, "contentType": "application/json"},
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-config", "namespace": "default"}, "data": {"a": "1"}},
	)
	d := kubegate.decision with input as inp
	d.risk == "MEDIUM"
	d.reasons == ["change to ConfigMap default/app-config"]
}

test_seed_kubectl_rollout_restart if {
	inp := req_input(
		{"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api", "path": "/apis/apps/v1/namespaces/default/deployments/api", "query": {"fieldManager": ["kubectl-rollout"]}, "contentType": "application/strategic-merge-patch+json"},
		{"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-25T10:30:00Z"}}}}},
	)
	d := kubegate.decision with input as inp
	d.risk == "MEDIUM"
	d.reasons == ["rollout restart of deployments.apps default/api"]
}

test_seed_kubectl_delete_pod if {
	inp := req_input(
		{"verb": "delete", "resource": "pods", "namespace": "default", "name": "x", "path": "/api/v1/namespaces/default/pods/x", "contentType": "application/json"},
		{"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
	)
	d := kubegate.decision with input as inp
	d.risk == "HIGH"
	d.reasons == ["delete of pods default/x"]
	d.dry_run_first == true
}

test_seed_networkpolicy_create if {
	inp := req_input(
		{"verb": "create", "group": "networking.k8s.io", "resource": "networkpolicies", "namespace": "default", "path": "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies", "contentType": "application/json"},
		{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny-all"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
	)
	d := kubegate.decision with input as inp
	d.risk == "HIGH"
}

test_seed_changes_in_production if {
	create := kubegate.decision with input as req_input({"verb": "create", "resource": "configmaps", "namespace": "production"}, {"metadata": {"name": "c"}})
	create.risk == "HIGH"
	patch := kubegate.decision with input as req_input({"verb": "patch", "group": "apps", "resource": "deployments", "subresource": "scale", "namespace": "production", "name": "api-service"}, {"spec": {"replicas": 5}})
	patch.risk == "HIGH"
}

test_seed_kubectl_delete_namespace if {
	d := kubegate.decision with input as req_input({"verb": "delete", "resource": "namespaces", "namespace": "", "name": "foo", "path": "/api/v1/namespaces/foo"}, null)
	d.risk == "CRITICAL"
	d.override_required == true
	d.approvals == 2
}

test_seed_delete_persistentvolume if {
	d := kubegate.decision with input as req_input({"verb": "delete", "resource": "persistentvolumes", "name": "pv-1", "path": "/api/v1/persistentvolumes/pv-1"}, null)
	d.risk == "CRITICAL"
}

test_seed_create_clusterrolebinding if {
	inp := req_input(
		{"verb": "create", "group": "rbac.authorization.k8s.io", "resource": "clusterrolebindings", "path": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"},
		{"kind": "ClusterRoleBinding", "metadata": {"name": "x"}, "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [{"kind": "User", "name": "bob"}]},
	)
	d := kubegate.decision with input as inp
	d.risk == "CRITICAL"
}

test_seed_update_and_patch_secrets if {
	update := kubegate.decision with input as req_input({"verb": "update", "resource": "secrets", "namespace": "default", "name": "db"}, {"kind": "Secret", "metadata": {"name": "db"}, "data": {"p": "eA=="}})
	update.risk == "CRITICAL"
	patch := kubegate.decision with input as req_input({"verb": "patch", "resource": "secrets", "namespace": "default", "name": "db", "contentType": "application/merge-patch+json"}, {"data": {"p": "eQ=="}})
	patch.risk == "CRITICAL"
}

test_seed_dry_run_classified_like_real_request if {
	d := kubegate.decision with input as req_input({"verb": "delete", "resource": "pods", "namespace": "default", "name": "x", "dryRun": true, "query": {"dryRun": ["All"]}}, null)
	d.risk == "HIGH"
}

# default_setting(key) is object.union(builtin_defaults, data.kubegate.defaults)[key], looked up per key.
test_default_setting_is_the_merged_defaults_per_key if {
	datas := [
		{},
		{"block_production": "yes", "rule_modes": {"network": "audit"}, "agent_users": ["bot"]},
		{"namespace_approver_groups": {"payments": ["oncall"]}, "critical_approver_groups": "sre", "new_key": 1},
	]
	every d in datas {
		every k, _ in kubegate.builtin_defaults {
			kubegate.default_setting(k) == object.union(kubegate.builtin_defaults, d)[k] with data.kubegate.defaults as d
		}
	}
	every k, v in kubegate.builtin_defaults {
		kubegate.default_setting(k) == v with data.kubegate.defaults as "not an object"
	}
}

# A data default of another type than the built-in one sets the type input.config must have.
test_config_type_follows_data_default if {
	inp := with_config(req_input({"verb": "create", "resource": "configmaps", "namespace": "staging"}, {}), {"production_namespaces": ["staging"]})
	d := kubegate.decision with input as inp with data.kubegate.defaults as {"production_namespaces": "none"}
	d.risk == "MEDIUM"
	d2 := kubegate.decision with input as inp
	d2.risk == "HIGH"
}

# Without extras the decision is exactly the base decision (no approvals_from, no audit_findings keys).
test_decision_without_extras_has_base_keys_only if {
	d := kubegate.decision with input as req_input({"verb": "get", "resource": "pods", "namespace": "default"}, null)
	object.keys(d) == {"risk", "reasons", "approvals", "override_required", "dry_run_first", "deny"}
}

# last_key: the last segment of a path, also for JSON patch paths; none for the empty path.
test_last_key if {
	kubegate.last_key(["spec", "template", "serviceAccountName"]) == "serviceAccountName"
	kubegate.last_key(["a"]) == "a"
	not kubegate.last_key([])
}

test_effective_defaults_merge_data_over_builtin if {
	kubegate.effective_defaults == kubegate.builtin_defaults with data.kubegate.defaults as "not an object"
	m := kubegate.effective_defaults with data.kubegate.defaults as {"agent_users": ["bot"], "rule_modes": {"network": "audit"}}
	m.agent_users == ["bot"]
	m.rule_modes == {"network": "audit"}
	m.kubegate_namespace == "kubegate-system"
}
