# A policy that decides nothing: evaluating it costs only moving the input into the
# wasm instance and the decision out. bench/policy-eval.mjs prints it as the floor.
package kubegate

decision := {
	"risk": "LOW",
	"reasons": ["empty policy"],
	"approvals": 0,
	"override_required": false,
	"dry_run_first": false,
	"deny": [],
}
