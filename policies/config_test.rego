package kubegate_test

test_config_configmap_positive if {
	every v in ["create", "update", "patch"] {
		inp := req_input({"verb": v, "resource": "configmaps", "namespace": "default", "name": "c"}, {"data": {"a": "b"}})
		fired("config.configmap", inp)
		risk_of(inp) == "MEDIUM"
	}
}

test_config_configmap_negative if {
	not fired("config.configmap", req_input({"verb": "get", "resource": "configmaps", "namespace": "default", "name": "c"}, null))

	# a delete is HIGH through deletes.delete, not MEDIUM
	del := req_input({"verb": "delete", "resource": "configmaps", "namespace": "default", "name": "c"}, null)
	not fired("config.configmap", del)
}

test_config_secret_positive if {
	every v in ["create", "update", "patch", "delete"] {
		inp := req_input({"verb": v, "resource": "secrets", "namespace": "default", "name": "db"}, null)
		fired("config.secret", inp)
		risk_of(inp) == "CRITICAL"
	}
}

test_config_secret_reason if {
	"patch of Secret default/db" in reasons_of(req_input({"verb": "patch", "resource": "secrets", "namespace": "default", "name": "db"}, {"data": {}}))
}

test_config_secret_negative if {
	not fired("config.secret", req_input({"verb": "get", "resource": "secrets", "namespace": "default", "name": "db"}, null))
	risk_of(req_input({"verb": "list", "resource": "secrets", "namespace": "default"}, null)) == "LOW"
}
