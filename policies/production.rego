# Production, system and kubegate's own namespaces.
package kubegate

# With block_production, any change in a production namespace may disrupt users.
rule_findings contains {
	"rule": "production.namespace",
	"risk": "HIGH",
	"reason": concat(" ", ["change in production namespace", namespace]),
} if {
	block_production
	is_write
	in_production_namespace
}

# ...and so does a change to the production Namespace object itself (labels such
# as pod-security enforcement, quotas via finalizers...).
rule_findings contains {
	"rule": "production.namespace_object",
	"risk": "HIGH",
	"reason": concat(" ", ["change to production Namespace", object_name]),
} if {
	block_production
	is_write
	is_resource("", "namespaces")
	object_name in production_namespaces
}

# kube-system and friends run the cluster itself.
rule_findings contains {
	"rule": "production.system_namespace",
	"risk": "HIGH",
	"reason": concat(" ", ["change in system namespace", namespace]),
} if {
	is_write
	namespace != ""
	namespace in system_namespaces
}

# kubegate's own namespace holds its config, keys and pending approvals.
rule_findings contains {
	"rule": "production.kubegate_namespace",
	"risk": "HIGH",
	"reason": concat(" ", ["change to kubegate's own namespace", kubegate_namespace]),
} if touches_kubegate_namespace

default touches_kubegate_namespace := false

touches_kubegate_namespace if {
	is_write
	namespace == kubegate_namespace
}

touches_kubegate_namespace if {
	is_connect
	namespace == kubegate_namespace
}

touches_kubegate_namespace if {
	is_write
	is_resource("", "namespaces")
	object_name == kubegate_namespace
}

# A cluster labelled as production (kubegate's `clusters[].labels`): every change there may
# disrupt users, whatever its namespace.
rule_findings contains {
	"rule": "production.cluster",
	"risk": "HIGH",
	"reason": concat(" ", ["change on production cluster", cluster_name]),
} if {
	block_production
	is_write
	in_production_cluster
}

# Reaching into a running container there is HIGH too (as in a production namespace).
rule_findings contains {
	"rule": "production.cluster_connect",
	"risk": "HIGH",
	"reason": concat(" ", ["exec/attach/port-forward on production cluster", cluster_name]),
} if {
	is_connect
	in_production_cluster
}

production_cluster_labels := {"production", "prod"}

default in_production_cluster := false

in_production_cluster if object.get(input, ["cluster", "labels", "env"], "") in production_cluster_labels

cluster_name := object.get(input, ["cluster", "name"], "")
