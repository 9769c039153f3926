package kubegate_test

connect_input(res, sub, ns) := req_input({"verb": "connect", "resource": res, "subresource": sub, "namespace": ns, "name": "x"}, null)

test_connect_nonproduction_positive if {
	every sub in ["exec", "attach", "portforward", "proxy"] {
		r := result with input as connect_input("pods", sub, "default")
		fired("connect.nonproduction", r)
		r.decision.risk == "MEDIUM"
	}
	svc := result with input as connect_input("services", "proxy", "default")
	svc.decision.risk == "MEDIUM"
	exec := result with input as connect_input("pods", "exec", "default")
	exec.decision.reasons == ["exec into pods default/x"]
}

test_connect_nonproduction_negative if {
	r1 := result with input as connect_input("pods", "exec", "production")
	not fired("connect.nonproduction", r1)
	r2 := result with input as connect_input("nodes", "proxy", "")
	not fired("connect.nonproduction", r2)
}

test_connect_production_positive if {
	every sub in ["exec", "attach", "portforward", "proxy"] {
		r := result with input as connect_input("pods", sub, "production")
		fired("connect.production", r)
		r.decision.risk == "HIGH"
	}

	# exec into production is HIGH even with block_production off
	off := result with input as with_config(connect_input("pods", "exec", "prod"), {"block_production": false})
	off.decision.risk == "HIGH"
}

test_connect_production_negative if {
	r := result with input as connect_input("pods", "exec", "default")
	not fired("connect.production", r)
}

test_connect_node_proxy_positive if {
	r := result with input as connect_input("nodes", "proxy", "")
	fired("connect.node_proxy", r)
	r.decision.risk == "CRITICAL"
}

test_connect_node_proxy_negative if {
	r1 := result with input as connect_input("services", "proxy", "default")
	not fired("connect.node_proxy", r1)
	r2 := result with input as req_input({"verb": "get", "resource": "nodes", "name": "n1"}, null)
	not fired("connect.node_proxy", r2)
}

test_connect_exec_with_other_verb_is_not_a_read if {
	# should a parser ever name an exec "get", it still is not a read
	r := result with input as req_input({"verb": "get", "resource": "pods", "subresource": "exec", "namespace": "default", "name": "x", "query": {"command": ["sh"]}}, null)
	r.decision.risk == "MEDIUM"
}

test_connect_unknown_subresource if {
	r := result with input as req_input({"verb": "connect", "group": "example.com", "resource": "vms", "subresource": "console", "namespace": "default", "name": "vm1"}, null)
	r.decision.risk == "MEDIUM"
	r.decision.reasons == ["connect to vms.example.com default/vm1"]
}
