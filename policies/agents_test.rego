package kubegate_test

import data.kubegate

test_agents_is_agent if {
	kubegate.is_agent with input as as_agent({})
	kubegate.is_agent with input as {"user": {"username": "x", "groups": ["kubegate:agents"]}}
	kubegate.is_agent with input as {"user": {"username": "system:serviceaccount:agents:clawd"}}
	kubegate.is_agent with input as {"user": {"username": "robot"}, "config": {"agent_users": ["robot"]}}
}

test_agents_is_agent_negative if {
	not kubegate.is_agent with input as {"user": human}
	not kubegate.is_agent with input as {}
	not kubegate.is_agent with input as {"user": {"username": "agent"}, "config": {"agent_users": []}}
	not kubegate.is_agent with input as {"user": {"username": "system:serviceaccount:other:clawd"}}
}

test_agents_connect_positive if {
	r1 := result with input as as_agent(connect_input("pods", "exec", "default"))
	fired("agents.connect", r1)
	r1.decision.risk == "HIGH"
	r2 := result with input as as_agent(connect_input("pods", "portforward", "default"))
	r2.decision.risk == "HIGH"
}

test_agents_connect_negative if {
	# a human exec outside production stays MEDIUM
	r1 := result with input as connect_input("pods", "exec", "default")
	not fired("agents.connect", r1)
	r1.decision.risk == "MEDIUM"
	r2 := result with input as as_agent(req_input({"verb": "get", "resource": "pods", "subresource": "log", "namespace": "default", "name": "x"}, null))
	not fired("agents.connect", r2)
}

test_agents_ordinary_requests_unchanged if {
	r1 := result with input as as_agent(req_input({"verb": "list", "resource": "pods"}, null))
	r1.decision.risk == "LOW"
	r2 := result with input as as_agent(scale_input("default"))
	r2.decision.risk == "MEDIUM"
	r2.decision.deny == []
}

test_agents_deny_impersonation_positive if {
	d := kubegate.decision with input as as_agent(req_input({"verb": "get", "resource": "pods", "impersonate": {"user": "admin"}}, null))
	d.deny == ["agents may not use impersonation"]
}

test_agents_deny_impersonation_negative if {
	human_imp := kubegate.decision with input as req_input({"verb": "get", "resource": "pods", "impersonate": {"user": "admin"}}, null)
	human_imp.deny == []
	agent_plain := kubegate.decision with input as as_agent(req_input({"verb": "get", "resource": "pods"}, null))
	agent_plain.deny == []
}

test_agents_deny_kubegate_namespace_positive if {
	msg := "agents may not change or enter kubegate's own namespace kubegate-system"
	d1 := kubegate.decision with input as as_agent(req_input({"verb": "patch", "resource": "configmaps", "namespace": "kubegate-system", "name": "kubegate"}, {"data": {}}))
	msg in d1.deny
	d2 := kubegate.decision with input as as_agent(req_input({"verb": "delete", "resource": "namespaces", "name": "kubegate-system"}, null))
	msg in d2.deny
	d3 := kubegate.decision with input as as_agent(connect_input("pods", "exec", "kubegate-system"))
	msg in d3.deny
}

test_agents_deny_kubegate_namespace_negative if {
	human_write := kubegate.decision with input as req_input({"verb": "patch", "resource": "configmaps", "namespace": "kubegate-system", "name": "kubegate"}, {"data": {}})
	human_write.deny == []
	agent_read := kubegate.decision with input as as_agent(req_input({"verb": "list", "resource": "configmaps", "namespace": "kubegate-system"}, null))
	agent_read.deny == []
}

test_agents_deny_admission_positive if {
	d := kubegate.decision with input as as_agent(req_input({"verb": "delete", "group": "admissionregistration.k8s.io", "resource": "validatingwebhookconfigurations", "name": "kubegate"}, null))
	d.deny == ["agents may not change admission webhooks or policies"]
}

test_agents_deny_admission_negative if {
	human_write := kubegate.decision with input as req_input({"verb": "delete", "group": "admissionregistration.k8s.io", "resource": "validatingwebhookconfigurations", "name": "kubegate"}, null)
	human_write.deny == []
	agent_read := kubegate.decision with input as as_agent(req_input({"verb": "list", "group": "admissionregistration.k8s.io", "resource": "validatingwebhookconfigurations"}, null))
	agent_read.deny == []
}

test_agent_connect_reason_has_no_doubled_word if {
	inp := object.union(req_input({"verb": "create", "resource": "pods", "subresource": "exec", "namespace": "default", "name": "p"}, null), {"user": {"username": "agent", "groups": []}})
	d := kubegate.decision with input as inp
	"agent requests exec into pods default/p" in d.reasons
	other := object.union(inp, {"user": {"username": "ci-bot", "groups": ["kubegate:agents"]}})
	d2 := kubegate.decision with input as other
	"agent ci-bot requests exec into pods default/p" in d2.reasons
}
