# Input builders and assertions shared by every *_test.rego.
package kubegate_test

import data.kubegate

human := {"username": "alice", "uid": "", "groups": ["system:authenticated"], "extra": {}}

agent := {"username": "agent", "uid": "", "groups": ["system:authenticated"], "extra": {}}

no_impersonation := {"user": null, "uid": null, "groups": [], "extra": {}}

base_request := {
	"verb": "get",
	"group": "",
	"version": "v1",
	"resource": "",
	"subresource": "",
	"namespace": "",
	"name": "",
	"dryRun": false,
	"path": "",
	"query": {},
	"contentType": "",
	"resourceRequest": true,
	"impersonate": no_impersonation,
}

# A resource request by a human (alice): r overrides request fields, o is the body.
req_input(r, o) := {
	"request": object.union(base_request, r),
	"user": human,
	"object": o,
	"oldObject": null,
	"config": {},
}

# The same request sent by the "agent" user.
as_agent(inp) := object.union(inp, {"user": agent})

# The same request with a live object.
with_old(inp, old) := object.union(inp, {"oldObject": old})

# The same request with input.config values.
with_config(inp, c) := object.union(inp, {"config": c})

# A pod spec wrapped as a Deployment create in namespace default.
deployment_with(pod_spec) := req_input(
	{"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default"},
	{
		"apiVersion": "apps/v1",
		"kind": "Deployment",
		"metadata": {"name": "api"},
		"spec": {"replicas": 1, "template": {"spec": pod_spec}},
	},
)

# Everything a test looks at, for one input. Use it as
#   r := result with input as inp
# (helpers below are pure functions of r: a function that itself applies `with`
# breaks `opa build -t wasm` of this directory.)
result := {
	"decision": kubegate.decision,
	"findings": kubegate.findings,
	"settings": kubegate.security_settings,
}

# fired(rule, r): the rule contributed a finding to result r.
fired(rule, r) if {
	some f in r.findings
	f.rule == rule
}

# is_resource takes one resource name, or (the older form) a set of names.
test_is_resource_name_or_set if {
	inp := req_input({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default"}, {})
	kubegate.is_resource("apps", "deployments") with input as inp
	kubegate.is_resource("apps", {"statefulsets", "deployments"}) with input as inp
	not kubegate.is_resource("apps", "statefulsets") with input as inp
	not kubegate.is_resource("apps", {"statefulsets"}) with input as inp
	not kubegate.is_resource("", "deployments") with input as inp
	sub := req_input({"verb": "patch", "group": "apps", "resource": "deployments", "subresource": "scale"}, {})
	not kubegate.is_resource("apps", "deployments") with input as sub
	not kubegate.is_resource("apps", {"deployments"}) with input as sub
}
