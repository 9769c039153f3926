package kubegate_test

import data.kubegate

scopes := {
	"namespace_approver_groups": {"payments": ["payments-oncall"]},
	"critical_approver_groups": ["sre", "security"],
}

scoped(inp) := d if {
	d := kubegate.decision with input as inp with data.kubegate.defaults as object.union(kubegate.builtin_defaults, scopes)
}

# --- approver scopes ----------------------------------------------------------------

test_no_scopes_no_groups if {
	d := kubegate.decision with input as req_input({"verb": "create", "resource": "configmaps", "namespace": "payments"}, {"metadata": {"name": "c"}})
	not d.approvals_from
}

test_change_in_scoped_namespace_needs_its_group if {
	d := scoped(req_input({"verb": "create", "resource": "configmaps", "namespace": "payments"}, {"metadata": {"name": "c"}}))
	d.risk == "MEDIUM"
	d.approvals_from == ["payments-oncall"]
}

test_change_to_scoped_namespace_object_needs_its_group if {
	d := scoped(req_input({"verb": "patch", "resource": "namespaces", "name": "payments"}, {"metadata": {"labels": {"a": "b"}}}))
	"payments-oncall" in d.approvals_from
}

test_exec_in_scoped_namespace_needs_its_group if {
	d := scoped(req_input({"verb": "create", "resource": "pods", "subresource": "exec", "namespace": "payments", "name": "p"}, null))
	d.approvals_from == ["payments-oncall"]
}

test_read_in_scoped_namespace_needs_nobody if {
	d := scoped(req_input({"verb": "list", "resource": "configmaps", "namespace": "payments"}, null))
	d.risk == "LOW"
	not d.approvals_from
}

test_other_namespace_unscoped if {
	d := scoped(req_input({"verb": "create", "resource": "configmaps", "namespace": "default"}, {"metadata": {"name": "c"}}))
	not d.approvals_from
}

test_critical_needs_sre_and_security if {
	d := scoped(req_input({"verb": "delete", "resource": "namespaces", "name": "team-a"}, null))
	d.risk == "CRITICAL"
	d.approvals_from == ["security", "sre"]
}

test_critical_in_scoped_namespace_needs_all_three if {
	d := scoped(req_input({"verb": "delete", "resource": "secrets", "namespace": "payments", "name": "s"}, null))
	d.risk == "CRITICAL"
	d.approvals_from == ["payments-oncall", "security", "sre"]
}

test_malformed_scopes_are_ignored_not_fatal if {
	inp := req_input({"verb": "create", "resource": "configmaps", "namespace": "payments"}, {"metadata": {"name": "c"}})
	d := kubegate.decision with input as inp with data.kubegate.defaults as object.union(kubegate.builtin_defaults, {"namespace_approver_groups": {"payments": [7]}})
	d.risk == "MEDIUM"
	not d.approvals_from
}

# --- audit mode ---------------------------------------------------------------------

audit_input := req_input({"verb": "delete", "resource": "pods", "namespace": "default", "name": "x"}, null)

with_modes(inp, modes) := d if {
	d := kubegate.decision with input as inp with data.kubegate.defaults as object.union(kubegate.builtin_defaults, {"rule_modes": modes})
}

test_enforced_by_default if {
	d := kubegate.decision with input as audit_input
	d.risk == "HIGH"
	not d.audit_findings
}

test_rule_in_audit_mode_does_not_decide if {
	enforced := kubegate.decision with input as audit_input
	some f in kubegate.findings with input as audit_input
	f.risk == "HIGH"
	d := with_modes(audit_input, {f.rule: "audit"})
	d.risk == "MEDIUM"
	some a in d.audit_findings
	a.rule == f.rule
	a.risk == "HIGH"
	enforced.risk == "HIGH"
}

test_concern_in_audit_mode_keeps_fallback if {
	inp := req_input({"verb": "create", "resource": "configmaps", "namespace": "production"}, {"metadata": {"name": "c"}})
	d := with_modes(inp, {"production": "audit"})

	# the production rule only reports; the change is still a MEDIUM change, never LOW
	d.risk == "MEDIUM"
	some a in d.audit_findings
	a.rule == "production.namespace"
}

test_finding_marked_audit_in_rego if {
	d := kubegate.decision with input as audit_input with kubegate.rule_findings as {
		{"rule": "x.new", "risk": "CRITICAL", "reason": "new rule", "mode": "audit"},
		{"rule": "x.old", "risk": "MEDIUM", "reason": "old rule"},
	}
	d.risk == "MEDIUM"
	d.audit_findings == [{"rule": "x.new", "risk": "CRITICAL", "reason": "new rule"}]
}

test_deny_is_never_audit_mode if {
	d := kubegate.decision with input as audit_input with kubegate.deny as {"no"} with data.kubegate.defaults as object.union(kubegate.builtin_defaults, {"rule_modes": {"agents": "audit"}})
	d.deny == ["no"]
}
