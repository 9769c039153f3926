package kubegate_test

container(sc) := {"name": "app", "image": "nginx", "securityContext": sc}

# Each security setting, in a Deployment's pod template, with the text it reports.
test_security_settings_positive if {
	every c in [
		[{"containers": [container({"privileged": true})]}, "privileged=true"],
		[{"containers": [container({"allowPrivilegeEscalation": true})]}, "allowPrivilegeEscalation=true"],
		[{"hostNetwork": true, "containers": []}, "hostNetwork=true"],
		[{"hostPID": true, "containers": []}, "hostPID=true"],
		[{"hostIPC": true, "containers": []}, "hostIPC=true"],
		[{"automountServiceAccountToken": true, "containers": []}, "automountServiceAccountToken=true"],
		[{"securityContext": {"runAsUser": 0}, "containers": []}, "runAsUser=0"],
		[{"containers": [container({"runAsNonRoot": false})]}, "runAsNonRoot=false"],
		[{"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}, "hostPath volume"],
		[{"containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 80}]}]}, "hostPort"],
		[{"containers": [container({"capabilities": {"add": ["SYS_ADMIN"]}})]}, "capabilities.add SYS_ADMIN"],
		[{"serviceAccountName": "deployer", "containers": []}, "serviceAccountName=deployer"],
	] {
		r := result with input as deployment_with(c[0])
		fired("security.settings", r)
		r.decision.risk == "HIGH"
		c[1] in r.settings
	}
}

test_security_settings_negative if {
	every spec in [
		{"containers": [container({"privileged": false, "allowPrivilegeEscalation": false, "runAsNonRoot": true, "runAsUser": 1000})]},
		{"hostNetwork": false, "automountServiceAccountToken": false, "containers": []},
		{"volumes": [{"name": "tmp", "emptyDir": {}}]},
		{"containers": [container({"capabilities": {"drop": ["ALL"]}})]},
		{"serviceAccountName": "default", "containers": []},
	] {
		r := result with input as deployment_with(spec)
		not fired("security.settings", r)
		r.decision.risk == "MEDIUM"
	}
}

test_security_settings_in_strategic_merge_patch if {
	r := result with input as req_input(
		{"verb": "patch", "group": "apps", "resource": "daemonsets", "namespace": "default", "name": "agent", "contentType": "application/strategic-merge-patch+json"},
		{"spec": {"template": {"spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}}}},
	)
	fired("security.settings", r)
	r.decision.reasons == ["security setting privileged=true in daemonsets.apps default/agent"]
}

test_security_settings_in_json_patch if {
	every c in [
		[{"op": "replace", "path": "/spec/template/spec/hostNetwork", "value": true}, "hostNetwork=true"],
		[{"op": "add", "path": "/spec/template/spec/volumes/-", "value": {"name": "r", "hostPath": {"path": "/"}}}, "hostPath volume"],
		[{"op": "add", "path": "/spec/template/spec/containers/0/securityContext/capabilities/add/-", "value": "NET_ADMIN"}, "capabilities.add NET_ADMIN"],
		[{"op": "add", "path": "/spec/template/spec/containers/0/securityContext", "value": {"capabilities": {"add": ["NET_RAW"]}}}, "capabilities.add NET_RAW"],
		[{"op": "replace", "path": "", "value": {"spec": {"hostPID": true}}}, "hostPID=true"],
	] {
		r := result with input as req_input({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api", "contentType": "application/json-patch+json"}, [c[0]])
		c[1] in r.settings
		r.decision.risk == "HIGH"
	}
}

test_security_settings_removals_are_not_settings if {
	# a JSON-patch remove, or a merge-patch null, takes a setting away
	r1 := result with input as req_input({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, [{"op": "remove", "path": "/spec/template/spec/hostNetwork"}])
	not fired("security.settings", r1)
	r2 := result with input as req_input({"verb": "patch", "resource": "pods", "namespace": "default", "name": "x"}, {"spec": {"hostNetwork": null}})
	not fired("security.settings", r2)
}

test_security_settings_service_account_unchanged if {
	old := {"metadata": {"name": "api"}, "spec": {"template": {"spec": {"serviceAccountName": "deployer"}}}}
	r1 := result with input as with_old(req_input({"verb": "update", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, old), old)
	not fired("security.settings", r1)
	changed := {"metadata": {"name": "api"}, "spec": {"template": {"spec": {"serviceAccountName": "admin"}}}}
	r2 := result with input as with_old(req_input({"verb": "update", "group": "apps", "resource": "deployments", "namespace": "default", "name": "api"}, changed), old)
	fired("security.settings", r2)
}

test_security_settings_not_for_reads_or_string_data if {
	r1 := result with input as req_input({"verb": "get", "resource": "pods", "namespace": "default", "name": "x"}, {"spec": {"hostNetwork": true}})
	not fired("security.settings", r1)

	# ConfigMap values are data, not settings
	r2 := result with input as req_input({"verb": "create", "resource": "configmaps", "namespace": "default"}, {"data": {"privileged": "true", "serviceAccountName": "x"}})
	not fired("security.settings", r2)
	r2.decision.risk == "MEDIUM"
}

test_security_admission_positive if {
	every res in ["mutatingwebhookconfigurations", "validatingwebhookconfigurations", "validatingadmissionpolicies", "validatingadmissionpolicybindings", "mutatingadmissionpolicies"] {
		r := result with input as req_input({"verb": "create", "group": "admissionregistration.k8s.io", "resource": res}, {"metadata": {"name": "w"}})
		fired("security.admission", r)
		r.decision.risk == "CRITICAL"
	}
}

test_security_admission_negative if {
	r := result with input as req_input({"verb": "list", "group": "admissionregistration.k8s.io", "resource": "mutatingwebhookconfigurations"}, null)
	not fired("security.admission", r)
}

test_security_crd_delete_positive if {
	r := result with input as req_input({"verb": "delete", "group": "apiextensions.k8s.io", "resource": "customresourcedefinitions", "name": "widgets.example.com"}, null)
	fired("security.crd_delete", r)
	r.decision.risk == "CRITICAL"
}

test_security_crd_delete_negative if {
	r := result with input as req_input({"verb": "create", "group": "apiextensions.k8s.io", "resource": "customresourcedefinitions"}, {"metadata": {"name": "widgets.example.com"}})
	not fired("security.crd_delete", r)
}

test_security_crd_change_positive if {
	every v in ["create", "update", "patch"] {
		r := result with input as req_input({"verb": v, "group": "apiextensions.k8s.io", "resource": "customresourcedefinitions", "name": "widgets.example.com"}, {"spec": {}})
		fired("security.crd_change", r)
		r.decision.risk == "HIGH"
	}
}

test_security_crd_change_negative if {
	r1 := result with input as req_input({"verb": "delete", "group": "apiextensions.k8s.io", "resource": "customresourcedefinitions", "name": "w"}, null)
	not fired("security.crd_change", r1)
	r2 := result with input as req_input({"verb": "get", "group": "apiextensions.k8s.io", "resource": "customresourcedefinitions", "name": "w"}, null)
	not fired("security.crd_change", r2)
}

test_security_apiservice_positive if {
	r := result with input as req_input({"verb": "create", "group": "apiregistration.k8s.io", "resource": "apiservices"}, {"metadata": {"name": "v1beta1.metrics.k8s.io"}})
	fired("security.apiservice", r)
	r.decision.risk == "HIGH"
}

test_security_apiservice_negative if {
	r := result with input as req_input({"verb": "list", "group": "apiregistration.k8s.io", "resource": "apiservices"}, null)
	not fired("security.apiservice", r)
}

test_security_csr_positive if {
	r := result with input as req_input({"verb": "create", "group": "certificates.k8s.io", "resource": "certificatesigningrequests"}, {"metadata": {"name": "bob"}, "spec": {"signerName": "kubernetes.io/kube-apiserver-client"}})
	fired("security.csr", r)
	r.decision.risk == "HIGH"
}

test_security_csr_negative if {
	r1 := result with input as req_input({"verb": "update", "group": "certificates.k8s.io", "resource": "certificatesigningrequests", "subresource": "approval", "name": "bob"}, null)
	not fired("security.csr", r1)
	r2 := result with input as req_input({"verb": "get", "group": "certificates.k8s.io", "resource": "certificatesigningrequests", "name": "bob"}, null)
	not fired("security.csr", r2)
}

test_security_csr_approval_positive if {
	# kubectl certificate approve bob
	r := result with input as req_input({"verb": "update", "group": "certificates.k8s.io", "resource": "certificatesigningrequests", "subresource": "approval", "name": "bob"}, {"status": {"conditions": [{"type": "Approved", "status": "True"}]}})
	fired("security.csr_approval", r)
	r.decision.risk == "CRITICAL"
}

test_security_csr_approval_negative if {
	r := result with input as req_input({"verb": "create", "group": "certificates.k8s.io", "resource": "certificatesigningrequests"}, null)
	not fired("security.csr_approval", r)
}

test_security_cert_manager_positive if {
	every res in ["certificates", "issuers", "clusterissuers"] {
		r := result with input as req_input({"verb": "create", "group": "cert-manager.io", "resource": res, "namespace": "default"}, {"metadata": {"name": "c"}})
		fired("security.cert_manager", r)
		r.decision.risk == "HIGH"
	}
}

test_security_cert_manager_negative if {
	r := result with input as req_input({"verb": "list", "group": "cert-manager.io", "resource": "certificates"}, null)
	not fired("security.cert_manager", r)
}

test_security_settings_custom_resource_any_depth if {
	# a custom resource's schema is unknown: its body is searched at any depth
	r := result with input as req_input(
		{"verb": "create", "group": "argoproj.io", "resource": "rollouts", "namespace": "default"},
		{"metadata": {"name": "api"}, "spec": {"workload": {"pod": {"containers": [container({"privileged": true})]}}}},
	)
	fired("security.settings", r)
	"privileged=true" in r.settings
}

test_security_settings_known_kind_only_in_pod_spec if {
	# a Deployment field outside the pod spec is not in its schema: the API server drops it
	r := result with input as req_input(
		{"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default"},
		{"metadata": {"name": "api"}, "spec": {"extra": {"privileged": true}, "template": {"spec": {"containers": []}}}},
	)
	not fired("security.settings", r)
}

test_security_settings_every_pod_spec_location if {
	every c in [
		[{"verb": "create", "resource": "pods"}, {"spec": {"initContainers": [container({"privileged": true})]}}],
		[{"verb": "create", "resource": "podtemplates"}, {"template": {"spec": {"hostPID": true}}}],
		[{"verb": "create", "resource": "replicationcontrollers"}, {"spec": {"template": {"spec": {"hostNetwork": true}}}}],
		[{"verb": "create", "group": "batch", "resource": "jobs"}, {"spec": {"template": {"spec": {"ephemeralContainers": [container({"runAsUser": 0})]}}}}],
		[{"verb": "create", "group": "batch", "resource": "cronjobs"}, {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"volumes": [{"hostPath": {"path": "/"}}]}}}}}}],
		[{"verb": "patch", "group": "apps", "resource": "statefulsets", "name": "db"}, {"spec": {"template": {"spec": {"securityContext": {"windowsOptions": {"hostProcess": true}}}}}}],
	] {
		r := result with input as req_input(object.union({"namespace": "default"}, c[0]), c[1])
		fired("security.settings", r)
		r.decision.risk == "HIGH"
	}
}

test_security_json_patch_copy_positive if {
	every o in ["copy", "move"] {
		r := result with input as req_input(
			{"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "web", "contentType": "application/json-patch+json"},
			[{"op": o, "from": "/spec/template/spec/containers/0/tty", "path": "/spec/template/spec/hostNetwork"}],
		)
		fired("security.json_patch_copy", r)
		r.decision.risk == "HIGH"
	}
}

test_security_json_patch_copy_negative if {
	r := result with input as req_input(
		{"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default", "name": "web", "contentType": "application/json-patch+json"},
		[{"op": "replace", "path": "/spec/replicas", "value": 2}, {"op": "test", "path": "/spec/replicas", "value": 2}],
	)
	not fired("security.json_patch_copy", r)
}

# data_only is two rule bodies: Secret values are opaque data too (config.secret decides those).
test_security_settings_not_in_secret_data if {
	r := result with input as req_input({"verb": "create", "resource": "secrets", "namespace": "default"}, {"stringData": {"privileged": "true"}, "data": {"hostNetwork": true}})
	not fired("security.settings", r)
	fired("config.secret", r)

	# a Secret's subresource is not data_only
	s := result with input as req_input({"verb": "patch", "resource": "secrets", "subresource": "status", "namespace": "default", "name": "s"}, {"spec": {"privileged": true}})
	fired("security.settings", s)
}

test_security_crd_deletecollection if {
	r := result with input as req_input({"verb": "deletecollection", "group": "apiextensions.k8s.io", "resource": "customresourcedefinitions"}, null)
	fired("security.crd_delete", r)
	r.decision.risk == "CRITICAL"
}
