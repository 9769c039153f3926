# Shared view of the policy input, used by every concern file.
#
# The input comes from kubegate's parser and may have null, absent or wrongly typed
# fields (and may even be {}). Everything here is normalized once so the rules can
# compare plainly: strings default to "", objects to {}, the body to null.
#
# Cost note: the compiled (wasm) policy remembers a rule's value within one
# evaluation, but only when the rule is defined. A yes/no rule without a default
# is undefined when false and is then evaluated again at every use (is_write is
# used by ~30 rules), so every such rule here has `default ... := false`.
package kubegate

# --- raw parts ----------------------------------------------------------------

default req := {}

req := input.request if is_object(input.request)

default user := {}

user := input.user if is_object(input.user)

default config := {}

config := input.config if is_object(input.config)

# The request body: an object, a JSON-patch op array, DeleteOptions or null.
default obj := null

obj := input.object

# The live object for update/patch/delete, when it exists.
default old_obj := null

old_obj := input.oldObject

# str(o, key) is o[key] when that is a string, else "".
str(o, key) := v if {
	v := o[key]
	is_string(v)
} else := ""

# --- request fields -----------------------------------------------------------

verb := lower(str(req, "verb"))

group := str(req, "group")

resource := str(req, "resource")

subresource := str(req, "subresource")

namespace := str(req, "namespace")

name := str(req, "name")

path := str(req, "path")

username := str(user, "username")

user_groups contains g if {
	some g in user.groups
	is_string(g)
}

# --- kinds of request -----------------------------------------------------------

default non_resource := false

# Non-resource URLs (/version, /healthz, discovery). When the parser does not say,
# a request without a resource is taken as non-resource.
non_resource if req.resourceRequest == false

non_resource if {
	not is_boolean(req.resourceRequest)
	resource == ""
}

default resource_request := false

resource_request if not non_resource

# The kinds of request below are decided for every request, so they test membership
# with a lookup, write_verbs[verb]: one hash probe in the compiled policy, where
# `verb in write_verbs` compares against each element in turn.
read_verbs := {"get", "list", "watch"}

write_verbs := {"create", "update", "patch", "delete", "deletecollection"}

# Non-resource requests carry the lowercase HTTP method as verb.
nonresource_read_methods := {"get", "head", "options"}

nonresource_write_methods := {"post", "put", "patch", "delete"}

# Subresources that open a stream into a pod, service or node. The parser uses
# verb "connect" for them; the subresource is checked too so that a differently
# spelled verb never makes an exec look like a read.
connect_subresources := {"exec", "attach", "portforward", "proxy"}

default is_connect := false

is_connect if {
	resource_request
	verb == "connect"
}

is_connect if {
	resource_request
	connect_subresources[subresource]
}

default is_read := false

is_read if {
	resource_request
	read_verbs[verb]
	not is_connect
}

default is_nonresource_read := false

is_nonresource_read if {
	non_resource
	verb in nonresource_read_methods
}

default is_nonresource_write := false

is_nonresource_write if {
	non_resource
	verb in nonresource_write_methods
}

# "create" of these only asks the API server a question (kubectl auth whoami / can-i);
# nothing is stored. The group is checked so a CRD of the same name gets no pass.
# (One rule per group: a lookup builds only that group's set.)
review_queries["authentication.k8s.io"] := {"selfsubjectreviews", "tokenreviews"}

review_queries["authorization.k8s.io"] := {
	"selfsubjectaccessreviews",
	"selfsubjectrulesreviews",
	"subjectaccessreviews",
	"localsubjectaccessreviews",
}

default is_review_query := false

is_review_query if {
	resource_request
	verb == "create"
	subresource == ""
	review_queries[group][resource]
}

default is_write := false

# Any request that changes stored state.
is_write if {
	resource_request
	write_verbs[verb]
	not is_review_query
}

default is_change := false

# A write that carries an object or patch (so not a delete).
is_change if {
	is_write
	verb in {"create", "update", "patch"}
}

default is_update := false

# A change to an existing object.
is_update if {
	is_write
	verb in {"update", "patch"}
}

default is_delete := false

# A delete of one object or of a whole collection.
is_delete if {
	is_write
	verb in {"delete", "deletecollection"}
}

# is_resource(g, r): the request is on the main resource (no subresource) r in API
# group g. Pass one resource name: it is compared by equality, where a set argument
# would be built anew at every call, for every request (several resources: one rule
# body each). A set of names still works, for policies written against the older form.
is_resource(g, r) if {
	group == g
	resource == r
	subresource == ""
}

is_resource(g, rs) if {
	is_set(rs)
	group == g
	resource in rs
	subresource == ""
}

# --- configuration --------------------------------------------------------------

# Built-in defaults, identical to policies/data.json (a test keeps them equal), so the
# policy still decides sensibly when the host evaluates the wasm without its data.
# One rule per key, so that looking up one default builds only that one.
builtin_defaults.production_namespaces := ["production", "prod", "live"]

builtin_defaults.block_production := true

builtin_defaults.system_namespaces := ["kube-system", "kube-public", "kube-node-lease"]

builtin_defaults.kubegate_namespace := "kubegate-system"

builtin_defaults.agent_users := ["agent"]

builtin_defaults.agent_groups := ["kubegate:agents"]

builtin_defaults.agent_user_prefixes := ["system:serviceaccount:agents:"]

builtin_defaults.namespace_approver_groups := {}

builtin_defaults.critical_approver_groups := []

builtin_defaults.rule_modes := {}

default data_defaults := {}

data_defaults := data.kubegate.defaults if is_object(data.kubegate.defaults)

# default_setting(key): data.kubegate.defaults merged over the built-in defaults, for
# one key (what object.union(builtin_defaults, data_defaults)[key] is). Looked up per
# key so that a request needing one setting does not build and merge them all.
default_setting(key) := object.union(builtin_defaults[key], v) if {
	v := data_defaults[key]
	is_object(v)
	is_object(builtin_defaults[key])
} else := v if {
	v := data_defaults[key]
} else := builtin_defaults[key]

# All defaults merged, for policies that read them whole (the rules here use default_setting).
effective_defaults := object.union(builtin_defaults, data_defaults)

# setting(key): input.config[key] when present and of the default's type, else the
# default. A malformed config value never weakens the policy silently.
setting(key) := checked_setting(key, default_setting(key))

checked_setting(key, d) := v if {
	v := config[key]
	type_name(v) == type_name(d)
} else := d

string_set(key) := {s | some s in setting(key); is_string(s)}

production_namespaces := string_set("production_namespaces")

system_namespaces := string_set("system_namespaces")

default block_production := false

block_production if setting("block_production") == true

kubegate_namespace := setting("kubegate_namespace")

agent_users := string_set("agent_users")

agent_groups := string_set("agent_groups")

agent_user_prefixes := string_set("agent_user_prefixes")

default in_production_namespace := false

in_production_namespace if {
	namespace != ""
	namespace in production_namespaces
}

# --- describing the target, for reasons -------------------------------------------

# "deployments.apps", or "pods" for the core group.
qualified_resource := resource if {
	group == ""
} else := concat(".", [resource, group])

# The object's name: from the URL, or for a create from the body.
object_name := name if {
	name != ""
} else := n if {
	n := obj.metadata.name
	is_string(n)
} else := ""

# "default/api", "api" (cluster-scoped), "in namespace default" (collections) or "".
object_ref := concat("/", [namespace, object_name]) if {
	namespace != ""
	object_name != ""
} else := object_name if {
	object_name != ""
} else := concat(" ", ["in namespace", namespace]) if {
	namespace != ""
} else := ""

# "deployments.apps/scale default/api"
target := trim_space(concat(" ", [resource_label, object_ref]))

resource_label := concat("/", [qualified_resource, subresource]) if {
	subresource != ""
} else := qualified_resource

# --- what the body sets -------------------------------------------------------------

# assignments: every [path, value] the request body sets, whatever its format.
# Objects (create/update bodies, merge, strategic-merge and apply patches) are walked
# whole; a JSON patch contributes each add/replace op's target path joined with every
# path inside its value. So a rule can ask "does this request set spec.replicas?"
# without caring how the client spelled the change.
assignments contains [p, shallow(v)] if {
	not is_array(obj)
	walk(obj, [p, v])
}

assignments contains [array.concat(base, q), shallow(v)] if {
	is_array(obj)
	some op in obj
	op.op in {"add", "replace"}
	base := pointer_segments(op.path)
	walk(op.value, [q, v])
}

# Containers are kept as empty stubs: rules test their type, never their content (the
# content is walked anyway), and a set of whole subtrees is expensive to build and hash.
shallow(v) := {} if {
	is_object(v)
} else := [] if {
	is_array(v)
} else := v

# assignments indexed by the last key of their path, built in one pass.
assigned_at[k] contains [p, v] if {
	some [p, v] in assignments
	count(p) > 0
	k := last_key(p)
}

# RFC 6901 JSON pointer → path segments ("~1" is "/", "~0" is "~").
pointer_segments(ptr) := [] if {
	ptr == ""
} else := [unescape_pointer(s) | some s in split(trim_prefix(ptr, "/"), "/")]

unescape_pointer(s) := replace(replace(s, "~1", "/"), "~0", "~")

# The last key of a path. (Not p[count(p) - 1]: arithmetic in the compiled policy is
# arbitrary-precision decimal and costs far more than reversing a short array.)
last_key(p) := array.reverse(p)[0]

# old_value(p): the live object's value at path p, or null.
old_value(p) := v if {
	is_object(old_obj)
	v := object.get(old_obj, p, null)
} else := null
