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
	is_resource("", {"namespaces"})
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
	is_resource("", {"namespaces"})
	object_name == kubegate_namespace
}
