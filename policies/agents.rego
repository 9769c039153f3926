# Stricter rules for AI agents and other automated requesters. Non-agents are
# not affected by anything in this file.
package kubegate

default is_agent := false

# An agent: a listed username, a username with a listed prefix (e.g. the
# ServiceAccounts of the agents namespace), or a member of a listed group.
is_agent if username in agent_users

is_agent if {
	some prefix in agent_user_prefixes
	prefix != ""
	startswith(username, prefix)
}

is_agent if {
	some g in user_groups
	g in agent_groups
}

# An agent opening a shell or a tunnel is never routine, wherever it is.
rule_findings contains {
	"rule": "agents.connect",
	"risk": "HIGH",
	"reason": concat(" ", [agent_name, "requests", connect_target]),
} if {
	is_connect
	is_agent
}

# "agent ci-bot", but a user already called "agent" is not "agent agent".
agent_name := username if contains(lower(username), "agent")

agent_name := concat(" ", ["agent", username]) if not contains(lower(username), "agent")

# Refused outright, whatever approvals exist. (Each rule checks the request first:
# it is cheaper than is_agent, and most requests fail it.)

# An agent must act as itself: impersonation would hide it from the audit log
# and from the agent rules here.
deny contains "agents may not use impersonation" if {
	impersonating
	is_agent
}

# An agent must not be able to change the gate that constrains it.
deny contains concat("", ["agents may not change or enter kubegate's own namespace ", kubegate_namespace]) if {
	touches_kubegate_namespace
	is_agent
}

# ...nor the admission control that could bypass or disable it.
deny contains "agents may not change admission webhooks or policies" if {
	is_write
	group == "admissionregistration.k8s.io"
	is_agent
}
