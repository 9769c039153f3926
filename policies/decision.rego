# Entrypoint: data.kubegate.decision (wasm entrypoint "kubegate/decision").
#
# Each concern file (reads, workloads, config, rbac, storage, network, security,
# production, connect, agents, deletes) adds findings to `rule_findings`:
#   {"rule": "<file>.<rule>", "risk": "LOW|MEDIUM|HIGH|CRITICAL", "reason": "..."}
# and agents.rego adds outright refusals to `deny`. This file combines them:
# the risk is the highest level any enforced finding has.
#
# Rollout: a finding in audit mode (the finding says "mode": "audit", or
# data.kubegate.defaults.rule_modes names its rule, e.g. "network.ingress", or its
# concern file, e.g. "network") never changes the decision; it is reported in
# `audit_findings` so kubegate records what it would have done.
package kubegate

levels := ["LOW", "MEDIUM", "HIGH", "CRITICAL"]

rank := {"LOW": 0, "MEDIUM": 1, "HIGH": 2, "CRITICAL": 3}

# What each class requires of the gate.
handling := {
	"LOW": {"approvals": 0, "override_required": false, "dry_run_first": false},
	"MEDIUM": {"approvals": 1, "override_required": false, "dry_run_first": false},
	"HIGH": {"approvals": 1, "override_required": false, "dry_run_first": true},
	"CRITICAL": {"approvals": 2, "override_required": true, "dry_run_first": true},
}

# Fallbacks, only when no concern file matched: a change to anything else is
# MEDIUM; a request we cannot even recognize (unknown verb, empty input) is HIGH,
# so it is never auto-approved.
fallback_findings contains {
	"rule": "default.change",
	"risk": "MEDIUM",
	"reason": concat(" ", ["change to", target]),
} if {
	count(enforced_findings) == 0
	generic_change
}

fallback_findings contains {
	"rule": "default.unrecognized",
	"risk": "HIGH",
	"reason": concat("", ["unrecognized request (verb \"", verb, "\")"]),
} if {
	count(enforced_findings) == 0
	not generic_change
}

default generic_change := false

generic_change if {
	is_write
	resource != ""
}

audit_mode(f) if marked_audit(f)

audit_mode(f) if rule_modes[f.rule] == "audit"

audit_mode(f) if rule_modes[split(f.rule, ".")[0]] == "audit"

# Without any rule_modes and without a finding marked "audit" (the usual case), every
# finding is enforced: the per-finding checks below are skipped.
default audit_possible := false

audit_possible if count(rule_modes) > 0

audit_possible if {
	some f in all_rule_findings
	marked_audit(f)
}

marked_audit(f) if f.mode == "audit"

# The concern files' findings, and those that ask them what a delete would be (deletes.rego).
all_rule_findings := rule_findings | ownership_findings

enforced_findings := {f | some f in all_rule_findings; not audit_mode(f)} if {
	audit_possible
} else := all_rule_findings

# What audit-mode rules found, without their mode marker (the host reads rule, risk, reason).
audit_findings := {object.remove(f, ["mode"]) | some f in all_rule_findings; audit_mode(f)} if {
	audit_possible
} else := set()

findings := enforced_findings | fallback_findings

max_rank := max({rank[f.risk] | some f in findings})

risk := levels[max_rank]

# Reasons: at MEDIUM and above, the reasons of every MEDIUM+ finding (so an approver
# sees both "rollout restart" and "change in production namespace"); LOW reasons
# only when nothing is above LOW. Sorted, without duplicates.
min_listed_rank := 1 if {
	max_rank >= 1
} else := 0

reasons := sort({f.reason | some f in findings; rank[f.risk] >= min_listed_rank})

# Optional parts, present only when they say something (older hosts and tests see the same shape).
decision_extras["approvals_from"] := sort(approvals_from) if count(approvals_from) > 0

decision_extras["audit_findings"] := sort(audit_findings) if count(audit_findings) > 0

decision := object.union(base_decision, decision_extras) if {
	count(decision_extras) > 0
} else := base_decision

base_decision := {
	"risk": risk,
	"reasons": reasons,
	"approvals": handling[risk].approvals,
	"override_required": handling[risk].override_required,
	"dry_run_first": handling[risk].dry_run_first,
	"deny": sort(deny),
}

# Should anything above fail to evaluate, fail closed rather than leave the
# decision undefined.
default decision := {
	"risk": "CRITICAL",
	"reasons": ["policy could not classify the request"],
	"approvals": 2,
	"override_required": true,
	"dry_run_first": true,
	"deny": [],
}
