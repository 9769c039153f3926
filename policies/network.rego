# Network: NetworkPolicies, Ingress/Gateway (and TLS), Services exposed outside.
package kubegate

# NetworkPolicies (and admin network policies) open or cut traffic.
rule_findings contains {
	"rule": "network.policy",
	"risk": "HIGH",
	"reason": concat(" ", ["network policy change:", target]),
} if {
	is_write
	network_policy
}

default network_policy := false

network_policy if is_resource("networking.k8s.io", "networkpolicies")

network_policy if group == "policy.networking.k8s.io"

# Ingresses and Gateway API objects route outside traffic in.
rule_findings contains {
	"rule": "network.ingress",
	"risk": "HIGH",
	"reason": concat(" ", ["ingress change:", target]),
} if {
	is_write
	ingress
}

default ingress := false

ingress if is_resource("networking.k8s.io", "ingresses")

ingress if is_resource("networking.k8s.io", "ingressclasses")

ingress if group == "gateway.networking.k8s.io"

# TLS on an Ingress: certificates and hosts served to the outside.
rule_findings contains {
	"rule": "network.ingress_tls",
	"risk": "HIGH",
	"reason": concat(" ", ["Ingress TLS change:", target]),
} if {
	is_change
	is_resource("networking.k8s.io", "ingresses")
	some [p, _] in assignments
	count(p) >= 2
	p[0] == "spec"
	p[1] == "tls"
}

exposed_service_types := {"LoadBalancer", "NodePort"}

# A Service that becomes LoadBalancer/NodePort is reachable from outside.
rule_findings contains {
	"rule": "network.service_exposure",
	"risk": "HIGH",
	"reason": concat(" ", ["Service", object_ref, "exposed as", t]),
} if {
	is_change
	is_resource("", "services")
	some [p, t] in assignments
	p == ["spec", "type"]
	t in exposed_service_types
	t != old_value(p)
}

# externalIPs can capture traffic meant for any address (CVE-2020-8554).
rule_findings contains {
	"rule": "network.service_external_ip",
	"risk": "HIGH",
	"reason": concat(" ", ["Service", object_ref, "gets external IP", ip]),
} if {
	is_change
	is_resource("", "services")
	some [p, ip] in assignments
	count(p) >= 2
	p[0] == "spec"
	p[1] == "externalIPs"
	is_string(ip)
	not ip in old_external_ips
}

old_external_ips contains ip if {
	some ip in old_value(["spec", "externalIPs"])
}
