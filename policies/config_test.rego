package kubegate_test

test_config_configmap_positive if {
	every v in ["create", "update", "patch"] {
		r := result with input as req_input({"verb": v, "resource": "configmaps", "namespace": "default", "name": "c"}, {"data": {"a": "b"}})
		fired("config.configmap", r)
		r.decision.risk == "MEDIUM"
	}
}

test_config_configmap_negative if {
	r1 := result with input as req_input({"verb": "get", "resource": "configmaps", "namespace": "default", "name": "c"}, null)
	not fired("config.configmap", r1)

	# a delete is HIGH through deletes.delete
	r2 := result with input as req_input({"verb": "delete", "resource": "configmaps", "namespace": "default", "name": "c"}, null)
	not fired("config.configmap", r2)
}

test_config_secret_positive if {
	every v in ["create", "update", "patch", "delete"] {
		r := result with input as req_input({"verb": v, "resource": "secrets", "namespace": "default", "name": "db"}, null)
		fired("config.secret", r)
		r.decision.risk == "CRITICAL"
	}
}

test_config_secret_reason if {
	r := result with input as req_input({"verb": "patch", "resource": "secrets", "namespace": "default", "name": "db"}, {"data": {}})
	r.decision.reasons == ["change to Secret default/db (credentials)"]
}

test_config_secret_negative if {
	r1 := result with input as req_input({"verb": "get", "resource": "secrets", "namespace": "default", "name": "db"}, null)
	not fired("config.secret", r1)
	r2 := result with input as req_input({"verb": "list", "resource": "secrets", "namespace": "default"}, null)
	r2.decision.risk == "LOW"
}
