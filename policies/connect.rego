# exec / attach / port-forward / proxy: interactive access into running things.
package kubegate

connect_actions := {
	"exec": "exec into",
	"attach": "attach to",
	"portforward": "port-forward to",
	"proxy": "proxy to",
}

default connect_action := "connect to"

connect_action := connect_actions[subresource]

connect_target := concat(" ", [connect_action, qualified_resource, object_ref])

default node_connect := false

node_connect if {
	is_connect
	group == ""
	resource == "nodes"
}

# Outside production: reversible, but runs commands or reaches ports.
rule_findings contains {
	"rule": "connect.nonproduction",
	"risk": "MEDIUM",
	"reason": connect_target,
} if {
	is_connect
	not node_connect
	not in_production_namespace
}

# Inside production (whether or not block_production is set: exec into a
# production pod is HIGH by the safety model).
rule_findings contains {
	"rule": "connect.production",
	"risk": "HIGH",
	"reason": concat(" ", [connect_target, "(production)"]),
} if {
	is_connect
	in_production_namespace
}

# nodes/proxy reaches the kubelet API: exec into any pod on the node, unaudited.
rule_findings contains {
	"rule": "connect.node_proxy",
	"risk": "CRITICAL",
	"reason": concat(" ", ["proxy to the kubelet API of node", object_ref]),
} if node_connect
