package kubegate_test

test_rbac_write_positive if {
	every res in ["roles", "clusterroles", "rolebindings", "clusterrolebindings"] {
		every v in ["create", "update", "patch", "delete"] {
			r := result with input as req_input({"verb": v, "group": "rbac.authorization.k8s.io", "resource": res, "name": "x"}, null)
			fired("rbac.write", r)
			r.decision.risk == "CRITICAL"
		}
	}
}

test_rbac_write_negative if {
	r1 := result with input as req_input({"verb": "list", "group": "rbac.authorization.k8s.io", "resource": "clusterroles"}, null)
	not fired("rbac.write", r1)
	r2 := result with input as req_input({"verb": "create", "group": "example.com", "resource": "roles"}, null)
	not fired("rbac.write", r2)
}

test_rbac_serviceaccount_token_positive if {
	# kubectl create token builder
	r := result with input as req_input({"verb": "create", "resource": "serviceaccounts", "subresource": "token", "namespace": "default", "name": "builder"}, {"kind": "TokenRequest", "spec": {"audiences": null}})
	fired("rbac.serviceaccount_token", r)
	r.decision.risk == "CRITICAL"
	r.decision.reasons == ["minting a token for ServiceAccount default/builder"]
}

test_rbac_serviceaccount_token_negative if {
	r := result with input as req_input({"verb": "create", "resource": "serviceaccounts", "namespace": "default"}, {"metadata": {"name": "builder"}})
	not fired("rbac.serviceaccount_token", r)
	r.decision.risk == "MEDIUM"
}

test_rbac_impersonation_positive if {
	every imp in [
		{"user": "bob", "uid": null, "groups": [], "extra": {}},
		{"user": null, "uid": "123", "groups": [], "extra": {}},
		{"user": null, "uid": null, "groups": ["system:masters"], "extra": {}},
		{"user": null, "uid": null, "groups": [], "extra": {"scopes": ["x"]}},
		"garbage",
	] {
		r := result with input as req_input({"verb": "get", "resource": "pods", "namespace": "default", "impersonate": imp}, null)
		fired("rbac.impersonation", r)
		r.decision.risk == "CRITICAL"
	}
}

test_rbac_impersonation_reason if {
	r := result with input as req_input({"verb": "list", "resource": "pods", "impersonate": {"user": "bob", "groups": ["devs", "admins"]}}, null)
	r.decision.reasons == ["impersonation (group admins, group devs, user bob)"]
}

test_rbac_impersonation_negative if {
	every imp in [
		no_impersonation,
		null,
		{},
		{"user": "", "uid": "", "groups": [], "extra": {}},
	] {
		r := result with input as req_input({"verb": "get", "resource": "pods", "namespace": "default", "impersonate": imp}, null)
		not fired("rbac.impersonation", r)
		r.decision.risk == "LOW"
	}
}
