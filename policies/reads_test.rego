package kubegate_test

import data.kubegate

test_reads_resource_positive if {
	every v in ["get", "list", "watch"] {
		r := result with input as req_input({"verb": v, "resource": "secrets", "namespace": "default"}, null)
		fired("reads.resource", r)
		r.decision.risk == "LOW"
	}
}

test_reads_resource_pod_logs if {
	r := result with input as req_input({"verb": "get", "resource": "pods", "subresource": "log", "namespace": "default", "name": "x"}, null)
	fired("reads.resource", r)
}

test_reads_resource_negative if {
	r1 := result with input as req_input({"verb": "create", "resource": "pods", "namespace": "default"}, null)
	not fired("reads.resource", r1)

	# a connect subresource is never a read, whatever the verb says
	r2 := result with input as req_input({"verb": "get", "resource": "pods", "subresource": "exec", "namespace": "default", "name": "x"}, null)
	not fired("reads.resource", r2)
}

test_reads_nonresource_positive if {
	every m in ["get", "head", "options"] {
		r := result with input as req_input({"verb": m, "version": "", "path": "/version", "resourceRequest": false}, null)
		fired("reads.nonresource", r)
		r.decision.risk == "LOW"
	}
}

test_reads_nonresource_discovery if {
	d := kubegate.decision with input as req_input({"verb": "get", "version": "", "path": "/apis", "resourceRequest": false}, null)
	d.risk == "LOW"
}

test_reads_nonresource_negative if {
	r1 := result with input as req_input({"verb": "post", "path": "/version", "resourceRequest": false}, null)
	not fired("reads.nonresource", r1)
	r2 := result with input as req_input({"verb": "get", "resource": "pods"}, null)
	not fired("reads.nonresource", r2)
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
		r := result with input as req_input({"verb": "create", "group": q[0], "resource": q[1]}, {"spec": {}})
		fired("reads.review_query", r)
		r.decision.risk == "LOW"
	}
}

test_reads_review_query_in_production_namespace_is_low if {
	# kubectl auth can-i -n production: a LocalSubjectAccessReview stores nothing
	d := kubegate.decision with input as req_input({"verb": "create", "group": "authorization.k8s.io", "resource": "localsubjectaccessreviews", "namespace": "production"}, {"spec": {}})
	d.risk == "LOW"
}

test_reads_review_query_negative if {
	# the same resource name in another group (a CRD) gets no pass
	r1 := result with input as req_input({"verb": "create", "group": "example.com", "resource": "selfsubjectreviews"}, null)
	not fired("reads.review_query", r1)
	r1.decision.risk == "MEDIUM"

	# only create is a query
	r2 := result with input as req_input({"verb": "delete", "group": "authentication.k8s.io", "resource": "tokenreviews"}, null)
	not fired("reads.review_query", r2)
}

test_reads_nonresource_write_positive if {
	every m in ["post", "put", "patch", "delete"] {
		r := result with input as req_input({"verb": m, "version": "", "path": "/logs/x", "resourceRequest": false}, null)
		fired("reads.nonresource_write", r)
		r.decision.risk == "HIGH"
	}
}

test_reads_nonresource_write_reason if {
	d := kubegate.decision with input as req_input({"verb": "post", "version": "", "path": "/foo", "resourceRequest": false}, null)
	d.reasons == ["non-resource write: POST /foo"]
}

test_reads_nonresource_write_negative if {
	r1 := result with input as req_input({"verb": "get", "path": "/healthz", "resourceRequest": false}, null)
	not fired("reads.nonresource_write", r1)

	# a resource delete is not a non-resource write
	r2 := result with input as req_input({"verb": "delete", "resource": "pods", "name": "x"}, null)
	not fired("reads.nonresource_write", r2)
}
