package kubegate_test

test_reads_resource_positive if {
	every v in ["get", "list", "watch"] {
		fired("reads.resource", req_input({"verb": v, "resource": "secrets", "namespace": "default"}, null))
		risk_of(req_input({"verb": v, "resource": "secrets", "namespace": "default"}, null)) == "LOW"
	}
}

test_reads_resource_pod_logs if {
	fired("reads.resource", req_input({"verb": "get", "resource": "pods", "subresource": "log", "namespace": "default", "name": "x"}, null))
}

test_reads_resource_negative if {
	not fired("reads.resource", req_input({"verb": "create", "resource": "pods", "namespace": "default"}, null))

	# a connect subresource is never a read, whatever the verb says
	not fired("reads.resource", req_input({"verb": "get", "resource": "pods", "subresource": "exec", "namespace": "default", "name": "x"}, null))
}

test_reads_nonresource_positive if {
	every m in ["get", "head", "options"] {
		inp := req_input({"verb": m, "resource": "", "version": "", "path": "/version", "resourceRequest": false}, null)
		fired("reads.nonresource", inp)
		risk_of(inp) == "LOW"
	}
}

test_reads_nonresource_discovery if {
	risk_of(req_input({"verb": "get", "version": "", "path": "/apis", "resourceRequest": false}, null)) == "LOW"
}

test_reads_nonresource_negative if {
	not fired("reads.nonresource", req_input({"verb": "post", "path": "/version", "resourceRequest": false}, null))
	not fired("reads.nonresource", req_input({"verb": "get", "resource": "pods"}, null))
}

test_reads_review_query_positive if {
	every q in [
		["authentication.k8s.io", "selfsubjectreviews"],
		["authentication.k8s.io", "tokenreviews"],
		["authorization.k8s.io", "selfsubjectaccessreviews"],
		["authorization.k8s.io", "selfsubjectrulesreviews"],
		["authorization.k8s.io", "subjectaccessreviews"],
		["authorization.k8s.io", "localsubjectaccessreviews"],
	] {
		inp := req_input({"verb": "create", "group": q[0], "resource": q[1]}, {"spec": {}})
		fired("reads.review_query", inp)
		risk_of(inp) == "LOW"
	}
}

test_reads_review_query_in_production_namespace_is_low if {
	# kubectl auth can-i -n production: a LocalSubjectAccessReview stores nothing.
	inp := req_input({"verb": "create", "group": "authorization.k8s.io", "resource": "localsubjectaccessreviews", "namespace": "production"}, {"spec": {}})
	risk_of(inp) == "LOW"
}

test_reads_review_query_negative if {
	# same resource name in another group (a CRD) gets no pass
	not fired("reads.review_query", req_input({"verb": "create", "group": "example.com", "resource": "selfsubjectreviews"}, null))

	# only create is a query
	not fired("reads.review_query", req_input({"verb": "delete", "group": "authentication.k8s.io", "resource": "tokenreviews"}, null))
}

test_reads_nonresource_write_positive if {
	every m in ["post", "put", "patch", "delete"] {
		inp := req_input({"verb": m, "version": "", "path": "/logs/x", "resourceRequest": false}, null)
		fired("reads.nonresource_write", inp)
		risk_of(inp) == "HIGH"
	}
}

test_reads_nonresource_write_reason if {
	reasons_of(req_input({"verb": "post", "version": "", "path": "/foo", "resourceRequest": false}, null)) == ["non-resource write: POST /foo"]
}

test_reads_nonresource_write_negative if {
	not fired("reads.nonresource_write", req_input({"verb": "get", "path": "/healthz", "resourceRequest": false}, null))

	# a resource delete is not a non-resource write
	not fired("reads.nonresource_write", req_input({"verb": "delete", "resource": "pods", "name": "x"}, null))
}
