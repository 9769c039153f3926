# Reads, discovery, access-review queries, and non-resource writes.
package kubegate

# get/list/watch of anything, including pods/log. Dry-run plays no part anywhere:
# a request is classified like the real one.
rule_findings contains {"rule": "reads.resource", "risk": "LOW", "reason": "read-only request"} if is_read

# /version, /healthz, /api, /apis discovery and the like.
rule_findings contains {"rule": "reads.nonresource", "risk": "LOW", "reason": "read-only request"} if is_nonresource_read

# kubectl auth whoami / can-i: a create that stores nothing.
rule_findings contains {
	"rule": "reads.review_query",
	"risk": "LOW",
	"reason": concat(" ", ["access review query:", qualified_resource]),
} if is_review_query

# A write to a non-resource path is unusual and unknown in effect.
rule_findings contains {
	"rule": "reads.nonresource_write",
	"risk": "HIGH",
	"reason": concat(" ", ["non-resource write:", upper(verb), path]),
} if is_nonresource_write
