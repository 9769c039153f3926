package kubegate_test

test_network_policy_positive if {
	every v in ["create", "update", "patch"] {
		r := result with input as req_input({"verb": v, "group": "networking.k8s.io", "resource": "networkpolicies", "namespace": "default", "name": "np"}, {"spec": {}})
		fired("network.policy", r)
		r.decision.risk == "HIGH"
	}
	anp := result with input as req_input({"verb": "create", "group": "policy.networking.k8s.io", "resource": "adminnetworkpolicies"}, null)
	fired("network.policy", anp)
}

test_network_policy_negative if {
	r := result with input as req_input({"verb": "list", "group": "networking.k8s.io", "resource": "networkpolicies"}, null)
	not fired("network.policy", r)
}

ingress := {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"}, "spec": {"rules": [{"host": "a.example.com"}]}}

test_network_ingress_positive if {
	r1 := result with input as req_input({"verb": "create", "group": "networking.k8s.io", "resource": "ingresses", "namespace": "default"}, ingress)
	fired("network.ingress", r1)
	r1.decision.risk == "HIGH"
	r2 := result with input as req_input({"verb": "patch", "group": "gateway.networking.k8s.io", "resource": "httproutes", "namespace": "default", "name": "r"}, {})
	fired("network.ingress", r2)
}

test_network_ingress_negative if {
	r1 := result with input as req_input({"verb": "get", "group": "networking.k8s.io", "resource": "ingresses", "namespace": "default"}, null)
	not fired("network.ingress", r1)
	r2 := result with input as req_input({"verb": "create", "group": "extensions.example.com", "resource": "ingresses", "namespace": "default"}, null)
	not fired("network.ingress", r2)
}

test_network_ingress_tls_positive if {
	with_tls := object.union(ingress, {"spec": {"tls": [{"hosts": ["a.example.com"], "secretName": "web-tls"}]}})
	r1 := result with input as req_input({"verb": "create", "group": "networking.k8s.io", "resource": "ingresses", "namespace": "default"}, with_tls)
	fired("network.ingress_tls", r1)
	"Ingress TLS change: ingresses.networking.k8s.io default/web" in r1.decision.reasons
	r2 := result with input as req_input(
		{"verb": "patch", "group": "networking.k8s.io", "resource": "ingresses", "namespace": "default", "name": "web"},
		[{"op": "add", "path": "/spec/tls/-", "value": {"secretName": "other"}}],
	)
	fired("network.ingress_tls", r2)
}

test_network_ingress_tls_negative if {
	r := result with input as req_input({"verb": "create", "group": "networking.k8s.io", "resource": "ingresses", "namespace": "default"}, ingress)
	not fired("network.ingress_tls", r)
}

test_network_service_exposure_positive if {
	every t in ["LoadBalancer", "NodePort"] {
		r := result with input as with_old(
			req_input({"verb": "patch", "resource": "services", "namespace": "default", "name": "web"}, {"spec": {"type": t}}),
			{"spec": {"type": "ClusterIP"}},
		)
		fired("network.service_exposure", r)
		r.decision.risk == "HIGH"
	}
}

test_network_service_exposure_negative if {
	# already a LoadBalancer: an unchanged type is no new exposure
	lb := {"metadata": {"name": "web"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
	r1 := result with input as with_old(req_input({"verb": "update", "resource": "services", "namespace": "default", "name": "web"}, lb), lb)
	not fired("network.service_exposure", r1)
	r1.decision.risk == "MEDIUM"
	r2 := result with input as req_input({"verb": "create", "resource": "services", "namespace": "default"}, {"spec": {"type": "ClusterIP"}})
	not fired("network.service_exposure", r2)
}

test_network_service_external_ip_positive if {
	r := result with input as req_input({"verb": "create", "resource": "services", "namespace": "default"}, {"metadata": {"name": "web"}, "spec": {"externalIPs": ["203.0.113.7"]}})
	fired("network.service_external_ip", r)
	r.decision.risk == "HIGH"
	r.decision.reasons == ["Service default/web gets external IP 203.0.113.7"]
}

test_network_service_external_ip_negative if {
	svc := {"metadata": {"name": "web"}, "spec": {"externalIPs": ["203.0.113.7"]}}
	r := result with input as with_old(req_input({"verb": "update", "resource": "services", "namespace": "default", "name": "web"}, svc), svc)
	not fired("network.service_external_ip", r)
}

# ingress is two rule bodies, one per resource: both resources count, their subresources do not.
test_network_ingress_each_resource if {
	every res in ["ingresses", "ingressclasses"] {
		r := result with input as req_input({"verb": "create", "group": "networking.k8s.io", "resource": res, "name": "x"}, {})
		fired("network.ingress", r)
	}
	s := result with input as req_input({"verb": "patch", "group": "networking.k8s.io", "resource": "ingresses", "subresource": "status", "namespace": "default", "name": "web"}, {})
	not fired("network.ingress", s)
}
