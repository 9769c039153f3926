# Workloads: scaling, rollout restarts, pod subresources that disrupt or intrude, nodes.
package kubegate

# kubectl scale: the scale subresource of any workload.
rule_findings contains {
	"rule": "workloads.scale",
	"risk": "MEDIUM",
	"reason": concat(" ", ["scaling", qualified_resource, object_ref]),
} if {
	is_write
	subresource == "scale"
}

# A patch/update that changes spec.replicas directly scales too.
rule_findings contains {
	"rule": "workloads.replicas",
	"risk": "MEDIUM",
	"reason": concat(" ", ["changing replicas of", target]),
} if {
	is_update
	subresource == ""
	some [p, v] in assignments
	p == ["spec", "replicas"]
	v != old_value(p)
}

restart_annotation := "kubectl.kubernetes.io/restartedAt"

# kubectl rollout restart: sets the restartedAt annotation on the pod template.
# Compared with the live value so that an edit of an earlier-restarted workload
# is not mistaken for a restart.
rule_findings contains {
	"rule": "workloads.rollout_restart",
	"risk": "MEDIUM",
	"reason": concat(" ", ["rollout restart of", target]),
} if {
	is_update
	restartable
	some [p, v] in assignments
	p == ["spec", "template", "metadata", "annotations", restart_annotation]
	v != old_value(p)
}

default restartable := false

restartable if is_resource("apps", "deployments")

restartable if is_resource("apps", "statefulsets")

restartable if is_resource("apps", "daemonsets")

# Eviction takes a running pod away (kubectl drain).
rule_findings contains {
	"rule": "workloads.eviction",
	"risk": "HIGH",
	"reason": concat(" ", ["evicting pod", object_ref]),
} if {
	is_write
	group == ""
	resource == "pods"
	subresource == "eviction"
}

# Binding places a pod on a node, bypassing the scheduler.
rule_findings contains {
	"rule": "workloads.binding",
	"risk": "HIGH",
	"reason": concat(" ", ["binding pod to a node:", object_ref]),
} if {
	is_write
	group == ""
	pod_binding
}

default pod_binding := false

pod_binding if {
	resource == "pods"
	subresource == "binding"
}

pod_binding if {
	resource == "bindings"
	subresource == ""
}

# Ephemeral (debug) containers run new code inside a running pod (kubectl debug).
rule_findings contains {
	"rule": "workloads.ephemeral_containers",
	"risk": "HIGH",
	"reason": concat(" ", ["adding an ephemeral container to pod", object_ref]),
} if {
	is_write
	group == ""
	resource == "pods"
	subresource == "ephemeralcontainers"
}

# Cordon, taints and labels on a node move workloads cluster-wide.
rule_findings contains {
	"rule": "workloads.node",
	"risk": "HIGH",
	"reason": concat(" ", ["change to node", object_ref]),
} if {
	is_change
	group == ""
	resource == "nodes"
}
